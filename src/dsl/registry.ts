/**
 * Where formats come from: the built-in specs in `formats/` (every `*.json` but the schema)
 * and spec files given by path. Adding a built-in format is adding a file there.
 *
 * A spec refers to another format by name (a block format's scale format): a built-in's name
 * always means the built-in, any other name a spec file beside the referring one. A spec file of
 * the user's may not take a built-in's name, so a name never means two formats. References are
 * followed with the chain of specs being loaded, so a spec that reaches itself again is reported
 * as a cycle instead of recursing until memory runs out.
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import { excerpt, SpecError, UnknownFormatError } from "./errors.ts";
import { validateSpec } from "./validate.ts";
import { resolveFormat } from "./resolve.ts";
import type { ResolvedFormat } from "./resolved.ts";
import { parseJsonDocument, withPosition } from "./json-text.ts";
import { readUserTextFile } from "./user-text.ts";
import { closeMatches } from "./close-matches.ts";

export { closeMatches } from "./close-matches.ts";

/** The folder of built-in specs. */
export const BUILTIN_FORMATS_DIR = fileURLToPath(new URL("../../formats/", import.meta.url));

/** Names of the built-in formats, sorted. */
export function builtinFormatNames(dir: string = BUILTIN_FORMATS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== "format.schema.json")
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** True when `nameOrPath` names a spec file rather than a built-in. */
export const isSpecPath = (nameOrPath: string): boolean => nameOrPath.endsWith(".json") || nameOrPath.includes("/");

/**
 * One top-level load: the spec files being loaded, outermost first, and a problem of a reference
 * itself (a cycle, a name that means two files) once one is found: resolve wraps a failed lookup
 * in "scale format X is invalid: …" once per level, so each level says the problem once instead.
 */
interface LoadContext {
  readonly chain: readonly string[];
  readonly found: { problem?: string };
}

/**
 * A registry resolves names and paths to formats, memoizing per instance (block formats refer
 * to their scale format by name: a built-in's name means the built-in, another name a sibling file).
 */
export function createRegistry(dir: string = BUILTIN_FORMATS_DIR) {
  const cache = new Map<string, ResolvedFormat>();
  const builtinDir = resolvePath(dir);
  const isBuiltinFile = (absolute: string) => dirname(absolute) === builtinDir;

  const loadFile = (path: string, ctx: LoadContext, expectedName?: string): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> =>
    Effect.gen(function* () {
      const absolute = resolvePath(path);
      const hit = cache.get(absolute);
      if (hit !== undefined) return hit;
      const document = yield* parseJsonDocument(yield* readUserTextFile(path, "spec files"), path);
      const located = (e: SpecError) => withPosition(e, path, document);
      const fail = (pointer: string, message: string) => Effect.fail(located(new SpecError({ file: path, pointer, message })));
      const spec = yield* validateSpec(document.value, path).pipe(Effect.mapError(located));
      if (expectedName !== undefined && spec.name !== expectedName)
        return yield* fail("/name", `is "${spec.name}" but the file is ${expectedName}.json; a built-in's name is its file name`);
      if (!isBuiltinFile(absolute) && builtinFormatNames(dir).includes(spec.name))
        return yield* fail("/name", `"${spec.name}" is the name of a built-in format; give this spec a name of its own (a built-in's name always means the built-in)`);
      const here: LoadContext = { chain: [...ctx.chain, absolute], found: ctx.found };
      const lookup = (name: string) => referenced(name, absolute, here);
      return yield* resolveFormat(spec, path, lookup).pipe(
        Effect.mapError((e) => {
          const problem = ctx.found.problem;
          return located(problem === undefined ? e : new SpecError({ file: path, pointer: e.pointer, message: problem }));
        }),
        Effect.tap((format) => Effect.sync(() => cache.set(absolute, format))),
      );
    });

  /** The format `name` refers to from the spec file `from`: a built-in, else the sibling file NAME.json. */
  const referenced = (name: string, from: string, ctx: LoadContext): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> => {
    const sibling = join(dirname(from), `${name}.json`);
    const builtin = builtinFormatNames(dir).includes(name);
    const target = builtin ? join(builtinDir, `${name}.json`) : sibling;
    const refuse = (problem: string) => {
      ctx.found.problem = problem;
      return Effect.fail(new SpecError({ file: from, pointer: "", message: problem }));
    };
    if (builtin && sibling !== target && existsSync(sibling))
      return refuse(`"${name}" names a built-in format and also the file ${sibling}; a built-in's name always means the built-in, so rename that file and refer to it by its new name`);
    const start = ctx.chain.indexOf(target);
    if (start !== -1) {
      const names = [...ctx.chain.slice(start), target].map((f) => basename(f));
      return refuse(`spec references form a cycle: ${names.join(" → ")}; a format cannot be its own scale format, directly or through other specs`);
    }
    if (builtin) return loadFile(target, ctx, name);
    if (!existsSync(sibling)) return getBuiltin(name);
    return loadFile(sibling, ctx);
  };

  const getBuiltin = (name: string): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> => {
    const names = builtinFormatNames(dir);
    if (!names.includes(name)) return Effect.fail(new UnknownFormatError({ name: excerpt(name), suggestions: closeMatches(name, names) }));
    return loadFile(join(dir, `${name}.json`), { chain: [], found: {} }, name);
  };

  const get = (nameOrPath: string): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> =>
    isSpecPath(nameOrPath) ? loadFile(nameOrPath, { chain: [], found: {} }) : getBuiltin(nameOrPath);

  return { get, names: () => builtinFormatNames(dir) };
}

export type Registry = ReturnType<typeof createRegistry>;

/** Resolves a built-in name or a spec path synchronously; throws the typed error on failure. */
export function loadFormat(nameOrPath: string, registry: Registry = createRegistry()): ResolvedFormat {
  return Effect.runSync(registry.get(nameOrPath));
}
