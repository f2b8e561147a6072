/** A generated spec through the same gates a spec file goes through: the schema, then resolve. */
import * as Effect from "effect/Effect";
import { createRegistry } from "../../src/dsl/registry.ts";
import { resolveFormat } from "../../src/dsl/resolve.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import type { FloatElementSpec, FormatSpec, IntElementSpec, PositElementSpec, TableElementSpec } from "../../src/dsl/spec-schema.ts";
import { validateSpec } from "../../src/dsl/validate.ts";

/** A field the schema gives a default may be left out of a spec file. */
type Defaulted<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
/** An element as a spec file may write it. */
export type WrittenElement = Defaulted<FloatElementSpec, "signed" | "zero"> | PositElementSpec | Defaulted<IntElementSpec, "fractionBits" | "zeroPoint"> | TableElementSpec;
/** A spec as a file may write it (FormatSpec is the type after the schema's defaults). */
export type WrittenSpec = Omit<FormatSpec, "element"> & { readonly element: WrittenElement };

const registry = createRegistry();
const FILE = "fuzz.json";

/** The resolved format, or where and why the schema or resolve rejects the spec. */
export type Resolution = { readonly format: ResolvedFormat } | { readonly stage: "schema" | "resolve"; readonly reason: string };

/** Validates and resolves `spec` (other formats it names, such as a block scale format, are looked up among the built-ins). */
export function resolveSpec(spec: WrittenSpec): Resolution {
  const rejected = (stage: "schema" | "resolve") => (e: { pointer: string; message: string }): Resolution => ({ stage, reason: `${e.pointer}: ${e.message}` });
  const program = validateSpec(structuredClone(spec), FILE).pipe(
    Effect.mapError(rejected("schema")),
    Effect.flatMap((valid) => resolveFormat(valid, FILE, registry.get).pipe(Effect.mapError(rejected("resolve")))),
    Effect.map((format): Resolution => ({ format })),
  );
  return Effect.runSync(Effect.match(program, { onFailure: (r) => r, onSuccess: (r) => r }));
}
