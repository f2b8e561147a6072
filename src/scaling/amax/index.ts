/**
 * amax scaling (Transformer Engine style): one float32 scale per tensor or per row (channel),
 * maxFinite/amax — optionally a power of two, divided by 2^margin — from this call's amax or the
 * max over a delayed history of amaxes.
 */
import * as Effect from "effect/Effect";
import type { FromSchema } from "json-schema-to-ts";
import type { ScalingKind } from "../kind.ts";
import { valueToJson } from "../../cli/json-io.ts";
import { lowerAmax } from "./lower.ts";
import {
  amaxBuffersFromMeta, amaxBuffersFromState, amaxMetaFromBuffers, amaxMetaFromJson, amaxMetaLayout, amaxMetaToJson, amaxStateFromBuffers, amaxStateLayout,
} from "./meta.ts";
import { amaxScales } from "./semantics.ts";
import type { AmaxMeta, AmaxScaling } from "./types.ts";

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "granularity", "history", "scale"],
  properties: {
    kind: { const: "amax" },
    granularity: { enum: ["tensor", "channel"], description: "channel: one scale per row (leading-axis slice)." },
    history: {
      description: "current: scale from this tensor's amax; delayed: from the max over the last `length` amaxes (Transformer Engine style).",
      oneOf: [
        { const: "current" },
        {
          type: "object",
          additionalProperties: false,
          required: ["mode", "length"],
          properties: { mode: { const: "delayed" }, length: { type: "integer", minimum: 1, maximum: 4096 } },
        },
      ],
    },
    margin: { type: "integer", minimum: 0, maximum: 32, default: 0, description: "The scale is divided by 2^margin." },
    scale: { enum: ["fp32", "power-of-two"], description: "fp32: maxFinite/amax; power-of-two: that rounded down to a power of two." },
  },
} as const;

type AmaxSpec = FromSchema<typeof schema>;

export const amaxKind: ScalingKind<AmaxScaling, AmaxMeta> = {
  kind: "amax",
  schema,
  resolve: (spec: AmaxSpec) =>
    Effect.succeed<AmaxScaling>({
      kind: "amax",
      granularity: spec.granularity,
      history: spec.history === "current" ? { mode: "current" } : { mode: "delayed", length: spec.history.length },
      margin: spec.margin ?? 0,
      scale: spec.scale,
    }),
  quantize(format, scaling, x, call, encode) {
    const result = amaxScales(format, scaling, x, { length: x.length, channels: call.shape.rows }, call.state);
    const per = x.length / result.meta.scale.length;
    for (let i = 0; i < x.length; i++) encode(i, Math.fround(x[i] * result.meta.scale[Math.floor(i / per)]));
    return result;
  },
  dequantize(_format, _scaling, meta, _call, decoded, out) {
    const per = out.length / meta.scaleInv.length;
    for (let i = 0; i < out.length; i++) out[i] = decoded(i) * meta.scaleInv[Math.floor(i / per)];
  },
  lower: lowerAmax,
  metaLayout: amaxMetaLayout,
  stateLayout: amaxStateLayout,
  metaFromBuffers: (_format, _scaling, buffers) => amaxMetaFromBuffers(buffers),
  buffersFromMeta: (_format, _scaling, meta) => amaxBuffersFromMeta(meta),
  stateFromBuffers: (_format, scaling, buffers) => amaxStateFromBuffers(scaling, buffers),
  buffersFromState: amaxBuffersFromState,
  metaToJson: (meta) => amaxMetaToJson(meta, (a) => Array.from(a, valueToJson)),
  metaFromJson: (meta, _format, _scaling, codeCount) => amaxMetaFromJson(meta, codeCount),
  toJson: (scaling) => ({ ...scaling }),
  label: (s) =>
    [`amax ${s.granularity}`, s.history.mode === "delayed" ? `delayed${s.history.length}` : "", s.scale === "power-of-two" ? "pow2" : "", s.margin > 0 ? `margin${s.margin}` : ""]
      .filter((p) => p !== "")
      .join(" "),
  sentence: (s) =>
    `amax per ${s.granularity}, ${s.history.mode === "delayed" ? `delayed over ${s.history.length} steps` : "current"}, margin ${s.margin}, ${s.scale} scale`,
  byRow: (s) => s.granularity === "channel",
  gemmOperand: (_operand, _format, s) => `one scale per ${s.granularity}`,
};
