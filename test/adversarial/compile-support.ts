/**
 * Helpers of the compile adversarial tests: a real `numforge` process with the working
 * directory, environment and user the case needs, and a snapshot of a folder's files.
 */
import { spawn } from "node:child_process";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliResult } from "../cli/harness.ts";

const BIN = fileURLToPath(new URL("../../bin/numforge.js", import.meta.url));

/** Runs `node bin/numforge.js args` in `cwd`, with `env` added and optionally as another user. */
export function numforgeAt(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; uid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    delete env.NUMFORGE_DEBUG;
    const ids = options.uid === undefined ? {} : { uid: options.uid, gid: options.uid };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? process.cwd(), env, stdio: ["ignore", "pipe", "pipe"], ...ids });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

/** Every file under `dir` (relative path → contents), to show that a run changed nothing. */
export function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const stat = lstatSync(join(dir, path));
      if (stat.isSymbolicLink()) files[path] = `-> ${readlinkSync(join(dir, path))}`; // not followed: it may lead anywhere
      else if (stat.isDirectory()) walk(path);
      else files[path] = readFileSync(join(dir, path), "utf8");
    }
  };
  walk("");
  return files;
}
