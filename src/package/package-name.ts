/**
 * The npm name of a kernel package. A built-in format keeps its plain name
 * (`numforge-kernels-e4m3`); any other spec gets the first 8 hex digits of its resolved format's
 * SHA-256 as well, so two different specs called by one name never make two packages npm takes
 * for one. `--name` chooses the name outright.
 */
import { createHash } from "node:crypto";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { builtinFormatNames, loadFormat } from "../dsl/registry.ts";

/** Why `name` is not a valid npm package name, or undefined when it is (npm's rules for new packages). */
export function invalidPackageName(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > 214) return "is longer than 214 characters";
  if (name !== name.toLowerCase()) return "has capital letters (npm names are lowercase)";
  if (name.trim() !== name) return "has leading or trailing spaces";
  if (!/^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/.test(name))
    return "may hold only lowercase letters, digits and - . _ ~ (optionally as @scope/name), and may not start with . or _";
  return undefined;
}

/** The default package name of a format (see the file comment). */
export function defaultPackageName(format: ResolvedFormat): string {
  const base = `numforge-kernels-${format.name.toLowerCase().replace(/[^a-z0-9._~-]+/g, "-").replace(/^[._]+/, "")}`;
  return isBuiltin(format) ? base : `${base}-${specHash(format)}`;
}

/** The first 8 hex digits of the SHA-256 of the resolved format. */
export function specHash(format: ResolvedFormat): string {
  return createHash("sha256").update(JSON.stringify(format)).digest("hex").slice(0, 8);
}

/** True when the format is the built-in of its name, unchanged. */
function isBuiltin(format: ResolvedFormat): boolean {
  if (!builtinFormatNames().includes(format.name)) return false;
  try {
    return JSON.stringify(loadFormat(format.name)) === JSON.stringify(format);
  } catch {
    return false;
  }
}
