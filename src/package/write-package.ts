/**
 * Writes a kernel package folder: the files of every requested target plus the common ones, and
 * manifest.json with numforge's mark and the SHA-256 of every file. Nothing numforge did not
 * write is replaced or removed:
 * - a new (or empty) folder is assembled beside its destination and renamed into place, so a
 *   failed compile never leaves half a package;
 * - a folder that is a numforge package is updated in place: only the files its manifest lists
 *   are replaced or removed, files the user added stay; a listed file the user edited is
 *   overwritten only with `force`. While files are swapped the manifest lists old and new files
 *   together (marked incomplete), so a killed run leaves nothing unaccounted for;
 * - any other non-empty folder is refused, or with `force` gets the package added beside its
 *   files, provided none of them sits where a package file goes.
 * The folder is locked while it is written (a second compile waits, then writes after the first),
 * and staging folders left by killed compiles are removed.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";
import { acquireLockSync, LockHeldError, lockFileFor, pidAlive } from "../io/lock.ts";
import { unsafeOutFolder } from "../io/out-folder.ts";
import type { PackageFile } from "../targets/target.ts";
import { changedFiles, folderState, GENERATOR, isPackagePath, MANIFEST, readManifest, sha256, unmarkedManifestVersion, type Manifest } from "./package-folder.ts";

export { MANIFEST, type Manifest } from "./package-folder.ts";

/** How long a compile waits for another one writing the same folder. */
const LOCK_WAIT_MS = 120_000;
const STAGING = ".numforge-tmp-";

/** The manifest of a set of files (hashes are of the exact bytes written). */
export function manifestOf(files: readonly PackageFile[], format: string, targets: readonly string[], version: string): Manifest {
  const hashes: Record<string, string> = {};
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) hashes[f.path] = sha256(f.contents);
  return { generator: GENERATOR, numforge: version, format, targets, files: hashes };
}

/** True when `dir` holds a manifest written by numforge. */
export function isNumforgePackage(dir: string): boolean {
  return readManifest(dir) !== undefined;
}

export interface WriteOptions {
  /** Overwrite package files the user edited, and add a package to a folder that is not one (never replacing its files). */
  readonly force?: boolean;
  /** Wait for a compile holding the folder's lock (default) or fail at once. */
  readonly wait?: boolean;
}

/** Writes the package; fails with an InputError naming the folder (and file) when it may not. */
export function writePackage(outDir: string, files: readonly PackageFile[], manifest: Manifest, options: boolean | WriteOptions = {}): Effect.Effect<string, InputError> {
  const { force = false, wait = true } = typeof options === "boolean" ? { force: options } : options;
  return Effect.try({
    try: () => {
      const unsafe = unsafeOutFolder(outDir);
      if (unsafe !== undefined) throw new InputError({ where: `--out ${JSON.stringify(outDir)}`, message: unsafe });
      for (const file of files)
        if (!isPackagePath(file.path) || file.path === MANIFEST) throw new InputError({ where: file.path, message: "package paths must stay inside the package" });
      if (!existsSync(outDir) && isSymlink(outDir)) throw new InputError({ where: outDir, message: "is a symbolic link to nothing; remove it or choose another --out" });
      const target = existsSync(outDir) ? realpathSync(outDir) : resolve(outDir);
      const unsafeTarget = unsafeOutFolder(target);
      if (unsafeTarget !== undefined) throw new InputError({ where: `--out ${JSON.stringify(outDir)} (${target})`, message: unsafeTarget });
      mkdirSync(dirname(target), { recursive: true }); // the lock and the staging folder go beside the package
      const release = acquireLockSync(lockFileFor(target), { wait, timeoutMs: LOCK_WAIT_MS, what: `numforge compile of ${manifest.format}` });
      try {
        removeStaleStaging(target);
        writeLocked(outDir, target, files, manifest, force);
      } finally {
        release();
      }
      return target;
    },
    catch: (e) => describeWriteError(outDir, e),
  });
}

function writeLocked(outDir: string, target: string, files: readonly PackageFile[], manifest: Manifest, force: boolean): void {
  const fail = (message: string, file?: string) => {
    throw new InputError({ where: file === undefined ? outDir : join(outDir, file), message });
  };
  const state = folderState(target);
  switch (state.kind) {
    case "not-a-folder":
      return fail("is a file, not a folder; --out names the folder to write the package into");
    case "absent":
    case "empty": {
      const staging = stage(target, files, manifest);
      if (state.kind === "empty") rmdirSync(target); // only ever succeeds on an empty folder
      renameSync(staging, target);
      return;
    }
    case "package":
      if (state.manifest.incomplete !== true && !force) {
        const changed = changedFiles(target, state.manifest);
        if (changed.length > 0)
          return fail(`was changed since numforge wrote it${changed.length > 1 ? ` (and ${changed.length - 1} more package files)` : ""}; move your changes out of the package, or pass --force to overwrite numforge's files`, changed[0]);
      }
      return replaceInPlace(outDir, target, files, manifest, state.manifest.files);
    case "foreign": {
      const old = unmarkedManifestVersion(target);
      if (old !== undefined)
        return fail(`looks like a package of numforge ${old}, whose manifest does not mark it as numforge's, so numforge cannot tell its files from yours; delete the folder yourself (after moving out anything of yours) or choose another --out`);
      if (!force)
        return fail("exists and is not a numforge kernel package (it has no manifest.json written by numforge); choose another --out, or pass --force to add the package beside its files");
      return replaceInPlace(outDir, target, files, manifest, {});
    }
  }
}

/** Writes the package into a sibling staging folder, manifest included; returns that folder. */
function stage(target: string, files: readonly PackageFile[], manifest: Manifest): string {
  const staging = `${target}${STAGING}${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  for (const file of [...files, { path: MANIFEST, contents: manifestText(manifest) }]) {
    const path = join(staging, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.contents);
  }
  return staging;
}

/**
 * Updates the package in `target` whose manifest lists `old`: the new files are staged beside it,
 * the manifest is rewritten to list old and new files (incomplete), old files the new package
 * lacks are removed, the new files renamed over the old ones, and the final manifest written last.
 */
function replaceInPlace(outDir: string, target: string, files: readonly PackageFile[], manifest: Manifest, old: Readonly<Record<string, string>>): void {
  for (const file of [...files.map((f) => f.path), MANIFEST]) {
    if (file in old || (file === MANIFEST && Object.keys(old).length > 0)) continue;
    if (existsSync(join(target, file)))
      throw new InputError({ where: join(outDir, file), message: "is not a file numforge wrote (its manifest does not list it) and the package needs that path; move it away first" });
  }
  const staging = stage(target, files, manifest);
  writeManifest(target, { ...manifest, files: { ...old, ...manifest.files }, incomplete: true });
  const removedDirs = new Set<string>();
  for (const path of Object.keys(old)) {
    if (path in manifest.files) continue;
    rmSync(join(target, path), { force: true });
    for (let dir = dirname(path); dir !== "."; dir = dirname(dir)) removedDirs.add(dir);
  }
  for (const file of files) {
    mkdirSync(dirname(join(target, file.path)), { recursive: true });
    renameSync(join(staging, file.path), join(target, file.path));
  }
  writeManifest(target, manifest);
  // Folders the old package had and the new one does not: removed only when nothing of the user's is left in them.
  for (const dir of [...removedDirs].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(join(target, dir));
    } catch {
      /* not empty: the user's files are there */
    }
  }
  rmSync(staging, { recursive: true, force: true });
}

const manifestText = (manifest: Manifest) => `${JSON.stringify(manifest, null, 2)}\n`;

/** Replaces the manifest atomically (write beside it, rename over it). */
function writeManifest(target: string, manifest: Manifest): void {
  const temporary = join(target, `${MANIFEST}${STAGING}${process.pid}`);
  writeFileSync(temporary, manifestText(manifest));
  renameSync(temporary, join(target, MANIFEST));
}

/**
 * Removes what killed compiles of this folder left: staging folders beside it and temporary
 * manifests in it, named with the pid of their process, when that process is gone (or is this
 * one: it holds the lock, so no call of its own is using them). Runs under the folder's lock.
 */
function removeStaleStaging(target: string): void {
  const stale = (name: string, prefix: string) => {
    if (!name.startsWith(prefix)) return false;
    const pid = name.slice(prefix.length);
    return /^\d+$/.test(pid) && (Number(pid) === process.pid || !pidAlive(Number(pid)));
  };
  const parent = dirname(target);
  for (const name of safeList(parent)) if (stale(name, `${basename(target)}${STAGING}`)) rmSync(join(parent, name), { recursive: true, force: true });
  for (const name of safeList(target)) if (stale(name, `${MANIFEST}${STAGING}`)) unlinkSync(join(target, name));
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const FIX_PERMISSIONS = "choose another --out or fix the folder's permissions";
const CHOOSE_ANOTHER = "choose another --out";
/** What each file system error means here, and what to do about it. */
const FS_REASONS: Record<string, readonly [string, string]> = {
  EACCES: ["permission denied", FIX_PERMISSIONS],
  EPERM: ["operation not permitted (read-only or immutable?)", FIX_PERMISSIONS],
  EROFS: ["read-only file system", CHOOSE_ANOTHER],
  ENOSPC: ["no space left on the device", "free some space or choose another --out"],
  EDQUOT: ["disk quota exceeded", "free some space or choose another --out"],
  ENOTDIR: ["a part of the path is a file, not a folder", CHOOSE_ANOTHER],
  EISDIR: ["a folder is where a package file goes", "move that folder away or choose another --out"],
  ENAMETOOLONG: ["the path is too long", CHOOSE_ANOTHER],
  ELOOP: ["too many symbolic links (a loop?)", CHOOSE_ANOTHER],
  EXDEV: ["the folder and its parent are on different file systems", CHOOSE_ANOTHER],
};

/** One line for a failed write: where, and what to do. */
export function describeWriteError(outDir: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  if (e instanceof LockHeldError) return new InputError({ where: outDir, message: e.message });
  const error = e as NodeJS.ErrnoException;
  const known = error.code !== undefined ? FS_REASONS[error.code] : undefined;
  if (known === undefined) return new InputError({ where: outDir, message: `cannot write the package: ${error.message}` });
  // A path inside a staging folder or temporary manifest means nothing to the user: name the folder alone.
  const at = error.path !== undefined && !error.path.includes(STAGING) ? ` at ${error.path}` : "";
  return new InputError({ where: outDir, message: `cannot write the package: ${known[0]}${at} (${error.code}); ${known[1]}` });
}
