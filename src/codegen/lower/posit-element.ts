/**
 * Posit element encode/decode lowered to branch-free i32/u32 IR, bit-identical to
 * dsl/semantics/posit.ts for float32 inputs (encode) and to decodeF32Bits (decode).
 *
 * Both directions work on the pattern after the sign bit, left-aligned in a u32 (its first
 * regime bit at bit 31), so the n−1 kept bits and the guard bit always lie in one word.
 * Encode lays out regime | exponent | the 23 f32 fraction bits; whatever falls below bit 0
 * goes to a second word that only feeds the sticky bit, so no 64-bit integer is needed.
 * Decode reads the regime with clz and rounds the left-aligned fraction to 23 bits with
 * ties to even in integer arithmetic, then assembles the f32 bits directly: every posit of a
 * format the spec language allows lies in the f32 normal range, so no scaling step is needed.
 */
import type { ResolvedFormat, ResolvedPosit } from "../../dsl/resolved.ts";
import {
  Builder, add, and, asI32, asU32, bitsOf, clz, convert, eq, f32, fromBits, ge, gt, i32, le, lt, max, min, mul, ne, neg, or, roundEven, select, shl, shr, sub, u32, xor,
} from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import { splitSign } from "./pow2.ts";
import { f32Bits } from "../../dsl/semantics/bits.ts";

const F32_FRACTION_BITS = 23;
const F32_BIAS = 127;
const F32_INFINITY_BITS = 0x7f800000;
/** What decodeF32Bits gives NaR: the quiet NaN with the code's (set) top bit. */
const NAR_F32_BITS = 0xffc00000;
/** Largest |binary exponent| of maxpos/minpos that keeps every posit an f32 normal. */
const MAX_SCALE = F32_BIAS - 1;

interface PositShape {
  readonly n: number;
  readonly es: number;
  /** log2(maxpos) = (n−2)·2^es. */
  readonly maxScale: number;
  /** 2^n − 1 (u32 all-ones for n = 32). */
  readonly mask: number;
  /** The NaR code 10…0. */
  readonly nar: number;
}

function positShape(format: ResolvedFormat): PositShape {
  const el = format.element as ResolvedPosit;
  const n = el.bits;
  const es = el.es;
  const maxScale = (n - 2) * 2 ** es;
  if (el.kind !== "posit" || n < 3 || n > 32 || es < 0 || es > 5 || maxScale > MAX_SCALE)
    throw new Error(`posit lowering needs 3 ≤ bits ≤ 32, 0 ≤ es ≤ 5 and (bits−2)·2^es ≤ ${MAX_SCALE} (${format.name})`);
  return { n, es, maxScale, mask: 2 ** n - 1, nar: 2 ** (n - 1) };
}

/** The n-bit two's complement negation of a u32 holding an n-bit pattern. */
const negate = (n: number, x: Expr) => (n < 32 ? and(sub(u32(0), x), u32(2 ** n - 1)) : sub(u32(0), x));

/** The f32 bits of 2^scale for a normal power of two. */
const pow2Bits = (scale: number) => (scale + F32_BIAS) * 2 ** F32_FRACTION_BITS;

/**
 * u32 code of the f32 `x`: NaN/±Inf → NaR, ±0 → 0, |x| ≤ minpos → ±minpos, |x| ≥ maxpos →
 * ±maxpos, otherwise the pattern rounded to n−1 bits, ties to even; negatives in two's complement.
 */
export function lowerPositEncode(b: Builder, format: ResolvedFormat, x: Expr): Expr {
  const shape = positShape(format);
  if (shape.n <= MAX_LANE_WISE_BITS) return lowerLaneWisePositEncode(b, shape, x);
  const { n, es, maxScale, nar } = shape;
  const { absBits, sign } = splitSign(b, x);
  // Between minpos and maxpos x is an f32 normal, so its scale is the biased field − 127.
  const scale = b.let("scale", sub(asI32(shr(absBits, u32(F32_FRACTION_BITS))), i32(F32_BIAS)));
  const k = b.let("k", shr(scale, i32(es))); // regime value: ⌊scale / 2^es⌋
  const exponent = and(asU32(scale), u32(2 ** es - 1));
  const tailBits = es + F32_FRACTION_BITS; // exponent | fraction, ≤ 28 bits
  const tail = b.let("tail", or(shl(exponent, u32(F32_FRACTION_BITS)), and(absBits, u32(0x7fffff))));

  // Regime: k+1 ones then a zero (k ≥ 0), or −k zeros then a one (k < 0); 1 ≤ length ≤ n−1.
  const positive = b.let("k_nonneg", ge(k, i32(0)));
  const regime = select(positive, asU32(shr(i32(0x80000000), k)), shr(u32(0x80000000), asU32(neg(k))));
  const regimeLength = select(positive, add(k, i32(2)), sub(i32(1), k));
  // Bit position of the tail's last bit in the high word; below 0 the tail spills into `low`.
  const lsb = b.let("tail_lsb", sub(i32(32 - tailBits), regimeLength));
  const fits = b.let("tail_fits", ge(lsb, i32(0)));
  const high = b.let("high", or(regime, select(fits, shl(tail, asU32(lsb)), shr(tail, asU32(neg(lsb))))));
  const low = select(fits, u32(0), shl(tail, asU32(add(lsb, i32(32)))));

  // Kept bits: high's top n−1; guard: the next one; sticky: everything below it.
  const kept = b.let("kept", shr(high, u32(33 - n)));
  const guard = shr(high, u32(32 - n));
  const stickyBits = n < 32 ? or(and(high, u32(2 ** (32 - n) - 1)), low) : low;
  const up = and(guard, or(asU32(ne(stickyBits, u32(0))), kept)); // guard ∧ (sticky ∨ odd), in bit 0
  let body = add(kept, and(up, u32(1)));
  body = select(ge(absBits, u32(pow2Bits(maxScale))), u32(nar - 1), body);
  body = b.let("body", select(le(absBits, u32(pow2Bits(-maxScale))), u32(1), body));

  let code = select(ne(sign, u32(0)), negate(n, body), body);
  code = select(eq(absBits, u32(0)), u32(0), code);
  return b.let("code", select(ge(absBits, u32(F32_INFINITY_BITS)), u32(nar), code));
}

/** Posits up to this width encode lane-wise (below); wider ones shift per lane. */
const MAX_LANE_WISE_BITS = 16;

/**
 * The same code without per-lane shifts (the wasm vectorizer keeps it 4 lanes wide), for n ≤ 16.
 * |x| is first clamped on its bits to [minpos, the largest float32 below maxpos]: minpos's
 * pattern 0…01 comes out of the arithmetic below, and that float32 (regime of n − 2 ones and a
 * zero, then exponent and fraction bits all ones) rounds up to maxpos's 01…1, so every lane has
 * W ≥ 0, where W = n − 1 − (regime length) is what the regime leaves of the n − 1 kept bits.
 * tail = the es exponent bits and 23 fraction bits of |x| (the low 23 + es bits of its bits less
 * 127·2^23); M = its top 23 bits, the es bits below or'ed into M's last es bits as sticky bits
 * (far below the guard bit, bit 22 − W ≥ 8 as W ≤ n − 2 ≤ 14, so all that counts there is whether
 * any bit is set, and es ≤ 5 bits change nothing above). As a float32 with exponent W, M's bits are
 * s = 2^W + f, f = the pattern's tail in units of its last kept bit (one or, no conversion).
 *
 * The regime's bits times 2^W are 2^(n−1) − 2^(W+1) for k ≥ 0 (k+1 ones, a zero), even, added
 * after the rounding, and 2^W for k < 0 (−k zeros, a one), whose last bit the rounding must see
 * (W = 0: it is the pattern's last bit): s holds it already. One float32 addition then rounds and
 * assembles: s + 2^23 + (k ≥ 0: 2^(n−1) − 3·2^W, an integer) = 2^23 + f + regime, in [2^23, 2^24)
 * where float32's spacing is 1, so it rounds f to nearest, ties to even (the regime is even or
 * rounded with), and its bits are 2^23's plus the body. Negatives take the n-bit two's
 * complement (2^23's bits are 0 modulo 2^24: the code mask drops them); ±0 gives 0 and ±∞/NaN NaR.
 */
function lowerLaneWisePositEncode(b: Builder, shape: PositShape, x: Expr): Expr {
  const { n, es, maxScale, nar } = shape;
  const bits = b.let("bits", bitsOf(x));
  const absBits = b.let("abs_bits", and(bits, u32(0x7fffffff)));
  const clamped = b.let("clamped", asI32(min(max(asI32(absBits), i32(pow2Bits(-maxScale))), i32(pow2Bits(maxScale) - 1))));
  // |x|'s bits less 127·2^23: the scale in the field (k = scale >> es) and the tail below it.
  const unbiased = b.let("unbiased", sub(clamped, i32(F32_BIAS * 2 ** F32_FRACTION_BITS)));
  // All ones where k = unbiased >> (23 + es) < 0 (the regime is −k zeros and a one).
  const negativeK = b.let("negative_k", shr(unbiased, i32(31)));
  // unbiased >> es: k in the exponent field, M (the tail's top 23 bits) below it.
  const shifted = es === 0 ? unbiased : b.let("shifted", shr(unbiased, i32(es)));
  // W + 127 = n − 2 − max(k + 1, −k) + 127 = n + 124 − (k ^ (k >> 31)), in the exponent field: 2^W's
  // bits. k ^ (k >> 31) = (unbiased ^ its sign) >> (23 + es) = (shifted ^ its sign) >> 23, non-negative;
  // in the field that is shifted ^ its sign with the 23 bits below cleared.
  const kField = and(xor(shifted, negativeK), i32(-(2 ** F32_FRACTION_BITS)));
  const regimeW = b.let("regime_w", asU32(sub(i32((n - 3 + F32_BIAS) * 2 ** F32_FRACTION_BITS), kField)));
  const mantissa = and(shifted, i32(2 ** F32_FRACTION_BITS - 1));
  const top = es === 0 ? mantissa : b.let("top", or(mantissa, and(unbiased, i32(2 ** es - 1))));
  const withRegime = fromBits(or(asU32(top), regimeW));
  // k ≥ 0: 2^(n−1) − 3·2^W (3·2^W's bits are 2^W's + 1.5·2^23: the exponent + 1, mantissa ½); k < 0: 0.
  const regimeRest = and(bitsOf(sub(f32(2 ** (n - 1)), fromBits(add(regimeW, u32(3 * 2 ** 22))))), xor(asU32(negativeK), u32(0xffffffff)));
  const bodyBits = bitsOf(add(withRegime, add(fromBits(regimeRest), f32(2 ** 23))));
  // ±0 gives 0 (the body 0); ±∞ and NaN give NaR (the body 2^(n−1), its own negation modulo
  // 2^n): clamped, they computed maxpos's body 2^(n−1) − 1, so one is added on those lanes.
  const nonZero = select(eq(absBits, u32(0)), u32(0), bodyBits);
  const body = b.let("body", add(nonZero, asU32(gt(asI32(absBits), i32(F32_INFINITY_BITS - 1)))));
  const signMask = asU32(shr(asI32(bits), i32(31)));
  return b.let("code", and(sub(xor(body, signMask), signMask), u32(2 ** n - 1)));
}

/** f32 value of a u32 code (its low n bits): the exact posit rounded to f32 with ties to even; NaR → 0xFFC00000. */
export function lowerPositDecode(b: Builder, format: ResolvedFormat, code: Expr): Expr {
  const { n, es, mask, nar } = positShape(format);
  const c = b.let("c", n < 32 ? and(code, u32(mask)) : code);
  const sign = b.let("sign", shr(c, u32(n - 1)));
  const body = select(ne(sign, u32(0)), negate(n, c), c);
  const pattern = b.let("pattern", shl(body, u32(33 - n))); // first regime bit at bit 31

  // The regime run as leading zeros: flip the pattern when it starts with ones.
  const run = b.let("run", asI32(clz(xor(pattern, asU32(shr(asI32(pattern), i32(31)))))));
  const k = select(ne(shr(pattern, u32(31)), u32(0)), sub(run, i32(1)), neg(run));
  // Drop the run and its terminating bit (two shifts: run + 1 reaches 32 for n = 32).
  const rest = b.let("rest", shl(shl(pattern, asU32(run)), u32(1)));
  // Exponent bits cut off by the end of the word read as 0: the pattern's low bits are 0.
  const exponent = es > 0 ? shr(rest, u32(32 - es)) : u32(0);
  const scale = add(shl(k, i32(es)), asI32(exponent));

  // The fraction, left-aligned: keep 23 bits, round the other 9 with ties to even.
  const fraction = b.let("fraction", shl(rest, u32(es)));
  const mantissa = b.let("mantissa", shr(fraction, u32(32 - F32_FRACTION_BITS)));
  const below = and(fraction, u32(2 ** (32 - F32_FRACTION_BITS) - 1));
  const half = 2 ** (31 - F32_FRACTION_BITS);
  const up = asU32(gt(add(below, and(mantissa, u32(1))), u32(half))); // > half, or = half and odd
  // A carry out of the mantissa moves into the exponent field by itself.
  const magnitude = add(asU32(shl(add(scale, i32(F32_BIAS)), i32(F32_FRACTION_BITS))), add(mantissa, up));

  let bits = or(magnitude, shl(sign, u32(31)));
  bits = select(eq(c, u32(0)), u32(0), bits);
  bits = select(eq(c, u32(nar)), u32(NAR_F32_BITS), bits);
  return b.let("decoded", fromBits(b.let("decoded_bits", bits)));
}
