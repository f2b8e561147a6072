/**
 * decode(encode(x)) of one element as one f32 expression, for the fake-quantize kernels.
 *
 * Signed float formats with subnormals and round-to-nearest-even take a fused path that never
 * forms the code: |x| is rounded to the format's grid in float32 itself (wholly on the bit pattern
 * where the format's normal range starts at float32's, as bf16's does) — in the normal range by
 * rounding the float32 mantissa to m bits (add half an ulp minus one plus the kept last bit, then
 * clear the dropped bits: ties to even, a carry steps the exponent), below it by rounding the
 * magnitude to a multiple of the subnormal quantum 2^(emin − m) with one float32 addition of
 * C = 2^(emin − m + 23) read back as an integer (see roundBelowNormal; never (C + x) − C in float,
 * which GPU shader compilers may fold to x). What remains are the values the code would not give back as ±|rounded|: zeros,
 * overflow, NaN — their results are taken from the semantics at lowering time, decode(encode(·))
 * of ±0, ±max float32 and ±NaN, so every special case is the definition's by construction.
 * Integer formats (any rounding) give the clamped rounded integer itself, scaled (see below).
 * All other formats, and stochastic rounding of floats, compose lowerEncodeElement and
 * lowerDecodeElement.
 */
import type { ResolvedFloat, ResolvedFormat, ResolvedInt } from "../../dsl/resolved.ts";
import { f32Bits, fromF32Bits } from "../../dsl/semantics/bits.ts";
import { decodeF32Bits, encode } from "../../dsl/semantics/scalar.ts";
import { Builder, add, and, bitsOf, convert, eq, f32, fromBits, ge, gt, mul, ne, or, select, shl, shr, sub, u32 } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import { lowerDecodeElement, lowerEncodeElement } from "./element.ts";
import { lowerIntRounded } from "./int-element.ts";
import { splitSign } from "./pow2.ts";

const MAX_F32 = 3.4028234663852886e38;
/**
 * The fused path's smallest subnormal quantum: every float32 subnormal input rounds to zero, so a
 * target that flushes float32 subnormals (GPUs may) computes the same values.
 */
const MIN_QUANTUM_EXPONENT = -100;

/** The float32 bits decode(encode(x)) gives for a positive and a negative input, from the semantics. */
interface SignedSpecial {
  readonly positive: number;
  readonly negative: number;
}

/** What the fused path needs of a format, or null where it does not apply. */
interface FusedRounding {
  readonly mantissaBits: number;
  readonly minNormalExponent: number;
  readonly maxFinite: number;
  readonly zero: SignedSpecial;
  readonly overflow: SignedSpecial;
  readonly nan: SignedSpecial;
  /**
   * The format's grid is float32's with the mantissa cut to m bits at every magnitude (its normal
   * range starts at float32's, 2^−126, so its subnormal quantum 2^(−126 − m) is float32's bit
   * quantum times 2^(23 − m)): rounding the bit pattern rounds every |x|, float32 subnormals
   * included, in integer arithmetic only (bf16).
   */
  readonly onBits: boolean;
}

const fakeBits = (format: ResolvedFormat, x: number) => decodeF32Bits(format, encode(format, x));
const special = (format: ResolvedFormat, positive: number, negative: number): SignedSpecial => ({
  positive: fakeBits(format, positive),
  negative: fakeBits(format, negative),
});

/** The fused path's constants for `format` under deterministic rounding, or null (see the module comment). */
export function fusedRounding(format: ResolvedFormat): FusedRounding | null {
  if (format.element.kind !== "float" || format.rounding.mode !== "nearest-even") return null;
  const el: ResolvedFloat = format.element;
  const m = el.mantissaBits;
  if (!el.signed || !el.zero || !el.subnormals || m < 1 || m > 22) return null;
  const onBits = el.minNormalExponent === -126;
  // roundBelowNormal's carrier 2^(emin − m + 23) must be a finite float32 (formats near float32's top are left to encode).
  if (!onBits && (el.minNormalExponent < -126 || el.minNormalExponent - m < MIN_QUANTUM_EXPONENT || el.minNormalExponent - m + 23 > 127)) return null;
  if (!(format.maxFinite < MAX_F32) || Math.fround(format.maxFinite) !== format.maxFinite) return null;
  const overflow = special(format, MAX_F32, -MAX_F32);
  const infinity = special(format, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  // Round to nearest never tells an overflowed finite input from an infinite one; a format that does is left to encode.
  if (overflow.positive !== infinity.positive || overflow.negative !== infinity.negative) return null;
  return {
    mantissaBits: m,
    minNormalExponent: el.minNormalExponent,
    maxFinite: format.maxFinite,
    zero: special(format, 0, -0),
    overflow,
    nan: special(format, fromF32Bits(0x7fc00000), fromF32Bits(0xffc00000)),
    onBits,
  };
}

/** f32 decode(encode(x)) in `format`; `random` is the element's u32 draw (stochastic rounding only). */
export function lowerFakeQuantizeElement(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null): Expr {
  if (format.element.kind === "int" && format.element.fractionBits <= 126) return lowerFakeQuantizeInt(b, format, x, random);
  const fused = random === null ? fusedRounding(format) : null;
  if (fused === null) return lowerDecodeElement(b, format, lowerEncodeElement(b, format, x, random));
  const { absBits, sign } = splitSign(b, x);
  const negative = b.let("negative", ne(sign, u32(0)));
  const bySign = (s: SignedSpecial) => (s.positive === s.negative ? fromBits(u32(s.positive)) : select(negative, fromBits(u32(s.negative)), fromBits(u32(s.positive))));

  const dropped = 23 - fused.mantissaBits;
  const keptLsb = and(shr(absBits, u32(dropped)), u32(1));
  const normalBits = and(add(add(absBits, u32(2 ** (dropped - 1) - 1)), keptLsb), u32(~(2 ** dropped - 1)));
  // ±∞ rounds to +∞ bits and so overflows; NaN is told apart by its input bits.
  if (fused.onBits) {
    // Compared as bits, never as floats: a target that flushes float32 subnormals would take a rounded subnormal for 0.
    const roundedBits = b.let("rounded_bits", normalBits);
    let onGrid = fromBits(or(roundedBits, shl(sign, u32(31))));
    onGrid = select(gt(roundedBits, u32(f32Bits(fused.maxFinite))), bySign(fused.overflow), onGrid);
    onGrid = select(eq(roundedBits, u32(0)), bySign(fused.zero), onGrid);
    return b.let("fake_quantized", select(gt(absBits, u32(0x7f800000)), bySign(fused.nan), onGrid));
  }
  const subnormal = roundBelowNormal(b, absBits, fused);
  const minNormalBits = (fused.minNormalExponent + 127) * 2 ** 23;
  const rounded = b.let("rounded_magnitude", select(ge(absBits, u32(minNormalBits)), fromBits(normalBits), subnormal));
  let value = fromBits(or(bitsOf(rounded), shl(sign, u32(31))));
  value = select(gt(rounded, f32(fused.maxFinite)), bySign(fused.overflow), value);
  value = select(eq(rounded, f32(0)), bySign(fused.zero), value);
  return b.let("fake_quantized", select(gt(absBits, u32(0x7f800000)), bySign(fused.nan), value));
}

/**
 * |x| below the format's normal range rounded to the nearest multiple of the quantum
 * q = 2^(emin − m), ties to even: C + |x| with C = 2^(emin − m + 23) is one correctly rounded float32
 * addition whose ulp is q (|x| < 2^emin ≤ C/2 keeps the sum in C's binade), so the integer
 * bits(C + |x|) − bits(C) is round(|x| / q), and times q (exact) the value. The rounded sum is read
 * as bits instead of subtracting C in float: GPU shader compilers may fold (C + x) − C to x.
 * float32 subnormal inputs give 0 whether or not a target flushes them (q ≥ 2^MIN_QUANTUM_EXPONENT).
 */
function roundBelowNormal(b: Builder, absBits: Expr, fused: FusedRounding): Expr {
  const carrier = 2 ** (fused.minNormalExponent - fused.mantissaBits + 23);
  const sum = b.let("quantum_carrier_sum", add(f32(carrier), fromBits(absBits)));
  const kept = sub(bitsOf(sum), u32(f32Bits(carrier)));
  return mul(convert("f32.fromU32", kept), f32(2 ** (fused.minNormalExponent - fused.mantissaBits)));
}

/**
 * Integers: the clamped integer encode computes, less the zero point, as the f32 the code decodes to — its two's
 * complement code round-trips it exactly (|n| ≤ 2^24), −0 aside, which the code turns into +0 —
 * times 2^−fractionBits (a normal power: one rounding, as the decode table's). NaN takes the
 * semantics' decode(encode(NaN)).
 */
function lowerFakeQuantizeInt(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null): Expr {
  const el = format.element as ResolvedInt;
  const { clamped, isNan } = lowerIntRounded(b, format, x, random);
  // Less the zero point: both are integers of at most 2^24 + 2^16, so the f32 subtraction is exact.
  const shifted = el.zeroPoint === 0 ? clamped : sub(clamped, f32(el.zeroPoint));
  const integer = b.let("integer", select(eq(shifted, f32(0)), f32(0), shifted));
  const value = el.fractionBits === 0 ? integer : mul(integer, f32(2 ** -el.fractionBits));
  return b.let("fake_quantized", select(isNan, fromBits(u32(fakeBits(format, Number.NaN))), value));
}
