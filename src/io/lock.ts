/**
 * An exclusive lock on an output folder, held as a lock file created with O_EXCL that records
 * who holds it (pid, hostname, start time, what it is doing). Two numforge processes writing one
 * folder would otherwise overwrite or drop each other's files. A lock whose holder ran on this
 * host and is no longer alive (killed, crashed) is stale and taken over; a lock from another
 * host is never judged stale, since its pid means nothing here.
 *
 * `path` is the lock file itself; `lockFileFor(dir)` names the conventional one for a folder
 * (beside it, so replacing the folder does not remove its lock).
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";

/** Who holds a lock, as recorded in its file. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** ISO time the holder took the lock. */
  readonly startedAt: string;
  /** What the holder is doing, e.g. "numforge compile". */
  readonly what: string;
}

export interface LockOptions {
  /** Wait for the holder to release (polling) instead of failing at once; default false. */
  readonly wait?: boolean;
  /** How long to wait before failing, when `wait` is set; default 60 s. */
  readonly timeoutMs?: number;
  /** Recorded in the lock file and shown to a process that finds it held. */
  readonly what?: string;
}

/**
 * The lock is held by a live process (or by another host). The message names the holder and the
 * lock file and reads as a predicate ("is locked by …"): prefix it with the folder, as in
 * `${dir}: ${error.message}`.
 */
export class LockHeldError extends Error {
  override readonly name = "LockHeldError";
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder | undefined,
    readonly waitedMs: number,
  ) {
    const who =
      holder === undefined
        ? "another process (its lock file is being written or is unreadable)"
        : `${holder.what || "another process"} (pid ${holder.pid} on ${holder.hostname}, since ${holder.startedAt})`;
    const waited = waitedMs > 0 ? ` after waiting ${Math.round(waitedMs / 1000)} s` : "";
    super(`is locked by ${who}${waited}; wait for it to finish, or delete ${lockPath} if that process is gone`);
  }
}

/** The lock file that guards folder `dir`: `<dir>.numforge-lock`, beside it. */
export function lockFileFor(dir: string): string {
  return `${resolve(dir)}.numforge-lock`;
}

const POLL_MS = 100;
const DEFAULT_TIMEOUT_MS = 60_000;
/** An unreadable lock file older than this is a holder killed between creating and writing it. */
const UNWRITTEN_GRACE_MS = 5_000;

/**
 * One try of a lock call that started at `started`: the release function, or how long to wait
 * before the next try; throws LockHeldError once the call's waiting time is spent. The one loop
 * body of acquireLock and acquireLockSync, which differ only in how they wait.
 */
function attemptLock(path: string, options: LockOptions, started: number): { readonly release: () => void } | { readonly retryInMs: number } {
  const timeout = options.wait === true ? (options.timeoutMs ?? DEFAULT_TIMEOUT_MS) : 0;
  const attempt = tryAcquire(path, options.what ?? "");
  if (attempt.release !== undefined) return { release: attempt.release };
  const waited = Date.now() - started;
  if (waited >= timeout) throw new LockHeldError(path, attempt.holder, options.wait === true ? waited : 0);
  return { retryInMs: Math.min(POLL_MS, timeout - waited) };
}

/** Takes the lock at `path`; resolves to its release function (idempotent). */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => void> {
  const started = Date.now();
  for (;;) {
    const next = attemptLock(path, options, started);
    if ("release" in next) return next.release;
    await new Promise((r) => setTimeout(r, next.retryInMs));
  }
}

/** The synchronous form of acquireLock (waiting blocks the thread; prefer acquireLock where you can). */
export function acquireLockSync(path: string, options: LockOptions = {}): () => void {
  const started = Date.now();
  for (;;) {
    const next = attemptLock(path, options, started);
    if ("release" in next) return next.release;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, next.retryInMs);
  }
}

/** True when a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The holder recorded in a lock file, or undefined when it is missing, empty or not ours. */
export function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as Partial<LockHolder>;
    if (typeof h.pid !== "number" || typeof h.hostname !== "string" || typeof h.startedAt !== "string") return undefined;
    return { pid: h.pid, hostname: h.hostname, startedAt: h.startedAt, what: typeof h.what === "string" ? h.what : "" };
  } catch {
    return undefined;
  }
}

type Attempt = { release: () => void; holder?: undefined } | { release?: undefined; holder: LockHolder | undefined };

function tryAcquire(path: string, what: string): Attempt {
  const me: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), what };
  const contents = `${JSON.stringify(me)}\n`;
  if (create(path, contents)) return { release: releaser(path, contents) };
  const holder = readHolder(path);
  if (!isStale(path, holder)) return { holder };
  // Set the stale file aside under a name of our own (rename is atomic, so of two processes
  // taking over only one moves it), check that what we moved is what we judged stale, then
  // compete for the lock again through O_EXCL like anyone else.
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return { holder };
  }
  const moved = readHolder(aside);
  const same = moved?.pid === holder?.pid && moved?.startedAt === holder?.startedAt;
  if (!same && !isStale(aside, moved)) {
    // We moved a live lock that replaced the stale one in between: put it back.
    try {
      linkSync(aside, path);
      unlinkSync(aside);
    } catch {
      /* a third process took the lock path meanwhile: it holds the lock now, and the holder we moved finds its file gone at release */
    }
    return { holder: moved };
  }
  rmQuiet(aside);
  if (create(path, contents)) return { release: releaser(path, contents) };
  return { holder: readHolder(path) };
}

function isStale(path: string, holder: LockHolder | undefined): boolean {
  if (holder === undefined) {
    try {
      return Date.now() - statSync(path).mtimeMs > UNWRITTEN_GRACE_MS;
    } catch {
      return false;
    }
  }
  return holder.hostname === hostname() && !pidAlive(holder.pid);
}

/** Creates the lock file with O_EXCL; false when it already exists. */
function create(path: string, contents: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    writeSync(fd, contents);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The release function: removes the lock file only while it is still ours; also run at process exit. */
function releaser(path: string, contents: string): () => void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    try {
      if (readFileSync(path, "utf8") === contents) unlinkSync(path);
    } catch {
      /* already gone */
    }
  };
  process.on("exit", release);
  return release;
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
