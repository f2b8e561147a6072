/**
 * Two ways to run the CLI in tests. `numforge` spawns `node bin/numforge.js` as a user would,
 * from the repository root, with at most as many processes at once as there are cores: each
 * start costs seconds (node + tsx + the format pipeline), so spawned runs are kept for what only
 * a real process shows (exit status, pipes, stdout flushed, no stack trace). `numforgeInProcess`
 * runs the same argv → exit code path (runCli) on in-memory streams, for everything else.
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { CommandEntry } from "../../src/cli/command.ts";
import { runCli } from "../../src/cli/run.ts";

/** The repository root: the CLI's working directory in every test. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const limit = Math.max(2, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function slot<A>(f: () => Promise<A>): Promise<A> {
  if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await f();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Runs numforge with `args`, writing `stdin` (closed either way) and collecting both streams; `extraEnv` is added to the environment. */
export function numforge(args: readonly string[], stdin = "", extraEnv: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return slot(
    () =>
      new Promise<CliResult>((resolve, reject) => {
        const env = { ...process.env, ...extraEnv };
        delete env.NUMFORGE_DEBUG;
        const child = spawn(process.execPath, ["bin/numforge.js", ...args], { cwd: ROOT, env, stdio: "pipe" });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
        child.stdin.on("error", () => undefined);
        child.stdin.end(stdin);
      }),
  );
}

/** Lines of a JS stack trace ("    at f (file.ts:1:2)"). */
export const STACK_TRACE = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/** runCli on in-memory streams; without `stdin` it behaves as an interactive terminal. */
export async function numforgeInProcess(args: readonly string[], stdin?: string, entries?: readonly CommandEntry[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(
    args,
    {
      readStdin: async () => stdin ?? "",
      stdinIsTerminal: stdin === undefined,
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
    },
    entries,
  );
  return { code, stdout, stderr };
}
