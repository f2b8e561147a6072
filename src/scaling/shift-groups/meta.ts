/** ShiftQuant metadata: channel_group — u8, one per row; group_exponent — i32, one per group. */
import * as Effect from "effect/Effect";
import type { InputError } from "../../dsl/errors.ts";
import type { BufferDecl } from "../../codegen/plan.ts";
import { parseIntegers } from "../../cli/json-io.ts";
import { bufferDecl, field, metaFail, rawBuffer } from "../meta-parts.ts";
import type { RawBuffers } from "../kind.ts";
import type { ShiftGroupsMeta, ShiftGroupsScaling } from "./types.ts";

export const SHIFT_GROUPS_META = { channelGroup: "channel_group", groupExponent: "group_exponent" } as const;

export const shiftGroupsMetaLayout = (scaling: ShiftGroupsScaling, role: BufferDecl["role"]): readonly BufferDecl[] => [
  bufferDecl(SHIFT_GROUPS_META.channelGroup, "u8", { perChannel: 1 }, role),
  bufferDecl(SHIFT_GROUPS_META.groupExponent, "i32", { constant: scaling.groups }, role),
];

export const shiftGroupsMetaFromBuffers = (buffers: RawBuffers): ShiftGroupsMeta => ({
  kind: "shift-groups",
  channelGroup: Uint8Array.from(rawBuffer(buffers, SHIFT_GROUPS_META.channelGroup)),
  groupExponent: Int32Array.from(rawBuffer(buffers, SHIFT_GROUPS_META.groupExponent)),
});

const FIELDS = ["channelGroup", "groupExponent"];

export function shiftGroupsMetaFromJson(meta: Readonly<Record<string, unknown>>, scaling: ShiftGroupsScaling, codeCount: number, formatName: string): Effect.Effect<ShiftGroupsMeta, InputError> {
  return Effect.gen(function* () {
    const groupExponent = yield* parseIntegers(yield* field(meta, "shift-groups", FIELDS, "groupExponent"), -149, 127, "exponents are", "meta.groupExponent");
    if (groupExponent.length !== scaling.groups)
      return yield* metaFail(`meta.groupExponent: ${formatName} has ${scaling.groups} groups, got ${groupExponent.length} exponents`);
    const channelGroup = yield* parseIntegers(yield* field(meta, "shift-groups", FIELDS, "channelGroup"), 0, scaling.groups - 1, "groups are", "meta.channelGroup");
    if (channelGroup.length === 0 || codeCount % channelGroup.length !== 0)
      return yield* metaFail(`meta.channelGroup: ${channelGroup.length} channels do not divide the ${codeCount} codes`);
    return { kind: "shift-groups", channelGroup: Uint8Array.from(channelGroup), groupExponent: Int32Array.from(groupExponent) } satisfies ShiftGroupsMeta;
  });
}
