/**
 * `compare --out` where a comparison does not belong, or cannot write: one line, exit 2, and
 * nothing of the user's touched.
 */
import { spawn } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { numforgeInProcess, ROOT, STACK_TRACE, type CliResult } from "../cli/harness.ts";
import { writeIdxFixture } from "../compare/fixtures.ts";

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `numforge-adv-out-${label}-`));
const data = tmp("idx");
const flags = (out: string) =>
  ["compare", "--formats", "fp32", "--width", "3", "--epochs", "1", "--batch-size", "16", "--steps-per-epoch", "4", "--data", data, "--backend", "wasm", "--out", out];

/** Exit 2, one line on stderr matching `message`, nothing on stdout, no stack trace. */
function expectRefused(r: CliResult, message: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_TRACE);
  expect(r.stdout).toBe("");
}

beforeAll(() => {
  writeIdxFixture(data, 160, 32);
  chmodSync(data, 0o755); // readable by the unprivileged user of the read-only case
});

describe("compare refuses an --out that is no place for a comparison", () => {
  const listing = (dir: string) => readdirSync(dir).sort();

  it("empty (--out '' and --out=)", async () => {
    const before = listing(process.cwd());
    expectRefused(await numforgeInProcess(flags("")), /^--out: is empty; name a folder for the comparison/);
    expectRefused(await numforgeInProcess([...flags("x").slice(0, -2), "--out="]), /^--out: is empty/);
    expect(listing(process.cwd())).toEqual(before);
  });

  it("the current directory, home and the root", async () => {
    const before = listing(process.cwd());
    for (const [out, what] of [[".", "the current directory"], ["./", "the current directory"], [process.cwd(), "the current directory"], [homedir(), "your home folder"], ["/", "the root folder"]]) {
      expectRefused(await numforgeInProcess(flags(out)), new RegExp(`: is ${what}; a comparison writes results\\.json, reports, checkpoints and locks into its folder: name one of its own`));
    }
    expect(listing(process.cwd())).toEqual(before);
  });

  it("a file, and a path through a file", async () => {
    const file = join(tmp("file"), "notes.txt");
    writeFileSync(file, "mine");
    expectRefused(await numforgeInProcess(flags(file)), new RegExp(`^${file}: is a file, not a folder`));
    expectRefused(await numforgeInProcess(flags(join(file, "sub"))), /cannot write: a part of this path is a file, not a folder/);
    expect(readFileSync(file, "utf8")).toBe("mine");
  });

  it("a folder holding a report.md of someone else's (no results.json)", async () => {
    const dir = tmp("foreign");
    writeFileSync(join(dir, "report.md"), "my own report");
    expectRefused(await numforgeInProcess(flags(dir)), /holds report\.md but no results\.json: not a comparison folder, and these would be overwritten/);
    expect(readFileSync(join(dir, "report.md"), "utf8")).toBe("my own report");
    expect(listing(dir)).toEqual(["report.md"]);
  });
});

describe("a finished results folder made read-only", () => {
  it("is refused with one line saying why and what to do, and left as it was", async () => {
    const parent = tmp("readonly");
    chmodSync(parent, 0o755);
    const out = join(parent, "out");
    const first = await numforgeInProcess(flags(out));
    expect(first.code, first.stderr).toBe(0);
    const before = readFileSync(join(out, "results.json"), "utf8");
    const makeReadOnly = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) makeReadOnly(p);
        else chmodSync(p, 0o444);
      }
      chmodSync(dir, 0o555);
    };
    makeReadOnly(out);
    // Root writes through file modes: run the CLI as nobody then, as CI runs these tests as root.
    const asRoot = process.getuid?.() === 0;
    const r = await new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, ["bin/numforge.js", ...flags(out)], { cwd: ROOT, stdio: "pipe", ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b));
      child.stderr.on("data", (b: Buffer) => (stderr += b));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expectRefused(r, /^.*out\/locks\/results\.lock: cannot write: permission denied: the folder or a file in it is read-only for you; make it writable, or pass another --out$/m);
    expect(readFileSync(join(out, "results.json"), "utf8")).toBe(before);
    // Readable as it was: a copy of it is a comparison folder the same command finishes at once.
    const copy = join(tmp("copy"), "out");
    cpSync(out, copy, { recursive: true });
    for (const p of [copy, join(copy, "checkpoints"), join(copy, "locks")]) chmodSync(p, 0o755);
    chmodSync(join(copy, "results.json"), 0o644);
    chmodSync(join(copy, "report.md"), 0o644);
    chmodSync(join(copy, "report.html"), 0o644);
    const again = await numforgeInProcess(flags(copy));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("fp32 seed 0: already finished, skipped");
  }, 60_000);
});

describe("--shard", () => {
  it("must be I/N with 1 ≤ I ≤ N", async () => {
    for (const bad of ["0/3", "4/3", "1/0", "a/b", "2"]) {
      expectRefused(await numforgeInProcess([...flags(tmp("shard")), "--shard", bad]), /--shard must be I\/N with 1 ≤ I ≤ N/);
    }
  });
});
