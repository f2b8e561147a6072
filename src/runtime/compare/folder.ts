/**
 * A comparison's folder: what lives where, which folders may not be one (the current directory,
 * home, the root, an empty name: a report or lock written there lands among the user's own files),
 * and file-system failures turned into one line that says what to do.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, parse, resolve } from "node:path";
import type { RunId } from "./run.ts";

/** A comparison that cannot go on as asked (its folder is unusable or holds other work): a user error. */
export class ComparisonError extends Error {
  constructor(
    /** The folder or file it is about, or the flag ("--out") when there is no path yet. */
    readonly where: string,
    message: string,
  ) {
    super(message);
  }
}

/** Who takes a comparison's locks, as their files record it; a Slurm array task names itself so a collector can tell when it is gone. */
export function lockOwner(): string {
  const job = process.env.SLURM_ARRAY_JOB_ID;
  const task = process.env.SLURM_ARRAY_TASK_ID;
  return job !== undefined && task !== undefined ? `numforge compare (slurm task ${job}_${task})` : "numforge compare";
}

/** The Slurm array task that recorded itself as a lock's holder (see lockOwner), if one did. */
export function slurmTaskOf(what: string): { readonly job: string; readonly task: number } | null {
  const m = /\(slurm task (\d+)_(\d+)\)$/.exec(what);
  return m === null ? null : { job: m[1], task: Number(m[2]) };
}

/** The files of a comparison folder. */
export function comparisonPaths(outDir: string) {
  const runName = (run: RunId) => `${run.model}-${run.recipe}-seed${run.seed}`;
  return {
    results: join(outDir, "results.json"),
    checkpoints: join(outDir, "checkpoints"),
    checkpoint: (run: RunId) => join(outDir, "checkpoints", `${runName(run)}.ckpt`),
    /** Held while results.json (and the reports made from it) is re-read, merged and rewritten. */
    resultsLock: join(outDir, "locks", "results.lock"),
    /** Held while a run trains, by whichever process (or Slurm task) trains it. */
    runLock: (run: RunId) => join(outDir, "locks", `${runName(run)}.lock`),
    locks: join(outDir, "locks"),
    /** Job arrays submitted by `--executor slurm`, their scripts and logs. */
    slurm: join(outDir, "slurm"),
    markdown: join(outDir, "report.md"),
    html: join(outDir, "report.html"),
  };
}

/** Throws a ComparisonError when --out is no place for a comparison; touches nothing. */
export function checkOutFolder(outDir: string): void {
  if (outDir.trim() === "") throw new ComparisonError("--out", "is empty; name a folder for the comparison, e.g. --out runs/compare");
  const full = resolve(outDir);
  const special =
    full === process.cwd() ? "the current directory"
    : full === resolve(homedir()) ? "your home folder"
    : full === parse(full).root ? "the root folder"
    : null;
  if (special !== null) throw new ComparisonError(outDir, `is ${special}; a comparison writes results.json, reports, checkpoints and locks into its folder: name one of its own, e.g. --out runs/compare`);
  if (existsSync(full) && !statSync(full).isDirectory()) throw new ComparisonError(outDir, "is a file, not a folder; --out names the folder the comparison writes into");
  const paths = comparisonPaths(outDir);
  if (existsSync(full) && !existsSync(paths.results)) {
    // Reports are written only after results.json: without it, these files are someone else's.
    const foreign = [paths.markdown, paths.html].filter((p) => existsSync(p));
    if (foreign.length > 0)
      throw new ComparisonError(outDir, `holds ${foreign.map((p) => parse(p).base).join(" and ")} but no results.json: not a comparison folder, and these would be overwritten; pass an empty or new --out`);
  }
}

/** Refuses an --out that is no place for a comparison; otherwise creates its folders. */
export function openComparisonFolder(outDir: string): ReturnType<typeof comparisonPaths> {
  checkOutFolder(outDir);
  const paths = comparisonPaths(outDir);
  try {
    mkdirSync(paths.checkpoints, { recursive: true });
    mkdirSync(paths.locks, { recursive: true });
  } catch (e) {
    throw fileSystemError(e) ?? e;
  }
  return paths;
}

/** A file-system failure a user can fix (permissions, a read-only or full disk, a file in the way) as a ComparisonError; null for anything else. */
export function fileSystemError(e: unknown): ComparisonError | null {
  if (e instanceof ComparisonError) return e;
  const error = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EACCES: "permission denied: the folder or a file in it is read-only for you; make it writable, or pass another --out",
    EPERM: "not permitted (an immutable or read-only file?); make it writable, or pass another --out",
    EROFS: "the file system is read-only; pass an --out on a writable one",
    ENOTDIR: "a part of this path is a file, not a folder; pass another --out",
    EISDIR: "a folder is where a file should be; move it away, or pass another --out",
    ENOSPC: "no space left on the device; free some, or pass an --out on another disk",
    EDQUOT: "disk quota exceeded; free some, or pass an --out on another disk",
  };
  if (typeof error?.code !== "string" || !(error.code in why)) return null;
  return new ComparisonError(error.path ?? "--out", `cannot write: ${why[error.code]}`);
}
