/** No tensor scaling: every element is encoded as it is. */
import * as Effect from "effect/Effect";
import { elementOperand } from "../../codegen/lower/gemm/operand.ts";
import type { ScalingKind } from "../kind.ts";
import { lowerUnscaled } from "./lower.ts";

export interface NoScaling {
  readonly kind: "none";
}

export interface NoMeta {
  readonly kind: "none";
}

const schema = { type: "object", additionalProperties: false, required: ["kind"], properties: { kind: { const: "none" } } } as const;

export const noneKind: ScalingKind<NoScaling, NoMeta> = {
  kind: "none",
  schema,
  resolve: () => Effect.succeed<NoScaling>({ kind: "none" }),
  quantize(_format, _scaling, x, _call, encode) {
    for (let i = 0; i < x.length; i++) encode(i, x[i]);
    return { meta: { kind: "none" }, state: undefined };
  },
  dequantize(_format, _scaling, _meta, _call, decoded, out) {
    for (let i = 0; i < out.length; i++) out[i] = decoded(i);
  },
  lower: (format) => lowerUnscaled(format),
  metaLayout: () => [],
  metaFromBuffers: () => ({ kind: "none" }),
  buffersFromMeta: () => ({}),
  metaToJson: () => ({ kind: "none" }),
  metaFromJson: () => Effect.succeed<NoMeta>({ kind: "none" }),
  toJson: () => ({ kind: "none" }),
  label: () => "",
  sentence: () => "none",
  byRow: () => false,
  gemmOperand: (_operand, format) => elementOperand(format),
};
