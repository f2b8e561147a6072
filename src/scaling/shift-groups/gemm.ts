/** ShiftQuant codes as a lane-scaled integer GEMM operand. */
import { asI32, load, type Builder } from "../../codegen/ir/build.ts";
import type { Expr, Param } from "../../codegen/ir/nodes.ts";
import { codeStorage } from "../../codegen/lower/elementwise.ts";
import { integerDomain, integerReader, type ElementReader, type OperandBuffers, type OperandDecoder } from "../../codegen/lower/gemm/operand.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { SHIFT_GROUPS_META as META } from "./meta.ts";

/**
 * Codes of a ShiftQuant (shift-groups) format as a lane-scaled integer operand: lane l (row i of
 * op(A), column j of op(B), whatever the storage order) belongs to group channel_group[l] and is
 * scaled by 2^group_exponent[group]. Its parameters, `channel_group` (u8, one per lane) and
 * `group_exponent` (i32, one per group), are the buffers of the format's metadata (meta.ts)
 * for codes quantized with one channel per lane: the semantics' leading-axis channels when the
 * lane axis leads the stored matrix (A as stored, B transposed), a transposed copy's otherwise.
 */
export function shiftGroupsOperand(format: ResolvedFormat): OperandDecoder {
  const integer = integerDomain(format);
  if (integer === null) throw new Error(`shiftGroupsOperand: ${format.name} has ${format.element.kind} elements`);
  const extraParams: Param[] = [
    { kind: "buffer", name: META.channelGroup, storage: "u8", access: "read" },
    { kind: "buffer", name: META.groupExponent, storage: "i32", access: "read" },
  ];
  return Object.freeze({
    label: format.name,
    storage: codeStorage(format),
    extraParams,
    integer,
    laneScaled: true,
    bind: (_b: Builder, buffers: OperandBuffers): ElementReader => ({
      value: () => {
        throw new Error(`GEMM operand ${format.name} is lane-scaled: it is read as integers only`);
      },
      integer: integerReader(format, buffers.data),
      laneExponent: (b: Builder, lane: Expr) =>
        b.let("lane_exp", load("i32", buffers.extra(META.groupExponent), asI32(load("u32", buffers.extra(META.channelGroup), lane)))),
    }),
  });
}

