/**
 * S2FP8's shift and squeeze (Cambier et al., ICLR 2020): log2|Y| = α·log2|X| + β per tensor, with
 * α, β from the log2 moments of the non-zero finite entries (semantics.ts).
 */
import * as Effect from "effect/Effect";
import type { FromSchema } from "json-schema-to-ts";
import { valueToJson } from "../../cli/json-io.ts";
import type { ScalingKind } from "../kind.ts";
import { lowerShiftSqueeze } from "./lower.ts";
import { ALPHA_BETA, shiftSqueezeMetaFromBuffers, shiftSqueezeMetaFromJson, shiftSqueezeMetaLayout } from "./meta.ts";
import { shiftSqueezeParameters, squeeze, unsqueeze } from "./semantics.ts";
import type { ShiftSqueezeMeta, ShiftSqueezeScaling } from "./types.ts";

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "targetMaxLog2"],
  properties: {
    kind: { const: "shift-squeeze" },
    targetMaxLog2: {
      type: "number",
      minimum: 1,
      maximum: 126,
      description: "S2FP8: log2|Y| = α·log2|X| + β with mean(log2|Y|) = 0 and max(log2|Y|) = targetMaxLog2 (15 for E5M2).",
    },
  },
} as const;

type ShiftSqueezeSpec = FromSchema<typeof schema>;

export const shiftSqueezeKind: ScalingKind<ShiftSqueezeScaling, ShiftSqueezeMeta> = {
  kind: "shift-squeeze",
  schema,
  resolve(spec: ShiftSqueezeSpec, { unscaled, fail }) {
    if (unscaled.element.kind !== "float") return fail("", "shift-squeeze (S2FP8) needs a float element");
    const maxLog2 = Math.log2(unscaled.maxFinite);
    if (spec.targetMaxLog2 > maxLog2)
      return fail("/targetMaxLog2", `targetMaxLog2 ${spec.targetMaxLog2} exceeds log2(max finite) = ${maxLog2.toFixed(3)}; the largest entry would overflow`);
    return Effect.succeed<ShiftSqueezeScaling>({ kind: "shift-squeeze", targetMaxLog2: spec.targetMaxLog2 });
  },
  quantize(_format, scaling, x, _call, encode) {
    const { alpha, beta } = shiftSqueezeParameters(x, scaling.targetMaxLog2);
    for (let i = 0; i < x.length; i++) encode(i, squeeze(x[i], alpha, beta));
    return { meta: { kind: "shift-squeeze", alpha, beta }, state: undefined };
  },
  dequantize(_format, _scaling, meta, _call, decoded, out) {
    for (let i = 0; i < out.length; i++) out[i] = unsqueeze(decoded(i), meta.alpha, meta.beta);
  },
  lower: lowerShiftSqueeze,
  metaLayout: (_format, _scaling, role) => shiftSqueezeMetaLayout(role),
  metaFromBuffers: (_format, _scaling, buffers) => shiftSqueezeMetaFromBuffers(buffers),
  buffersFromMeta: (_format, _scaling, meta) => ({ [ALPHA_BETA]: Float32Array.of(meta.alpha, meta.beta) }),
  metaToJson: (meta) => ({ kind: "shift-squeeze", alpha: valueToJson(meta.alpha), beta: valueToJson(meta.beta) }),
  metaFromJson: (meta) => shiftSqueezeMetaFromJson(meta),
  toJson: (scaling) => ({ ...scaling }),
  label: (s) => `shift-squeeze ${s.targetMaxLog2}`,
  sentence: (s) => `shift-squeeze (S2FP8), target max log2 ${s.targetMaxLog2}`,
  byRow: () => false,
  gemmOperand: () => "S2FP8 per-tensor α, β",
};
