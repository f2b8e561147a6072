/**
 * Specs from text, without a filesystem: the explorer page resolves the built-ins it was given and
 * specs pasted into it through the same steps, schema and messages as the CLI's registry
 * (src/dsl/registry.ts: parse with positions, validate, a user spec may not take a built-in's
 * name, resolve; errors carry line and column). A pasted spec refers to other formats (a scale
 * format) by built-in name only: it has no folder of sibling files.
 */
import * as Effect from "effect/Effect";
import { excerpt, SpecError, UnknownFormatError } from "../dsl/errors.ts";
import { parseJsonDocument, withPosition } from "../dsl/json-text.ts";
import { closeMatches } from "../dsl/close-matches.ts";
import { resolveFormat } from "../dsl/resolve.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { validateSpec } from "../dsl/validate.ts";

/** The name a pasted spec is reported under, where the CLI names the spec's file. */
export const PASTED_SPEC_FILE = "pasted spec";

/** The built-in specs by name, as the text of their files. */
export type BuiltinSpecs = Readonly<Record<string, string>>;

/** Resolves built-ins (memoized) and pasted specs against one set of built-in spec texts. */
export function createTextRegistry(builtins: BuiltinSpecs) {
  const cache = new Map<string, ResolvedFormat>();
  const names = Object.keys(builtins).sort();

  const load = (text: string, file: string, builtinName?: string): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> =>
    Effect.gen(function* () {
      const document = yield* parseJsonDocument(text, file);
      const located = (e: SpecError) => withPosition(e, file, document);
      const fail = (pointer: string, message: string) => Effect.fail(located(new SpecError({ file, pointer, message })));
      const spec = yield* validateSpec(document.value, file).pipe(Effect.mapError(located));
      if (builtinName !== undefined && spec.name !== builtinName)
        return yield* fail("/name", `is "${spec.name}" but the file is ${builtinName}.json; a built-in's name is its file name`);
      if (builtinName === undefined && names.includes(spec.name))
        return yield* fail("/name", `"${spec.name}" is the name of a built-in format; give this spec a name of its own (a built-in's name always means the built-in)`);
      return yield* resolveFormat(spec, file, builtin).pipe(Effect.mapError(located));
    });

  const builtin = (name: string): Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError> => {
    const hit = cache.get(name);
    if (hit !== undefined) return Effect.succeed(hit);
    const text = builtins[name];
    if (text === undefined) return Effect.fail(new UnknownFormatError({ name: excerpt(name), suggestions: closeMatches(name, names) }));
    return load(text, `${name}.json`, name).pipe(Effect.tap((format) => Effect.sync(() => cache.set(name, format))));
  };

  return {
    names: () => names,
    /** A built-in by name. */
    builtin,
    /** A spec's text, reported as `file` in messages. */
    fromText: (text: string, file: string) => load(text, file),
  };
}

export type TextRegistry = ReturnType<typeof createTextRegistry>;
