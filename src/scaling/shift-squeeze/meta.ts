/** S2FP8 metadata: one f32[2] buffer alpha_beta = [α, β]; as JSON {alpha, beta}. */
import * as Effect from "effect/Effect";
import type { InputError } from "../../dsl/errors.ts";
import type { BufferDecl } from "../../codegen/plan.ts";
import { parseValue, showJson } from "../../cli/json-io.ts";
import { bufferDecl, field, metaFail, rawBuffer } from "../meta-parts.ts";
import type { RawBuffers } from "../kind.ts";
import type { ShiftSqueezeMeta } from "./types.ts";

export const ALPHA_BETA = "alpha_beta";

export const shiftSqueezeMetaLayout = (role: BufferDecl["role"]): readonly BufferDecl[] => [bufferDecl(ALPHA_BETA, "f32", { constant: 2 }, role)];

export function shiftSqueezeMetaFromBuffers(buffers: RawBuffers): ShiftSqueezeMeta {
  const ab = rawBuffer(buffers, ALPHA_BETA);
  return { kind: "shift-squeeze", alpha: Math.fround(ab[0]), beta: Math.fround(ab[1]) };
}

const FIELDS = ["alpha", "beta"];

export function shiftSqueezeMetaFromJson(meta: Readonly<Record<string, unknown>>): Effect.Effect<ShiftSqueezeMeta, InputError> {
  return Effect.gen(function* () {
    const alpha = yield* parseValue(yield* field(meta, "shift-squeeze", FIELDS, "alpha"), "meta.alpha");
    const beta = yield* parseValue(yield* field(meta, "shift-squeeze", FIELDS, "beta"), "meta.beta");
    // α > 0 always (the squeeze maps the max of log2|x| onto the target): a negative or zero α did not come from encode.
    if (!Number.isFinite(alpha) || alpha <= 0) return yield* metaFail(`meta.alpha: must be a finite positive number, as encode returns it (got ${showJson(meta.alpha)})`);
    if (!Number.isFinite(beta)) return yield* metaFail(`meta.beta: must be a finite number (got ${showJson(meta.beta)})`);
    return { kind: "shift-squeeze", alpha, beta } satisfies ShiftSqueezeMeta;
  });
}
