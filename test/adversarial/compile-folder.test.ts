/**
 * Re-compiling into an existing folder (issue 15): only files numforge's own manifest lists are
 * replaced or removed, a look-alike manifest makes no folder a package, edits to package files
 * need --force, a run killed half-way is recovered, stale staging folders are cleaned, and
 * concurrent compiles into one folder serialize on its lock and leave a whole package.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { acquireLock, lockFileFor } from "../../src/io/lock.ts";
import { numforgeInProcess, STACK_TRACE } from "../cli/harness.ts";
import { numforgeAt, snapshot } from "./compile-support.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-compile-folder-"));
const compile = (out: string, ...flags: string[]) => numforgeInProcess(["compile", "int8", "--out", out, ...flags]);
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { generator: string; files: Record<string, string>; incomplete?: true };
const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid!;

/** Every file the manifest lists is there with its hash, and the package imports and runs. */
async function expectWholePackage(dir: string): Promise<void> {
  const manifest = manifestOf(dir);
  expect(manifest.incomplete).toBeUndefined();
  for (const [path, hash] of Object.entries(manifest.files)) expect(createHash("sha256").update(readFileSync(join(dir, path))).digest("hex"), path).toBe(hash);
  const pkg = await import(`${pathToFileURL(join(dir, "index.js")).href}?${Math.random()}`);
  expect([...pkg.encode(new Float32Array([1, -2, 127.6])).codes]).toEqual([1, 254, 127]);
  expect(readdirSync(dirname(dir)).filter((n) => n.startsWith(`${basename(dir)}.`))).toEqual([]); // no staging folder, no lock left
}

describe("re-compiling into a package", () => {
  it("keeps every file the user added, in the package's folders too; removes only the package files no longer needed", async () => {
    const out = join(root, "grown");
    expect((await compile(out, "--target", "js,wasm")).code).toBe(0);
    writeFileSync(join(out, "NOTES.md"), "my notes");
    writeFileSync(join(out, "wasm", "benchmark.txt"), "my timings");
    mkdirSync(join(out, ".git"));
    writeFileSync(join(out, ".git", "HEAD"), "ref: refs/heads/main");
    const result = await compile(out, "--target", "js");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readFileSync(join(out, "NOTES.md"), "utf8")).toBe("my notes");
    expect(readFileSync(join(out, "wasm", "benchmark.txt"), "utf8")).toBe("my timings");
    expect(readFileSync(join(out, ".git", "HEAD"), "utf8")).toBe("ref: refs/heads/main");
    expect(existsSync(join(out, "wasm", "binary.js"))).toBe(false);
    expect(Object.keys(manifestOf(out).files).some((f) => f.startsWith("wasm/"))).toBe(false);
    await expectWholePackage(out);
    // A folder the old package had and that holds nothing of the user's goes with it.
    expect((await compile(out, "--target", "js,wasm")).code).toBe(0);
    expect((await compile(out, "--target", "js")).code).toBe(0);
    expect(readdirSync(join(out, "wasm"))).toEqual(["benchmark.txt"]);
  });

  it("does not take a manifest.json of the right shape, without numforge's mark, for a package", async () => {
    const out = join(root, "look-alike");
    mkdirSync(out);
    writeFileSync(join(out, "manifest.json"), JSON.stringify({ numforge: "0.1.0", format: "int8", targets: ["js"], files: { "data.csv": "0".repeat(64) } }));
    writeFileSync(join(out, "data.csv"), "1,2,3");
    const before = snapshot(out);
    for (const flags of [[], ["--force"]]) {
      const refused = await compile(out, ...flags);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        `${out}: looks like a package of numforge 0.1.0, whose manifest does not mark it as numforge's, so numforge cannot tell its files from yours; delete the folder yourself (after moving out anything of yours) or choose another --out\n`,
      );
    }
    // Any other manifest.json is the user's file: with --force, the package may not take its place.
    writeFileSync(join(out, "manifest.json"), JSON.stringify({ generator: "my tool", files: {} }));
    const before2 = snapshot(out);
    const plain = await compile(out);
    expect(plain.stderr).toBe(`${out}: exists and is not a numforge kernel package (it has no manifest.json written by numforge); choose another --out, or pass --force to add the package beside its files\n`);
    const forced = await compile(out, "--force");
    expect(forced.code).toBe(2);
    expect(forced.stderr).toBe(`${join(out, "manifest.json")}: is not a file numforge wrote (its manifest does not list it) and the package needs that path; move it away first\n`);
    expect(snapshot(out)).toEqual(before2);
    expect(before2["data.csv"]).toBe(before["data.csv"]);
  });

  it("refuses to overwrite a package file the user edited unless --force, naming it", async () => {
    const out = join(root, "edited");
    expect((await compile(out, "--target", "js")).code).toBe(0);
    writeFileSync(join(out, "README.md"), "my own readme");
    writeFileSync(join(out, "mine.txt"), "mine");
    const refused = await compile(out, "--target", "js");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^${join(out, "README.md")}: was changed since numforge wrote it; move your changes out of the package, or pass --force to overwrite numforge's files\\n$`));
    expect(readFileSync(join(out, "README.md"), "utf8")).toBe("my own readme");
    expect((await compile(out, "--target", "js", "--force")).code).toBe(0);
    expect(readFileSync(join(out, "README.md"), "utf8")).toMatch(/^# numforge-kernels-int8/);
    expect(readFileSync(join(out, "mine.txt"), "utf8")).toBe("mine");
    await expectWholePackage(out);
  });

  it("recovers a run killed half-way: an incomplete manifest, a temporary manifest and a staging folder of a dead process", async () => {
    const out = join(root, "killed");
    expect((await compile(out, "--target", "js,wasm")).code).toBe(0);
    const manifest = manifestOf(out);
    // As a kill after the first files were swapped leaves it: files differ from the listed hashes.
    writeFileSync(join(out, "manifest.json"), JSON.stringify({ ...manifest, files: { ...manifest.files, "old/gone.js": "1".repeat(64) }, incomplete: true }));
    writeFileSync(join(out, "index.js"), "half-written");
    const pid = deadPid();
    writeFileSync(join(out, `manifest.json.numforge-tmp-${pid}`), "{");
    mkdirSync(join(`${out}.numforge-tmp-${pid}`, "js"), { recursive: true });
    writeFileSync(join(`${out}.numforge-tmp-${pid}`, "js", "kernels.js"), "partial");
    // A staging folder of a live process (pid 1) is another compile's: left alone.
    mkdirSync(`${out}.numforge-tmp-1`);
    const result = await compile(out, "--target", "js");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(existsSync(`${out}.numforge-tmp-${pid}`)).toBe(false);
    expect(existsSync(join(out, `manifest.json.numforge-tmp-${pid}`))).toBe(false);
    expect(existsSync(`${out}.numforge-tmp-1`)).toBe(true);
    expect(readdirSync(out)).not.toContain("wasm");
    rmdirSync(`${out}.numforge-tmp-1`);
    await expectWholePackage(out);
  });
});

describe("compiles into one folder at once", () => {
  it("two processes: both succeed, one after the other, leaving one whole package", async () => {
    const out = join(root, "raced");
    const runs = await Promise.all([numforgeAt(["compile", "int8", "--target", "js,wasm", "--out", out]), numforgeAt(["compile", "int8", "--target", "js", "--out", out])]);
    for (const r of runs) {
      expect(r.stderr).not.toMatch(STACK_TRACE);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    await expectWholePackage(out);
  }, 120_000);

  it("a compile waits while another process holds the folder's lock, and writes once it is released", async () => {
    const out = join(root, "waited");
    const release = await acquireLock(lockFileFor(out), { what: "a test holding the lock" });
    const run = numforgeAt(["compile", "int8", "--target", "js", "--out", out]);
    let finished = false;
    void run.then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 4000));
    expect(finished).toBe(false);
    expect(existsSync(out)).toBe(false);
    release();
    const result = await run;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    await expectWholePackage(out);
  }, 120_000);

  it("a lock left by a killed compile is taken over", async () => {
    const out = join(root, "abandoned");
    writeFileSync(lockFileFor(out), JSON.stringify({ pid: deadPid(), hostname: hostname(), startedAt: new Date().toISOString(), what: "numforge compile of int8" }));
    const result = await compile(out, "--target", "js");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    await expectWholePackage(out);
  });
});
