/**
 * The files a package's entries actually load: what package.json names (main, types, exports),
 * and, transitively, every relative module those files import (with the .d.ts beside a loaded .js).
 * A target may produce files for people to read (.wat, .wgsl) that no entry loads; a package
 * ships only what it uses, so those are left out.
 */
import { posix } from "node:path";
import type { PackageFile } from "../targets/target.ts";

/** Relative import specifiers: `from "./x.js"`, `import("./x.js")`, `import "./x.js"`. */
const SPECIFIER = /\b(?:from|import)\s*\(?\s*(["'])(\.\.?\/[^"'\n]+)\1/g;

/** The files reachable from package.json (itself, README.md and the entries it names), in the input order. */
export function reachableFiles(files: readonly PackageFile[]): PackageFile[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const reached = new Set<string>();
  const visit = (path: string) => {
    const file = byPath.get(path);
    if (file === undefined || reached.has(path)) return;
    reached.add(path);
    if (path.endsWith(".js")) visit(`${path.slice(0, -".js".length)}.d.ts`);
    if (typeof file.contents !== "string" || !/\.(?:js|mjs|cjs|ts)$/.test(path)) return;
    for (const [, , specifier] of file.contents.matchAll(SPECIFIER)) {
      const resolved = posix.normalize(posix.join(posix.dirname(path), specifier!));
      visit(path.endsWith(".d.ts") && resolved.endsWith(".js") ? `${resolved.slice(0, -".js".length)}.d.ts` : resolved);
      visit(resolved);
    }
  };
  visit("package.json");
  visit("README.md");
  const pkg = byPath.get("package.json");
  if (pkg !== undefined) for (const entry of namedFiles(JSON.parse(String(pkg.contents)))) visit(posix.normalize(entry));
  return files.filter((f) => reached.has(f.path));
}

/** The file paths package.json's main, types and exports name. */
function namedFiles(pkg: { main?: unknown; types?: unknown; exports?: unknown }): string[] {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === "string") out.push(value);
    else if (value !== null && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk([pkg.main, pkg.types, pkg.exports]);
  return out;
}
