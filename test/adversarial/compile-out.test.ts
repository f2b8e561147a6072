/**
 * `numforge compile` given a dangerous or impossible --out, or bad flags (issue 15): one line on
 * stderr, exit 2, and not a byte changed in the folders involved.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { numforgeInProcess, STACK_TRACE, type CliResult } from "../cli/harness.ts";
import { describeWriteError } from "../../src/package/write-package.ts";
import { numforgeAt, snapshot } from "./compile-support.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-compile-out-"));

/** A user error: exit 2, nothing on stdout, one line on stderr without a stack trace. */
function userError(result: CliResult): string {
  expect(result.stdout).toBe("");
  expect(result.stderr).not.toMatch(STACK_TRACE);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.code).toBe(2);
  return result.stderr.trimEnd();
}

/** A folder with the user's work in it. */
function worksite(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "notes"), { recursive: true });
  writeFileSync(join(dir, "thesis.tex"), "\\documentclass{article}");
  writeFileSync(join(dir, "notes", "today.md"), "keep me");
  return dir;
}

describe("compile --out refuses folders full of the user's work", () => {
  it('--out "" --force in a real process: refused, the working directory untouched', async () => {
    const cwd = worksite("cwd-empty");
    const before = snapshot(cwd);
    expect(userError(await numforgeAt(["compile", "e4m3", "--target", "js", "--out", "", "--force"], { cwd }))).toMatch(/^numforge compile: --out "" is empty; name a new folder/);
    expect(snapshot(cwd)).toEqual(before);
  });

  it("--out=, --out ., the home directory, / and a folder above the working directory: refused with --force too", async () => {
    const cases: [string[], RegExp][] = [
      [["--out="], /--out "" is empty/],
      [["--out", "."], /--out "\." is the current directory/],
      [["--out", process.cwd()], /is the current directory/],
      [["--out", homedir()], /is your home directory/],
      [["--out", "/"], /is the filesystem root/],
      [["--out", ".."], /--out "\.\." contains the current directory/],
    ];
    for (const [flags, message] of cases) {
      const result = await numforgeInProcess(["compile", "e4m3", "--target", "js", ...flags, "--force"]);
      expect(userError(result), flags.join(" ")).toMatch(message);
    }
  });

  it("--out naming a file: refused, the file unchanged", async () => {
    const file = join(root, "a-file.txt");
    writeFileSync(file, "mine");
    expect(userError(await numforgeInProcess(["compile", "e4m3", "--target", "js", "--out", file, "--force"]))).toBe(`${file}: is a file, not a folder; --out names the folder to write the package into`);
    expect(snapshot(root)["a-file.txt"]).toBe("mine");
  });

  it("a symbolic link to the home directory, or to nothing: refused", async () => {
    const toHome = join(root, "home-link");
    symlinkSync(homedir(), toHome);
    expect(userError(await numforgeInProcess(["compile", "e4m3", "--target", "js", "--out", toHome, "--force"]))).toMatch(/ is your home directory/);
    const dangling = join(root, "dangling-link");
    symlinkSync(join(root, "no-such-folder"), dangling);
    expect(userError(await numforgeInProcess(["compile", "e4m3", "--target", "js", "--out", dangling]))).toBe(`${dangling}: is a symbolic link to nothing; remove it or choose another --out`);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
  });

  it("a read-only output folder: one line naming it, the package left as it was", async () => {
    const dir = join(root, "shared");
    mkdirSync(dir, { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(dir, 0o777);
    const out = join(dir, "pkg");
    expect((await numforgeInProcess(["compile", "int8", "--target", "js", "--out", out])).code).toBe(0);
    const before = snapshot(out);
    chmodSync(out, 0o555);
    // Permissions do not bind root: as root, compile as the unprivileged user "nobody" instead.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const result = await numforgeAt(["compile", "int8", "--target", "js", "--out", out], { uid, env: { HOME: dir } });
    expect(userError(result)).toMatch(new RegExp(`^${out}: cannot write the package: permission denied \\(EACCES\\); choose another --out or fix the folder's permissions$`));
    chmodSync(out, 0o755);
    expect(snapshot(out)).toEqual(before);
  }, 60_000);
});

describe("file system errors while writing a package", () => {
  it("an immutable folder (EPERM) or a full disk: one line naming the folder, never a temporary path", () => {
    const failure = (code: string, path: string) => Object.assign(new Error(`${code}: operation failed, open '${path}'`), { code, path });
    expect(describeWriteError("out", failure("EPERM", "/w/out/manifest.json.numforge-tmp-42")).toString()).toBe(
      "out: cannot write the package: operation not permitted (read-only or immutable?) (EPERM); choose another --out or fix the folder's permissions",
    );
    expect(describeWriteError("out", failure("ENOSPC", "/w/out/js/kernels.js")).toString()).toBe(
      "out: cannot write the package: no space left on the device at /w/out/js/kernels.js (ENOSPC); free some space or choose another --out",
    );
    expect(describeWriteError("out", failure("EROFS", "/w/out.numforge-tmp-7/index.js")).toString()).toMatch(/^out: cannot write the package: read-only file system \(EROFS\)/);
  });
});

describe("compile refuses unclear flags", () => {
  it("a target named twice, an empty target entry, an invalid package name", async () => {
    expect(userError(await numforgeInProcess(["compile", "e4m3", "--target", "js,js", "--out", join(root, "x")]))).toMatch(/--target names js twice/);
    expect(userError(await numforgeInProcess(["compile", "e4m3", "--target", "js,", "--out", join(root, "x")]))).toMatch(/--target "js," has an empty entry; give a comma-separated list of wasm, js, wgsl/);
    expect(userError(await numforgeInProcess(["compile", "e4m3", "--target", "cuda", "--out", join(root, "x")]))).toMatch(/unknown target "cuda"; available: wasm, js, wgsl/);
    expect(userError(await numforgeInProcess(["compile", "e4m3", "--name", "My Kernels", "--out", join(root, "x")]))).toMatch(/--name "My Kernels" has capital letters/);
    expect(existsSync(join(root, "x"))).toBe(false);
  });
});
