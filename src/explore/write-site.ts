/**
 * Writes the explorer site into --out without losing anything of the user's:
 * - a new or empty folder gets the site;
 * - a folder an earlier `numforge explore` wrote (its explore-manifest.json says so) is updated:
 *   only the files that manifest lists are replaced or removed, anything else stays; a listed file
 *   the user edited, or a file of the user's where the site needs to write, stops the run before
 *   anything is touched;
 * - any other non-empty folder (or a file) is refused, untouched.
 * The manifest is written last and lists old and new files while they are swapped, so a killed
 * run leaves nothing unaccounted for. The folder is locked while it is written.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";
import { acquireLockSync, LockHeldError, lockFileFor } from "../io/lock.ts";
import { unsafeOutFolder } from "../io/out-folder.ts";

/** The file that marks a folder as an explorer site and lists its files with their SHA-256. */
export const SITE_MANIFEST = "explore-manifest.json";
const GENERATOR = "numforge explore";

export interface SiteFile {
  /** A relative path with forward slashes, inside the site. */
  readonly path: string;
  readonly contents: string | Uint8Array;
}

interface SiteManifest {
  readonly generator: typeof GENERATOR;
  readonly numforge: string;
  /** Set while files are swapped: the list is then old and new files together. */
  readonly incomplete?: true;
  readonly files: Readonly<Record<string, string>>;
}

const sha256 = (contents: string | Uint8Array) => createHash("sha256").update(contents).digest("hex");

/** The manifest of the explorer site in `dir`, or undefined when it has none of numforge's. */
export function readSiteManifest(dir: string): SiteManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, SITE_MANIFEST), "utf8")) as Partial<SiteManifest>;
    if (manifest.generator !== GENERATOR || typeof manifest.files !== "object" || manifest.files === null) return undefined;
    return manifest as SiteManifest;
  } catch {
    return undefined;
  }
}

/** Writes `files` as the site in `out`; the absolute folder, or an InputError saying why not (nothing changed then). */
export function writeSite(out: string, files: readonly SiteFile[], version: string): Effect.Effect<string, InputError> {
  return Effect.try({
    try: () => {
      const where = `--out ${JSON.stringify(out)}`;
      const unsafe = unsafeOutFolder(out);
      if (unsafe !== undefined) throw new InputError({ where, message: unsafe });
      for (const f of files)
        if (f.path === SITE_MANIFEST || f.path.startsWith("/") || f.path.split("/").includes("..")) throw new Error(`internal: site path ${f.path}`);
      const target = resolve(out);
      mkdirSync(dirname(target), { recursive: true });
      const release = acquireLockSync(lockFileFor(target), { wait: true, timeoutMs: 120_000, what: "numforge explore" });
      try {
        writeLocked(out, target, files, version);
      } finally {
        release();
      }
      return target;
    },
    catch: (e) => {
      if (e instanceof InputError) return e;
      if (e instanceof LockHeldError) return new InputError({ where: out, message: e.message });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "ENOSPC")
        return new InputError({ where: (e as NodeJS.ErrnoException).path ?? out, message: `cannot write the site (${code})` });
      throw e;
    },
  });
}

function writeLocked(out: string, target: string, files: readonly SiteFile[], version: string): void {
  const refuse = (message: string, file?: string): never => {
    throw new InputError({ where: file === undefined ? out : join(out, file), message });
  };
  let old: Readonly<Record<string, string>> = {};
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) refuse("is a file, not a folder; --out names the folder to write the explorer site into");
    if (readdirSync(target).length > 0) {
      const manifest = readSiteManifest(target);
      if (manifest === undefined)
        refuse(`exists and is not a site numforge explore wrote (it has no ${SITE_MANIFEST} of numforge's); nothing in it was changed: choose a new or empty folder`);
      old = manifest!.files;
      if (manifest!.incomplete !== true)
        for (const [path, hash] of Object.entries(old))
          if (existsSync(join(target, path)) && sha256(readFileSync(join(target, path))) !== hash)
            refuse("was changed since numforge explore wrote it; move your changes out of the site folder (nothing was changed)", path);
      for (const f of files)
        if (!(f.path in old) && existsSync(join(target, f.path)))
          refuse("is not a file numforge explore wrote (its manifest does not list it) and the site needs that path; move it away first (nothing was changed)", f.path);
    }
  }
  const next: Record<string, string> = {};
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) next[f.path] = sha256(f.contents);
  mkdirSync(target, { recursive: true });
  writeManifest(target, { generator: GENERATOR, numforge: version, incomplete: true, files: { ...old, ...next } });
  const emptied = new Set<string>();
  for (const path of Object.keys(old)) {
    if (path in next) continue;
    rmSync(join(target, path), { force: true });
    for (let dir = dirname(path); dir !== "."; dir = dirname(dir)) emptied.add(dir);
  }
  for (const f of files) {
    mkdirSync(dirname(join(target, f.path)), { recursive: true });
    writeFileSync(join(target, f.path), f.contents);
  }
  writeManifest(target, { generator: GENERATOR, numforge: version, files: next });
  // Folders of the old site the new one does not use go only when nothing of the user's is in them.
  for (const dir of [...emptied].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(join(target, dir));
    } catch {
      // not empty (the user's files, or the new site's): kept
    }
  }
}

function writeManifest(target: string, manifest: SiteManifest): void {
  writeFileSync(join(target, SITE_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
}
