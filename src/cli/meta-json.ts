/**
 * Tensor scale metadata as JSON: typed arrays become plain arrays on the way out and are
 * checked and rebuilt on the way in, against the format and the number of codes. Each scaling
 * kind owns its fields (src/scaling/<kind>); this checks the envelope.
 */
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import type { ScaleMeta } from "../dsl/semantics/tensor.ts";
import { scalingKindOf } from "../scaling/registry.ts";
import { jsonType, showJson } from "./json-io.ts";

/** The JSON form of quantize's metadata. */
export function metaToJson(format: ResolvedFormat, meta: ScaleMeta): Record<string, unknown> {
  return scalingKindOf(format.scaling).metaToJson(meta, format.scaling);
}

const fail = (message: string) => Effect.fail(new InputError({ where: "stdin", message }));

/** Rebuilds quantize's metadata for `codeCount` codes of `format`, checking every field. */
export function metaFromJson(json: unknown, format: ResolvedFormat, codeCount: number): Effect.Effect<ScaleMeta, InputError> {
  if (json === null || typeof json !== "object" || Array.isArray(json))
    return fail(`meta: expected an object as printed by \`numforge encode ${format.name} --json\`, got ${jsonType(json)}`);
  const meta = json as Record<string, unknown>;
  const kind = format.scaling.kind;
  if (meta.kind !== kind) return fail(`meta.kind: ${showJson(meta.kind)} does not match ${format.name}, whose scaling is "${kind}"`);
  return scalingKindOf(format.scaling).metaFromJson(meta, format, format.scaling, codeCount);
}
