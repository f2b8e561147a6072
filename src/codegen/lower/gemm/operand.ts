/**
 * GEMM operands: how the packing step (or an unpacked micro-kernel) gets the value of one
 * element of A or B. The schedule decides where and how often an element is read; the operand
 * decoder decides what reading it means (an f32 load, a format's element decode, later a
 * dequantize with scale metadata), so the two stay apart.
 */
import type { ResolvedFormat } from "../../../dsl/resolved.ts";
import { asI32, i32, load, max, sub, u32, xor, type Builder } from "../../ir/build.ts";
import { scalingKindOf } from "../../../scaling/registry.ts";
import type { Expr, Param, StorageType } from "../../ir/nodes.ts";
import { lowerDecodeElement } from "../element.ts";
import { codeStorage } from "../elementwise.ts";

/** Where an element lives: its flat index in the operand buffer and its stored coordinates. */
export interface ElementSite {
  /** Index into the operand's (row-major) buffer. */
  readonly index: Expr;
  /** Row of the element in the matrix as stored (before op()): MX blocks, channels, groups. */
  readonly storedRow: Expr;
  /** Column of the element in the matrix as stored. */
  readonly storedCol: Expr;
}

/** The kernel parameter names one operand is bound to. */
export interface OperandBuffers {
  /** The buffer holding the operand's f32 values or codes. */
  readonly data: string;
  /** The kernel parameter name of one of the decoder's `extraParams` (by its local name). */
  readonly extra: (local: string) => string;
}

/** Reads elements of one bound operand (its setup has been emitted once, at kernel level). */
export interface ElementReader {
  /** The element's f32 value. */
  value(b: Builder, site: ElementSite): Expr;
  /** The element's i32 integer; its value is integer·2^scaleLog2 (only when `integer` is set). */
  integer(b: Builder, site: ElementSite): Expr;
  /**
   * Only for a lane-scaled decoder: the i32 exponent e of a lane (row i of op(A), column j of
   * op(B); an index below the operand's lane count): every element of that lane is
   * integer·2^(scaleLog2 + e), so the product's lane scale is applied once, after accumulation.
   */
  laneExponent?(b: Builder, lane: Expr): Expr;
}

/** An operand of an exact i32 multiply-accumulate: |integer| ≤ maxAbs, value = integer·2^scaleLog2. */
export interface IntegerDomain {
  readonly maxAbs: number;
  readonly scaleLog2: number;
}

/**
 * How the GEMM lowering reads one operand. A scaled format plugs in here: its `extraParams` name
 * the scale metadata (MX scale codes, amax scaleInv per tensor or channel, S2FP8 α/β scalars,
 * ShiftQuant channel groups and exponents), `bind` hoists per-tensor loads to kernel level, and
 * `value` dequantizes one element from its site (block = index / blockSize along memory,
 * channel = storedRow, …), or — for a scale that is constant along the depth of each lane
 * (ShiftQuant) — `laneExponent` hands the scale to the write-back. It must be pure per element:
 * the schedule may read an element more than once (pack: false) or in any order.
 */
export interface OperandDecoder {
  /** "f32" or the format's name, for messages. */
  readonly label: string;
  /** Element type of the data buffer. */
  readonly storage: StorageType;
  /** Extra kernel parameters (scale metadata), with names local to the operand. */
  readonly extraParams: readonly Param[];
  /** Set when the operand can take the exact integer path. */
  readonly integer: IntegerDomain | null;
  /**
   * The operand carries one power-of-two scale per lane (its reader has `laneExponent`); the
   * lowering then needs the integer path, whose write-back applies the scale.
   */
  readonly laneScaled: boolean;
  /** Emits the operand's kernel-level setup once and returns its element reader. */
  bind(b: Builder, buffers: OperandBuffers): ElementReader;
}

/** A GEMM that cannot be lowered (yet) for these operands; says which operand and why. */
export class GemmUnsupportedError extends Error {
  constructor(
    readonly operand: "a" | "b",
    readonly label: string,
    readonly reason: string,
  ) {
    super(`GEMM operand ${operand.toUpperCase()} (${label}): ${reason}`);
    this.name = "GemmUnsupportedError";
  }
}

const noInteger = (label: string) => (): Expr => {
  throw new Error(`GEMM operand ${label} has no integer path`);
};

/** f32 operands: a plain load. */
export const f32Operand: OperandDecoder = Object.freeze({
  label: "f32",
  storage: "f32" as const,
  extraParams: [],
  integer: null,
  laneScaled: false,
  bind: (_b: Builder, buffers: OperandBuffers): ElementReader => ({
    value: (_inner: Builder, site: ElementSite) => load("f32", buffers.data, site.index),
    integer: noInteger("f32"),
  }),
});

/**
 * Codes of a format without tensor scaling: the element decode (a table for ≤ 8-bit codes),
 * and for integer elements the sign-extended integer with scale 2^−fractionBits.
 */
export function elementOperand(format: ResolvedFormat): OperandDecoder {
  if (format.scaling.kind !== "none") throw new Error(`elementOperand: ${format.name} has tensor scaling ${format.scaling.kind}`);
  const integer = integerDomain(format);
  return Object.freeze({
    label: format.name,
    storage: codeStorage(format),
    extraParams: [],
    integer,
    laneScaled: false,
    bind: (_b: Builder, buffers: OperandBuffers): ElementReader => ({
      value: (b: Builder, site: ElementSite) => lowerDecodeElement(b, format, b.let("code", load("u32", buffers.data, site.index))),
      integer: integer !== null ? integerReader(format, buffers.data) : noInteger(format.name),
    }),
  });
}

/**
 * The integer domain of a format's elements (its codes, ignoring any tensor scaling), or null for
 * non-integer elements. The integers are code − zeroPoint, so an affine operand's bound is taken
 * after the shift (uint4 with zero point 8: −8..7).
 */
export function integerDomain(format: ResolvedFormat): IntegerDomain | null {
  const el = format.element;
  return el.kind === "int" && el.bits <= 31 ? { maxAbs: Math.max(Math.abs(el.minInt - el.zeroPoint), Math.abs(el.maxInt - el.zeroPoint)), scaleLog2: -el.fractionBits } : null;
}

/**
 * Reads an integer element's code from `data` as an i32 (sign-extended for signed elements) minus
 * its zero point. Subtracting the zero point from each operand as it is read is the zero-point
 * correction of the integer GEMM: Σ(a − za)(b − zb) = Σab − zb·Σa − za·Σb + k·za·zb, every term
 * exact in i32 (maxAbs bounds |a − za|), and the packing step reads each element once.
 */
export function integerReader(format: ResolvedFormat, data: string): (b: Builder, site: ElementSite) => Expr {
  const el = format.element;
  if (el.kind !== "int") throw new Error(`integerReader: ${format.name} has ${el.kind} elements`);
  return (b, site) => {
    const code = load("u32", data, site.index);
    const half = 2 ** (el.bits - 1);
    // Two's complement sign extension of a `bits`-wide code: (code ^ half) − half. A symmetric
    // format's left-out code 100…0 decodes as −maxInt (the semantics), so it is clamped there.
    const shifted = (int: Expr) => (el.zeroPoint === 0 ? int : sub(int, i32(el.zeroPoint)));
    if (!el.signed) return b.let("int", shifted(asI32(code)));
    const extended = sub(asI32(xor(code, u32(half))), i32(half));
    return b.let("int", shifted(el.minInt > -half ? max(extended, i32(el.minInt)) : extended));
  };
}

/** The decoder for an operand, or a GemmUnsupportedError naming what is missing: the scaling kind says. */
export function operandDecoder(operand: "a" | "b", format: ResolvedFormat | "f32"): OperandDecoder {
  if (format === "f32") return f32Operand;
  const decoder = scalingKindOf(format.scaling).gemmOperand(operand, format, format.scaling);
  if (typeof decoder === "string")
    throw new GemmUnsupportedError(operand, format.name, `tensor scaling "${format.scaling.kind}" (${decoder}) is not yet supported by the GEMM lowering; dequantize the operand to f32 first`);
  return decoder;
}
