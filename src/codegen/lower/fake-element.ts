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
 * which GPU shader compilers may fold to x — the wasm target, whose float arithmetic is never
 * reassociated, turns the read-back into that subtraction where it proves them equal:
 * targets/wasm/carrier-difference.ts). What remains are the values the code would not give back as ±|rounded|: zeros,
 * overflow, NaN — their results are taken from the semantics at lowering time, decode(encode(·))
 * of ±0, ±max float32 and ±NaN, so every special case is the definition's by construction.
 * Under nearest-even, where the format's top binade leaves the carrier a finite float32, both ranges
 * are one form (roundOnCarrier: a carrier per lane, 2^(max(E, emin) − m + 23), no select between
 * them), and where the special results keep x's sign or ignore it the sign is put back once at the
 * end (lowerSignApartTail: saturation an i32 minimum, no selects by sign).
 * Stochastic rounding of the same floats (up to 24 random bits) takes the fused path too, rounding
 * up or down on the same bits by the draw. Integer formats (any rounding) give the clamped rounded
 * integer itself, scaled (see below). All other formats compose lowerEncodeElement and
 * lowerDecodeElement.
 */
import type { ResolvedFloat, ResolvedFormat, ResolvedInt, Rounding } from "../../dsl/resolved.ts";
import { f32Bits, fromF32Bits } from "../../dsl/semantics/bits.ts";
import { decodeF32Bits, encode } from "../../dsl/semantics/scalar.ts";
import { Builder, add, and, asI32, asU32, bitsOf, convert, eq, f32, fromBits, ge, gt, i32, lt, max, min, mul, ne, or, select, shl, shr, sub, u32 } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import { lowerDecodeElement, lowerEncodeElement } from "./element.ts";
import { lowerIntRounded } from "./int-element.ts";
import { lowerRoundToInteger, stochasticUp } from "./rounding.ts";

const MAX_F32 = 3.4028234663852886e38;
const SIGN_BIT = 0x80000000;
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

/** The special is a magnitude given x's sign: its negative result is its positive one with the sign bit set. */
const withSign = (s: SignedSpecial) => (s.positive & SIGN_BIT) === 0 && s.negative === (s.positive | SIGN_BIT) >>> 0;

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
  /** Stochastic rounding's random bits (the top bits of the element's draw), or null for nearest-even. */
  readonly stochasticBits: number | null;
  /**
   * The overflow result is a magnitude with x's sign, and zero's and NaN's each are one too or the
   * same for both signs: the path rounds magnitudes and puts x's sign bit back once (lowerSignApartTail).
   */
  readonly signApart: boolean;
}

/** decode(encode(x)) as float32 bits, with stochastic rounding's draw `random` (ignored by the other modes). */
const fakeBits = (format: ResolvedFormat, x: number, random: number) => decodeF32Bits(format, encode(format, x, { random }));
const special = (format: ResolvedFormat, positive: number, negative: number, random = 0): SignedSpecial => ({
  positive: fakeBits(format, positive, random),
  negative: fakeBits(format, negative, random),
});

/**
 * Stochastic rounding's random bits the fused path takes: up to 24, so that t + r stays a u32
 * and a float32 subnormal input, whose fraction of the quantum is below 2^−26, never rounds up.
 */
const MAX_FUSED_STOCHASTIC_BITS = 24;

/** The fused path's constants for `format` (nearest-even or stochastic rounding), or null (see the module comment). */
export function fusedRounding(format: ResolvedFormat): FusedRounding | null {
  const { mode, bits } = format.rounding;
  const stochastic = mode === "stochastic";
  if (format.element.kind !== "float" || !(mode === "nearest-even" || (stochastic && bits >= 1 && bits <= MAX_FUSED_STOCHASTIC_BITS))) return null;
  const el: ResolvedFloat = format.element;
  const m = el.mantissaBits;
  if (!el.signed || !el.zero || !el.subnormals || m < 1 || m > 22) return null;
  const onBits = el.minNormalExponent === -126;
  // roundBelowNormal's carrier 2^(emin − m + 23) must be a finite float32 (formats near float32's top are left to encode).
  if (!onBits && (el.minNormalExponent < -126 || el.minNormalExponent - m < MIN_QUANTUM_EXPONENT || el.minNormalExponent - m + 23 > 127)) return null;
  if (!(format.maxFinite < MAX_F32) || Math.fround(format.maxFinite) !== format.maxFinite) return null;
  // Overflow: what a magnitude rounded past maxFinite gives — ±max float32 with the largest draw
  // does (under stochastic rounding a smaller draw may round it down onto the grid: bf16's top).
  const overflow = special(format, MAX_F32, -MAX_F32, 0xffffffff);
  const infinity = special(format, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  // Round to nearest never tells an overflowed finite input from an infinite one; a format that does is left to encode.
  if (overflow.positive !== infinity.positive || overflow.negative !== infinity.negative) return null;
  const zero = special(format, 0, -0);
  const nan = special(format, fromF32Bits(0x7fc00000), fromF32Bits(0xffc00000));
  return {
    mantissaBits: m,
    minNormalExponent: el.minNormalExponent,
    maxFinite: format.maxFinite,
    zero,
    overflow,
    nan,
    onBits,
    stochasticBits: stochastic ? bits : null,
    signApart: withSign(overflow) && [zero, nan].every((s) => withSign(s) || s.positive === s.negative),
  };
}

/** f32 decode(encode(x)) in `format`; `random` is the element's u32 draw (stochastic rounding only). */
export function lowerFakeQuantizeElement(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null): Expr {
  if (format.element.kind === "int" && format.element.fractionBits <= 126) return lowerFakeQuantizeInt(b, format, x, random);
  const fused = fusedRounding(format);
  if (fused === null || (fused.stochasticBits === null) !== (random === null)) return lowerDecodeElement(b, format, lowerEncodeElement(b, format, x, random));
  const bits = b.let("bits", bitsOf(x));
  const absBits = b.let("abs_bits", and(bits, u32(0x7fffffff)));
  const cap = carrierCapExponent(fused);
  if (fused.signApart && cap !== null) {
    const saturating = saturatesToMax(fused);
    return lowerSignApartTail(b, fused, bits, absBits, roundOnCarrier(b, absBits, fused, saturating ? f32Bits(fused.maxFinite) : (cap + 127) * 2 ** 23), saturating);
  }
  const dropped = 23 - fused.mantissaBits;
  const keptLsb = and(shr(absBits, u32(dropped)), u32(1));
  const normalBits =
    fused.stochasticBits === null ? and(add(add(absBits, u32(2 ** (dropped - 1) - 1)), keptLsb), u32(~(2 ** dropped - 1))) : stochasticOnBits(b, absBits, dropped, fused.stochasticBits, random as Expr);
  const subnormal = fused.onBits ? null : fused.stochasticBits === null ? roundBelowNormal(b, absBits, fused) : stochasticBelowNormal(b, absBits, fused, format.rounding, random as Expr);
  if (fused.signApart) {
    // The bit form rounds every |x| where the format's normal range starts at float32's (onBits); else |x| below 2^emin takes the quantum form.
    const minNormalBits = (fused.minNormalExponent + 127) * 2 ** 23;
    const rounded = subnormal === null ? normalBits : select(gt(asI32(absBits), i32(minNormalBits - 1)), normalBits, bitsOf(subnormal));
    return lowerSignApartTail(b, fused, bits, absBits, b.let("rounded_bits", asI32(rounded)));
  }
  const sign = b.let("sign", shr(bits, u32(31)));
  const negative = b.let("negative", ne(sign, u32(0)));
  const bySign = (s: SignedSpecial) => (s.positive === s.negative ? fromBits(u32(s.positive)) : select(negative, fromBits(u32(s.negative)), fromBits(u32(s.positive))));
  // ±∞ rounds to +∞ bits and so overflows; NaN is told apart by its input bits.
  if (subnormal === null) {
    // Compared as bits, never as floats: a target that flushes float32 subnormals would take a rounded subnormal for 0.
    const roundedBits = b.let("rounded_bits", normalBits);
    let onGrid = fromBits(or(roundedBits, shl(sign, u32(31))));
    onGrid = select(gt(roundedBits, u32(f32Bits(fused.maxFinite))), bySign(fused.overflow), onGrid);
    onGrid = select(eq(roundedBits, u32(0)), bySign(fused.zero), onGrid);
    return b.let("fake_quantized", select(gt(asI32(absBits), i32(0x7f800000)), bySign(fused.nan), onGrid));
  }
  const minNormalBits = (fused.minNormalExponent + 127) * 2 ** 23;
  // |x|'s bits are below 2^31: compared as i32s (SIMD's unsigned compares are emulated on x86), as below.
  const rounded = b.let("rounded_magnitude", select(ge(asI32(absBits), i32(minNormalBits)), fromBits(normalBits), subnormal));
  let value = fromBits(or(bitsOf(rounded), shl(sign, u32(31))));
  value = select(gt(rounded, f32(fused.maxFinite)), bySign(fused.overflow), value);
  value = select(eq(rounded, f32(0)), bySign(fused.zero), value);
  return b.let("fake_quantized", select(gt(asI32(absBits), i32(0x7f800000)), bySign(fused.nan), value));
}

/** The positive float32 factors a tile may scale by: at least `min`, at most `max`, with `significandBits` significant bits at most. */
export interface FactorRange {
  readonly min: number;
  readonly max: number;
  readonly significandBits: number;
}

const magnitudeBits = (bits: number) => bits & 0x7fffffff;
const zeroOrNan = (bits: number) => magnitudeBits(bits) === 0 || magnitudeBits(bits) > 0x7f800000;

/**
 * decode(encode(x))·t for a per-tile float32 factor t in `range`, with t multiplying the carrier
 * rounding's quantum (one integer addition to its bits, in place of the subtraction that forms it)
 * instead of the result (one multiplication fewer per element) — or null where that is not exact,
 * and the caller multiplies. Exact where: the path rounds by the carrier, sign apart, saturating at
 * max finite (so every rounded magnitude is k·quantum, k ≤ 2^(m+1), or a special); zero's and NaN's
 * results are ±0 or NaN, which the factor leaves alone (0·t = 0, NaN·t is NaN); quantum·t stays a
 * float32 normal (its bits are the sum of exponents) — the least quantum 2^(emin − m) times the
 * least t at least 2^−126, max finite times the largest t below 2^128 —; and k·quantum·t has at most
 * 24 significant bits, so it is exactly the product fake-quantize-then-multiply rounds once.
 */
export function lowerFakeQuantizeTimes(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, factor: Expr, range: FactorRange): Expr | null {
  const fused = format.element.kind === "float" && random === null ? fusedRounding(format) : null;
  if (fused === null || fused.stochasticBits !== null || !fused.signApart || carrierCapExponent(fused) === null || !saturatesToMax(fused)) return null;
  if (![fused.zero.positive, fused.zero.negative].every((z) => magnitudeBits(z) === 0) || ![fused.nan.positive, fused.nan.negative].every(zeroOrNan)) return null;
  const fits =
    2 ** (fused.minNormalExponent - fused.mantissaBits) * range.min >= 2 ** -126 &&
    fused.maxFinite * range.max < 2 ** 128 &&
    fused.mantissaBits + 2 + range.significandBits <= 24;
  if (!fits) return null;
  const bits = b.let("bits", bitsOf(x));
  const absBits = b.let("abs_bits", and(bits, u32(0x7fffffff)));
  return lowerSignApartTail(b, fused, bits, absBits, roundOnCarrier(b, absBits, fused, f32Bits(fused.maxFinite), factor), true);
}

/**
 * The result as a magnitude with x's sign bit put back once at the end (FusedRounding.signApart),
 * from `rounded`, the i32 bits of |x| rounded to the grid: the magnitude is chosen among the rounded one, the overflow's and those of zero and NaN that
 * take x's sign, by i32 compares on bits — a rounded magnitude's bits stay below 2^31 for every
 * non-NaN input (at most ∞'s bits plus one quantum), and lanes of NaN inputs (whose rounding may
 * wrap) are overridden by the NaN's result. Saturation to max finite is an i32 minimum (one SIMD
 * instruction); a rounded 0 with x's sign is ±0 where that is the format's zero. A zero or NaN
 * result the same for both signs replaces the signed value afterwards. Each compare is a strict
 * greater-than or an equality against a constant (one instruction where ≥ takes two on x86).
 */
function lowerSignApartTail(b: Builder, fused: FusedRounding, bits: Expr, absBits: Expr, rounded: Expr, atMostMax = false): Expr {
  const maxBits = f32Bits(fused.maxFinite);
  const isZero = eq(rounded, i32(0));
  const isNan = gt(asI32(absBits), i32(0x7f800000));
  let magnitude = atMostMax ? rounded : fused.overflow.positive === maxBits ? min(rounded, i32(maxBits)) : select(gt(rounded, i32(maxBits)), i32(fused.overflow.positive), rounded);
  if (withSign(fused.zero) && fused.zero.positive !== 0) magnitude = select(isZero, i32(fused.zero.positive), magnitude);
  if (withSign(fused.nan)) magnitude = select(isNan, i32(fused.nan.positive), magnitude);
  let value = or(asU32(magnitude), and(bits, u32(SIGN_BIT)));
  if (!withSign(fused.zero)) value = select(isZero, u32(fused.zero.positive), value);
  if (!withSign(fused.nan)) value = select(isNan, u32(fused.nan.positive), value);
  return b.let("fake_quantized", fromBits(value));
}

/**
 * Whether every magnitude past max finite (±∞ included) gives max finite with x's sign — the
 * overflow special is max finite itself. Then |x| can be capped at max finite before rounding:
 * max finite lies on the grid and rounding to nearest is monotone, so a capped magnitude rounds to
 * it and every other one to at most it, and no saturation is left for the tail (one SIMD
 * instruction fewer per 4 elements).
 */
const saturatesToMax = (fused: FusedRounding) => fused.overflow.positive === f32Bits(fused.maxFinite);

/**
 * The exponent E_c of the power of two just above max finite (every |x| ≥ 2^E_c overflows), where
 * roundOnCarrier applies: nearest-even, the format's normal range not float32's (bf16 keeps the
 * bit form, all integer), and the carrier 2^(E_c + 23 − m) of the top binade a finite float32.
 */
function carrierCapExponent(fused: FusedRounding): number | null {
  if (fused.stochasticBits !== null || fused.onBits) return null;
  const capExponent = (f32Bits(fused.maxFinite) >>> 23) - 127 + 1;
  return capExponent + 23 - fused.mantissaBits <= 127 ? capExponent : null;
}

/**
 * |x| rounded to the format's grid, ties to even, at every magnitude by one float32 addition
 * (roundBelowNormal's, with a carrier per lane): |x|'s bits capped at `capBits`, 2^E_c's (so the carrier stays
 * finite; a capped |x| rounds to 2^E_c itself, past max finite, and overflows as it would have) or,
 * where overflow saturates, max finite's (saturatesToMax),
 * E = max(exponent of |x|, emin) taken on the bits, C = 2^(E + 23 − m). C + |x| lies in C's binade
 * (|x| < 2^(E+1) ≤ C for m ≤ 22; a sum rounded up to 2C gives k = 2^23 all the same), whose ulp is the format's quantum 2^(E − m) at
 * |x| — the normal one for E ≥ emin, the subnormal one below — so the one correctly rounded sum
 * rounds |x| to a multiple of it, ties to even (C / quantum = 2^23 is even, so the sum's last bit is
 * the multiple's), and the integer bits(C + |x|) − bits(C) is that multiple k ≤ 2^(m+1), exact
 * as an f32, times the quantum (bits(C) − 23·2^23: a normal power of two, as E − m ≥ emin − m ≥ −100)
 * exactly. No float subtraction of C (which GPU shader compilers may fold), no select between the
 * normal and subnormal forms; float32 subnormal inputs give 0 whether or not a target flushes them.
 */
function roundOnCarrier(b: Builder, absBits: Expr, fused: FusedRounding, capBits: number, factor: Expr | null = null): Expr {
  const minNormalBits = (fused.minNormalExponent + 127) * 2 ** 23;
  const capped = b.let("capped_bits", min(asI32(absBits), i32(capBits)));
  const carrier = b.let("carrier_bits", add(max(and(capped, i32(0x7f800000)), i32(minNormalBits)), i32((23 - fused.mantissaBits) * 2 ** 23)));
  const sum = b.let("carrier_sum", add(fromBits(asU32(carrier)), fromBits(asU32(capped))));
  const quanta = convert("f32.fromI32", sub(asI32(bitsOf(sum)), carrier));
  // The quantum 2^(E − m) as bits(C) − 23·2^23; times a factor t (lowerFakeQuantizeTimes) by adding t's bits less 1.0's.
  const quantum = factor === null ? sub(carrier, i32(23 * 2 ** 23)) : add(carrier, sub(asI32(bitsOf(factor)), i32((23 + 127) * 2 ** 23)));
  return b.let("rounded_bits", asI32(bitsOf(mul(quanta, fromBits(asU32(quantum))))));
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
  // kept < 2^23: converted as an i32 (one SIMD instruction; the unsigned conversion is emulated on x86).
  return mul(convert("f32.fromI32", asI32(kept)), f32(2 ** (fused.minNormalExponent - fused.mantissaBits)));
}

/**
 * Stochastic rounding (dsl/semantics/rounding.ts) of |x| on its bit pattern, where the format's
 * quantum at |x| is float32's bit quantum times 2^dropped: the fraction of the quantum is the
 * dropped bits, t its top `bits` bits; a carry on rounding up steps the exponent.
 */
function stochasticOnBits(b: Builder, absBits: Expr, dropped: number, bits: number, random: Expr): Expr {
  const dropMask = 2 ** dropped - 1;
  const low = b.let("sr_low", and(absBits, u32(dropMask)));
  const t = bits <= dropped ? shr(low, u32(dropped - bits)) : shl(low, u32(bits - dropped));
  const up = stochasticUp(convert("i32.fromU32", t), random, bits);
  return add(and(absBits, u32(~dropMask)), select(up, u32(2 ** dropped), u32(0)));
}

/**
 * Stochastic rounding of |x| below the normal range, in the subnormal quantum q = 2^(emin − m):
 * |x|/q is exact (a power of two, q ≥ 2^−100), rounded to an integer as any stochastic rounding
 * is, times q. A float32 subnormal input gives 0 whether or not a target flushes it
 * (MAX_FUSED_STOCHASTIC_BITS).
 */
function stochasticBelowNormal(b: Builder, absBits: Expr, fused: FusedRounding, rounding: Rounding, random: Expr): Expr {
  const quantumExponent = fused.minNormalExponent - fused.mantissaBits;
  const q = b.let("sr_quanta", mul(fromBits(absBits), f32(2 ** -quantumExponent)));
  return mul(lowerRoundToInteger(b, q, rounding, random), f32(2 ** quantumExponent));
}

/**
 * Integers whose clamp bounds, less the zero point, are float32 integers (every format of up to
 * 24 bits): |v| (v = x·2^f) capped at its sign's bound on the bits — maxInt − zeroPoint above
 * zero, zeroPoint − minInt below, as fast-encode/int.ts caps it (capping at an integer before a
 * monotone rounding is capping after it) — rounded as a magnitude (the semantics round |v| with
 * the sign beside it), the sign put back unless the result is 0 (the code of −0 is 0's, decoding to
 * +0), times 2^−f. The same values as the clamp-in-float form below, in integer compares and
 * minima where that one takes float minima and maxima (costly in wasm SIMD on x86).
 */
function lowerFakeQuantizeIntOnMagnitude(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, upper: number, lower: number): Expr {
  const el = format.element as ResolvedInt;
  const v = el.fractionBits === 0 ? x : b.let("v", mul(x, f32(2 ** el.fractionBits)));
  const vBits = b.let("v_bits", bitsOf(v));
  const absBits = b.let("abs_bits", and(vBits, u32(0x7fffffff)));
  const negative = b.let("negative", lt(asI32(vBits), i32(0)));
  const bound = upper === lower ? u32(f32Bits(upper)) : select(negative, u32(f32Bits(lower)), u32(f32Bits(upper)));
  const capped = b.let("capped", fromBits(min(absBits, bound)));
  const roundedBits = b.let("rounded_bits", bitsOf(lowerRoundToInteger(b, capped, format.rounding, random, i32(0), negative)));
  const signed = or(roundedBits, select(eq(roundedBits, u32(0)), u32(0), and(vBits, u32(0x80000000))));
  const integer = fromBits(signed);
  const value = el.fractionBits === 0 ? integer : mul(integer, f32(2 ** -el.fractionBits));
  const isNan = gt(asI32(absBits), i32(0x7f800000));
  return b.let("fake_quantized", select(isNan, fromBits(u32(fakeBits(format, Number.NaN, 0))), value));
}

/**
 * Integers: the clamped integer encode computes, less the zero point, as the f32 the code decodes to — its two's
 * complement code round-trips it exactly (|n| ≤ 2^24), −0 aside, which the code turns into +0 —
 * times 2^−fractionBits (a normal power: one rounding, as the decode table's). NaN takes the
 * semantics' decode(encode(NaN)).
 */
function lowerFakeQuantizeInt(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null): Expr {
  const el = format.element as ResolvedInt;
  const [upper, lower] = [el.maxInt - el.zeroPoint, el.zeroPoint - el.minInt];
  if (upper >= 0 && lower >= 0 && Math.max(upper, lower) < 2 ** 24) return lowerFakeQuantizeIntOnMagnitude(b, format, x, random, upper, lower);
  const { clamped, isNan } = lowerIntRounded(b, format, x, random);
  // Less the zero point: both are integers of at most 2^24 + 2^16, so the f32 subtraction is exact.
  const shifted = b.let("shifted", el.zeroPoint === 0 ? clamped : sub(clamped, f32(el.zeroPoint)));
  const integer = b.let("integer", select(eq(shifted, f32(0)), f32(0), shifted));
  const value = el.fractionBits === 0 ? integer : mul(integer, f32(2 ** -el.fractionBits));
  return b.let("fake_quantized", select(isNan, fromBits(u32(fakeBits(format, Number.NaN, 0))), value));
}
