/**
 * ShiftQuant (arXiv 2411.10948): rows (channels) take the power-of-two scale of their magnitude,
 * clamped to `groups` consecutive exponents below the largest, so an integer GEMM applies one shift
 * per group after accumulation.
 */
import * as Effect from "effect/Effect";
import type { FromSchema } from "json-schema-to-ts";
import type { ScalingKind } from "../kind.ts";
import { shiftGroupsOperand } from "./gemm.ts";
import { lowerShiftGroups } from "./lower.ts";
import { SHIFT_GROUPS_META, shiftGroupsMetaFromBuffers, shiftGroupsMetaFromJson, shiftGroupsMetaLayout } from "./meta.ts";
import { shiftGroups } from "./semantics.ts";
import type { ShiftGroupsMeta, ShiftGroupsScaling } from "./types.ts";

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "groups"],
  properties: {
    kind: { const: "shift-groups" },
    groups: {
      type: "integer",
      minimum: 1,
      maximum: 32,
      description: "ShiftQuant: rows (channels) take the power-of-two scale of their magnitude, clamped to `groups` consecutive shifts below the largest.",
    },
  },
} as const;

type ShiftGroupsSpec = FromSchema<typeof schema>;

export const shiftGroupsKind: ScalingKind<ShiftGroupsScaling, ShiftGroupsMeta> = {
  kind: "shift-groups",
  schema,
  resolve(spec: ShiftGroupsSpec, { unscaled, fail }) {
    const e = unscaled.element;
    if (e.kind !== "int" || !e.signed) return fail("", "shift-groups (ShiftQuant) needs a signed integer element");
    return Effect.succeed<ShiftGroupsScaling>({ kind: "shift-groups", groups: spec.groups });
  },
  quantize(format, scaling, x, call, encode) {
    const { channelGroup, groupExponent } = shiftGroups(format, scaling.groups, x, { length: x.length, channels: call.shape.rows });
    const per = call.shape.cols;
    for (let i = 0; i < x.length; i++) encode(i, x[i] * 2 ** -groupExponent[channelGroup[Math.floor(i / per)]]);
    return { meta: { kind: "shift-groups", channelGroup, groupExponent }, state: undefined };
  },
  dequantize(_format, _scaling, meta, _call, decoded, out) {
    // The rows are the ones the codes were quantized with: one group entry per row.
    const per = out.length / meta.channelGroup.length;
    for (let i = 0; i < out.length; i++) out[i] = decoded(i) * 2 ** meta.groupExponent[meta.channelGroup[Math.floor(i / per)]];
  },
  lower: lowerShiftGroups,
  metaLayout: (_format, scaling, role) => shiftGroupsMetaLayout(scaling, role),
  metaFromBuffers: (_format, _scaling, buffers) => shiftGroupsMetaFromBuffers(buffers),
  buffersFromMeta: (_format, _scaling, meta) => ({
    [SHIFT_GROUPS_META.channelGroup]: Uint8Array.from(meta.channelGroup),
    [SHIFT_GROUPS_META.groupExponent]: Int32Array.from(meta.groupExponent),
  }),
  metaToJson: (meta) => ({ kind: "shift-groups", channelGroup: Array.from(meta.channelGroup), groupExponent: Array.from(meta.groupExponent) }),
  metaFromJson: (meta, format, scaling, codeCount) => shiftGroupsMetaFromJson(meta, scaling, codeCount, format.name),
  toJson: (scaling) => ({ ...scaling }),
  label: (s) => `shift-groups${s.groups}`,
  sentence: (s) => `shift-groups (ShiftQuant), ${s.groups} power-of-two groups`,
  byRow: () => true,
  gemmOperand: (_operand, format) => shiftGroupsOperand(format),
};
