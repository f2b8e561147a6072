/**
 * Where formats come from: the built-in specs in `formats/` (every `*.json` but the schema)
 * and spec files given by path. Adding a built-in format is adding a file there.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import { SpecError, UnknownFormatError } from "./errors.ts";
import { validateSpec } from "./validate.ts";
import { resolveFormat } from "./resolve.ts";
import type { ResolvedFormat } from "./resolved.ts";
import { parseJsonText } from "./json-text.ts";

/** The folder of built-in specs. */
export const BUILTIN_FORMATS_DIR = fileURLToPath(new URL("../../formats/", import.meta.url));

/** Names of the built-in formats, sorted. */
export function builtinFormatNames(dir: string = BUILTIN_FORMATS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== "format.schema.json")
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/**
 * A registry resolves names and paths to formats, memoizing per instance (block formats refer
 * to their scale format by name: a sibling file of the spec first, then the built-ins).
 */
export function createRegistry(dir: string = BUILTIN_FORMATS_DIR) {
  const cache = new Map<string, ResolvedFormat>();

  const loadFile = (path: string, expectedName?: string): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> =>
    Effect.gen(function* () {
      const absolute = resolvePath(path);
      const hit = cache.get(absolute);
      if (hit !== undefined) return hit;
      const text = yield* Effect.try({
        try: () => readFileSync(absolute, "utf8"),
        catch: (e) => new SpecError({ file: path, pointer: "", message: `cannot read: ${(e as Error).message}` }),
      });
      const json = yield* parseJsonText(text, path);
      const spec = yield* validateSpec(json, path);
      if (expectedName !== undefined && spec.name !== expectedName)
        return yield* new SpecError({ file: path, pointer: "/name", message: `is "${spec.name}" but the file is ${expectedName}.json; a built-in's name is its file name` });
      const lookup = (name: string) => {
        const sibling = join(dirname(absolute), `${name}.json`);
        return existsSync(sibling) ? loadFile(sibling) : get(name);
      };
      const format = yield* resolveFormat(spec, path, lookup);
      cache.set(absolute, format);
      return format;
    });

  const get = (nameOrPath: string): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> => {
    if (nameOrPath.endsWith(".json") || nameOrPath.includes("/")) {
      if (!existsSync(nameOrPath)) return Effect.fail(new SpecError({ file: nameOrPath, pointer: "", message: "no such file" }));
      return loadFile(nameOrPath);
    }
    const names = builtinFormatNames(dir);
    if (!names.includes(nameOrPath))
      return Effect.fail(new UnknownFormatError({ name: nameOrPath, suggestions: closeMatches(nameOrPath, names) }));
    return loadFile(join(dir, `${nameOrPath}.json`), nameOrPath);
  };

  return { get, names: () => builtinFormatNames(dir) };
}

export type Registry = ReturnType<typeof createRegistry>;

/** Resolves a built-in name or a spec path synchronously; throws the typed error on failure. */
export function loadFormat(nameOrPath: string, registry: Registry = createRegistry()): ResolvedFormat {
  return Effect.runSync(registry.get(nameOrPath));
}

/** The candidates nearest in edit distance (at most 2 edits, only the closest tier), at most 3. */
export function closeMatches(name: string, candidates: readonly string[]): string[] {
  const scored = candidates.map((c) => ({ c, d: editDistance(name.toLowerCase(), c) })).filter(({ d }) => d <= 2);
  const best = Math.min(...scored.map(({ d }) => d));
  return scored
    .filter(({ d }) => d === best)
    .sort((a, b) => a.c.localeCompare(b.c))
    .slice(0, 3)
    .map(({ c }) => c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

