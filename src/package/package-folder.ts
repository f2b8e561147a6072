/**
 * What an existing output folder holds, judged by what numforge wrote there: a kernel package is
 * a folder whose manifest.json carries numforge's generator mark and the SHA-256 of each file it
 * wrote. Only those files are numforge's; everything else in the folder is the user's and is never
 * replaced or removed. A manifest that merely has the right shape, without the mark, is the user's.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export const MANIFEST = "manifest.json";
/** The mark that says a manifest (and the files it lists) was written by numforge. */
export const GENERATOR = "numforge kernel package";

export interface Manifest {
  readonly generator: typeof GENERATOR;
  /** The numforge version that wrote the package. */
  readonly numforge: string;
  readonly format: string;
  readonly targets: readonly string[];
  /** Package path → SHA-256 (hex) of the bytes numforge wrote there. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * Set while a re-compile replaces files in place: `files` then lists the old and the new files
   * together, so a run killed half-way leaves a folder whose numforge files are all still known.
   */
  readonly incomplete?: true;
}

/** What an output folder is, as far as writing a package there goes. */
export type FolderState =
  | { readonly kind: "absent" }
  | { readonly kind: "not-a-folder" }
  | { readonly kind: "empty" }
  | { readonly kind: "package"; readonly manifest: Manifest }
  | { readonly kind: "foreign" };

/** SHA-256 (hex) of bytes. */
export const sha256 = (contents: string | Uint8Array): string => createHash("sha256").update(contents).digest("hex");

/** A package path that stays inside its folder: relative, "/"-separated, no "." or ".." parts. */
export function isPackagePath(path: string): boolean {
  return path.length > 0 && !path.includes("\\") && path.split("/").every((part) => part !== "" && part !== "." && part !== ".." && !part.includes("\0"));
}

/** The manifest in `dir` when numforge wrote it (mark, version, and a path → hash map), else undefined. */
export function readManifest(dir: string): Manifest | undefined {
  let m: Partial<Record<keyof Manifest, unknown>>;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST), "utf8")) as typeof m;
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== "object" || m.generator !== GENERATOR || typeof m.numforge !== "string") return undefined;
  const files = m.files;
  if (files === null || typeof files !== "object" || Array.isArray(files)) return undefined;
  for (const [path, hash] of Object.entries(files)) if (!isPackagePath(path) || path === MANIFEST || typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return m as unknown as Manifest;
}

/**
 * The version of numforge that wrote a manifest before manifests carried the generator mark, or
 * undefined. Such a folder is not taken for a package (its manifest cannot be told from a user's
 * file of the same shape), but the refusal can say what it is.
 */
export function unmarkedManifestVersion(dir: string): string | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), "utf8")) as { numforge?: unknown; generator?: unknown; files?: unknown };
    return typeof m.numforge === "string" && m.generator === undefined && typeof m.files === "object" ? m.numforge : undefined;
  } catch {
    return undefined;
  }
}

/** The state of `dir` (following a symlink to a folder). */
export function folderState(dir: string): FolderState {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
    throw e;
  }
  if (!isDirectory) return { kind: "not-a-folder" };
  if (readdirSync(dir).length === 0) return { kind: "empty" };
  const manifest = readManifest(dir);
  return manifest === undefined ? { kind: "foreign" } : { kind: "package", manifest };
}

/** The files a manifest lists whose bytes on disk differ from what numforge wrote (missing files are not changed ones). */
export function changedFiles(dir: string, manifest: Manifest): string[] {
  const changed: string[] = [];
  for (const [path, hash] of Object.entries(manifest.files)) {
    let contents: Buffer;
    try {
      contents = readFileSync(join(dir, path));
    } catch {
      continue;
    }
    if (sha256(contents) !== hash) changed.push(path);
  }
  return changed;
}
