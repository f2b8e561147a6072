/**
 * Writes a kernel package directory: the files of every requested target plus the common ones,
 * and manifest.json with the SHA-256 of every file, the compiler version and the targets. The
 * directory is assembled beside the destination and renamed into place, so a failed compile
 * never leaves half a package; an existing directory that is not a numforge package is refused
 * unless `force` is set.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";
import type { PackageFile } from "../targets/target.ts";

export const MANIFEST = "manifest.json";

export interface Manifest {
  readonly numforge: string;
  readonly format: string;
  readonly targets: readonly string[];
  readonly files: Readonly<Record<string, string>>;
}

/** The manifest of a set of files (hashes are of the exact bytes written). */
export function manifestOf(files: readonly PackageFile[], format: string, targets: readonly string[], version: string): Manifest {
  const hashes: Record<string, string> = {};
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) hashes[f.path] = createHash("sha256").update(f.contents).digest("hex");
  return { numforge: version, format, targets, files: hashes };
}

/** True when `dir` holds a manifest written by numforge. */
export function isNumforgePackage(dir: string): boolean {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return false;
  try {
    const m = JSON.parse(readFileSync(path, "utf8")) as Partial<Manifest>;
    return typeof m.numforge === "string" && typeof m.files === "object";
  } catch {
    return false;
  }
}

/** Writes the package; fails with an InputError naming the directory when it may not. */
export function writePackage(outDir: string, files: readonly PackageFile[], manifest: Manifest, force: boolean): Effect.Effect<string, InputError> {
  return Effect.try({
    try: () => {
      const target = resolve(outDir);
      const occupied = existsSync(target) && readdirSync(target).length > 0;
      if (occupied && !isNumforgePackage(target) && !force)
        throw new InputError({ where: outDir, message: "exists and is not a numforge kernel package; choose another --out or pass --force to replace it" });
      const staging = `${target}.numforge-tmp-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      for (const file of [...files, { path: MANIFEST, contents: `${JSON.stringify(manifest, null, 2)}\n` }]) {
        if (file.path.split("/").some((part) => part === ".." || part === "")) throw new InputError({ where: file.path, message: "package paths must stay inside the package" });
        const path = join(staging, file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, file.contents);
      }
      rmSync(target, { recursive: true, force: true });
      mkdirSync(dirname(target), { recursive: true });
      renameSync(staging, target);
      return target;
    },
    catch: (e) => (e instanceof InputError ? e : new InputError({ where: outDir, message: (e as Error).message })),
  });
}
