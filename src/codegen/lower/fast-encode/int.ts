/**
 * Fast encode of integer / fixed-point elements (codes of ≤ 22 bits, fractionBits in [0, 100],
 * any zero point), lane-wise and without lookups. Ties to even without a zero point on 8- or
 * 16-bit codes (int8's) rounds, converts and clamps in i32 (lowerConvertingIntEncode); every other
 * int takes the bit form, without float-to-int conversions:
 *
 *   |v|, v = x·2^f (exact), is capped at its sign's clamp bound — maxInt − zeroPoint for positive
 *   inputs, zeroPoint − minInt for negative ones, the largest magnitude whose rounded integer plus
 *   the zero point stays in range — on its bits (non-negative float32s order as their bits do, and
 *   capping at an integer before a monotone rounding is capping after it), then rounded by the
 *   probed decision (round.ts). The integer n ≤ 2^22 is the mantissa field of n + 2^23 (exact), the
 *   sign is put back in two's complement ((n ^ s) − s with s all ones for negative inputs) and the
 *   zero point added, as the semantics add it after rounding. NaN takes the semantics' code.
 */
import type { ResolvedFormat, ResolvedInt } from "../../../dsl/resolved.ts";
import { Builder, add, and, asI32, asU32, bitsOf, convert, f32, fromBits, gt, i32, lt, max, min, mul, roundEven, select, shr, sub, u32, xor } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { f32Bits } from "../../../dsl/semantics/bits.ts";
import { NEGATIVE_NAN, POSITIVE_NAN, probeDecision, sameDecision, type Encoder, type RoundingDecision } from "./probe.ts";
import { isTiesToEven, lowerRoundByDecision } from "./round.ts";

const LIMIT = 2 ** 22;

export interface IntPlan {
  readonly el: ResolvedInt;
  readonly decision: { readonly positive: RoundingDecision; readonly negative: RoundingDecision };
  /** Largest rounded magnitude per sign: maxInt − zeroPoint, zeroPoint − minInt. */
  readonly bounds: { readonly upper: number; readonly lower: number };
  readonly nan: number;
}

export function planInt(format: ResolvedFormat, enc: Encoder): IntPlan | null {
  if (format.element.kind !== "int") return null;
  const el: ResolvedInt = format.element;
  if (el.bits > 22 || el.fractionBits < 0 || el.fractionBits > 100) return null;
  const [upper, lower] = [el.maxInt - el.zeroPoint, el.zeroPoint - el.minInt];
  if (Math.max(upper, lower) >= LIMIT || upper < 0 || lower < 0) return null;
  // A sign whose bound is 1 or 2 cannot show its decision on the probes (grid integers 0..2) but
  // would still need one; a bound of 0 sends every input of that sign to the zero point whatever it is.
  if ((upper > 0 && upper < 3) || (lower > 0 && lower < 3) || upper + lower === 0) return null;
  const quantum = 2 ** -el.fractionBits;
  const toInt = (code: number) => (el.signed && code >= 2 ** (el.bits - 1) ? code - 2 ** el.bits : code) - el.zeroPoint;
  const probe = (sign: 1 | -1) => probeDecision(enc, sign, 0, (n) => n * quantum, (c) => sign * toInt(c));
  // Negative grid integers are probed on their magnitudes: −n is what the code holds (less the zero point).
  const positive = upper > 0 ? probe(1) : null;
  const negative = lower > 0 ? probe(-1) : null;
  if ((upper > 0 && positive === null) || (lower > 0 && negative === null)) return null;
  const nan = enc(POSITIVE_NAN);
  if (enc(NEGATIVE_NAN) !== nan) return null;
  const either = (positive ?? negative) as RoundingDecision;
  return { el, decision: { positive: positive ?? either, negative: negative ?? either }, bounds: { upper, lower }, nan };
}

/** Magnitude every input is clamped to before the conversion form converts it (in i32 range, beyond every code bound). */
const CONVERT_BOUND = 2 ** 30;

/**
 * Ties to even without a zero point: roundEven, convert, clamp to [minInt, maxInt] in i32, NaN's
 * code in two's complement, masked to the code. The same code as the bit form below, in fewer
 * instructions where the targets convert in one (wasm: nearest + trunc_sat), and a form the wasm
 * store-widening pass narrows with the signed saturating narrows, dropping both clamps.
 */
function lowerConvertingIntEncode(b: Builder, plan: IntPlan, v: Expr, isNan: Expr): Expr {
  const { el } = plan;
  const inRange = max(min(v, f32(CONVERT_BOUND)), f32(-CONVERT_BOUND));
  const n = b.let("n", convert("i32.fromF32", roundEven(inRange)));
  const clamped = max(min(n, i32(el.maxInt)), i32(el.minInt));
  const half = 2 ** (el.bits - 1);
  const nan = el.signed && plan.nan >= half ? plan.nan - 2 ** el.bits : plan.nan;
  const signedCode = b.let("signed_code", select(isNan, i32(nan), clamped));
  return b.let("code", and(asU32(signedCode), u32(2 ** el.bits - 1)));
}

/**
 * Whether the conversion form applies: ties to even for both signs, no zero point, and codes as
 * wide as their storage (8 or 16 bits), whose mask the widening pass sees through — narrower codes
 * would keep the float clamp, slower on wasm than the bit form.
 */
const converts = (plan: IntPlan) =>
  plan.el.zeroPoint === 0 && (plan.el.bits === 8 || plan.el.bits === 16) && isTiesToEven(plan.decision.positive) && isTiesToEven(plan.decision.negative);

export function lowerFastIntEncode(b: Builder, plan: IntPlan, x: Expr): Expr {
  const { el } = plan;
  const xBits = b.let("bits", bitsOf(x));
  const isNan = gt(asI32(and(xBits, u32(0x7fffffff))), i32(0x7f800000));
  if (converts(plan)) return lowerConvertingIntEncode(b, plan, el.fractionBits === 0 ? x : b.let("v", mul(x, f32(2 ** el.fractionBits))), isNan);
  const v = el.fractionBits === 0 ? xBits : b.let("v_bits", bitsOf(mul(x, f32(2 ** el.fractionBits))));
  const mask = 2 ** el.bits - 1;
  // NaN's code is the zero point's (uint4-zp8, int4): NaN lanes are encoded as +0, one mask on
  // |v|'s bits instead of a select of the code.
  const nanIsZero = plan.nan === (el.zeroPoint & mask);
  const vAbs = b.let("abs_bits", and(v, u32(0x7fffffff)));
  const absBits = nanIsZero ? b.let("abs_or_zero", select(gt(asI32(vAbs), i32(0x7f800000)), u32(0), vAbs)) : vAbs;
  const signMask = b.let("sign_mask", asU32(shr(asI32(v), i32(31))));
  const isNegative = b.let("negative", lt(asI32(v), i32(0)));
  const [upper, lower] = [f32Bits(plan.bounds.upper), f32Bits(plan.bounds.lower)];
  // The sign mask picks the negative bound: upper ^ ((upper ^ lower) & mask).
  const bound = upper === lower ? u32(upper) : xor(u32(upper), and(u32((upper ^ lower) >>> 0), signMask));
  const a = b.let("capped", fromBits(min(absBits, bound)));
  const { positive, negative } = plan.decision;
  // n + 2^23 (n ≤ 2^22, exact) is 2^23's bits + n; 2^23's bits are 0 modulo 2^24, so the code's
  // mask (≤ 22 bits) drops them after the sign and the zero point as it would before.
  let nBits: Expr;
  if (sameDecision(positive, negative) && isTiesToEven(positive)) {
    // 0 ≤ a < 2^22: the addition of 2^23 rounds a to the nearest integer itself, ties to even.
    nBits = bitsOf(add(a, f32(2 ** 23)));
  } else {
    const up = lowerRoundByDecision(b, a, positive);
    const rounded = sameDecision(positive, negative) ? up : select(isNegative, lowerRoundByDecision(b, a, negative), up);
    nBits = bitsOf(add(rounded, f32(2 ** 23)));
  }
  const signed = sub(xor(nBits, signMask), signMask);
  const code = and(el.zeroPoint === 0 ? signed : add(signed, u32(el.zeroPoint >>> 0)), u32(mask));
  return b.let("code", nanIsZero ? code : select(isNan, u32(plan.nan), code));
}
