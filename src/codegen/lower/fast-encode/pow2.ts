/**
 * Fast encode of power-of-two elements — floats with no mantissa bits and no zero (E8M0's shape):
 * code magnitude c stands for 2^(c + emin), c in [0, max]. Lane-wise in i32, without lookups or
 * float arithmetic:
 *
 *   for a float32 |x| in binade e, its bits are (e + 127)·2^23 + mantissa, and the floor code is
 *   e − emin = (bits >> 23) − 127 − emin. Rounding to a neighbouring power is a decision on the
 *   mantissa's class (0, below ½, ½, above ½ of the binade) and the floor code's last bit, which
 *   the semantics take (probed here, probe.ts). Every decision of the shape "up iff the class is at
 *   least t" is one addition before the shift: (bits + inc) >> 23 with inc 0 (never up), 2^22 − 1
 *   (above ½), 2^22 (½ and above), 2^23 − 1 (any inexact value); ties to even or to odd pick inc
 *   by the floor code's parity. Below emin every input rounds to the smallest power (there is no
 *   zero), so the code clamps at 0; beyond the largest finite one it takes the semantics' code.
 *
 *   Only emin = −127 reaches below float32's normal range: the binade of 2^−127 holds subnormal
 *   inputs, whose bits are brought to the normal layout ((bits << 1) − 2^23: field 0, the mantissa
 *   shifted up, as bits + min(bits, 2^23) − 2^23); lower emins keep the general lowering.
 */
import type { ResolvedFloat, ResolvedFormat } from "../../../dsl/resolved.ts";
import { Builder, add, and, asI32, asU32, bitsOf, eq, gt, i32, lt, max, min, ne, or, select, shr, sub, u32, xor } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { MAX_F32, probeDecision, probeSpecialCodes, type Encoder, type SpecialCodes } from "./probe.ts";
import { incrementsOf } from "./round.ts";
import { negativeNonZero, signedCodes } from "./sign.ts";

const F32_EXPONENT = 0x7f800000;
const HALF = 0x400000;

/** What the power-of-two fast path needs, derived once per (format, rounding, overflow). */
export interface Pow2Plan extends SpecialCodes {
  /** Code width. */
  readonly bits: number;
  readonly minExponent: number;
  readonly maxMagnitude: number;
  /** Code weight of the sign bit (0 for unsigned formats). */
  readonly signWeight: number;
  /** The increment before the shift by the floor code's parity, [even, odd], per sign. */
  readonly increment: { readonly positive: readonly [number, number]; readonly negative: readonly [number, number] | null };
}

export function planPow2(format: ResolvedFormat, enc: Encoder): Pow2Plan | null {
  if (format.element.kind !== "float") return null;
  const el: ResolvedFloat = format.element;
  const emin = el.minNormalExponent;
  if (el.mantissaBits !== 0 || el.zero || el.subnormals || emin < -127) return null;
  if (!(format.maxFinite < MAX_F32)) return null;
  const signWeight = el.signed ? 2 ** (el.bits - 1) : 0;
  const magnitude = (code: number) => (el.signed && code >= signWeight ? code - signWeight : code);
  const maxMagnitude = magnitude(enc(format.maxFinite));
  // At least two binades above the smallest to probe, and code = e − emin on them.
  if (!(maxMagnitude >= 3) || Math.log2(format.maxFinite) !== emin + maxMagnitude) return null;
  const value = (c: number) => 2 ** (c + emin);
  const signs: readonly (1 | -1)[] = el.signed ? [1, -1] : [1];
  for (const sign of signs)
    for (const c of [0, 1, maxMagnitude - 1, maxMagnitude]) if (magnitude(enc(sign * value(c))) !== c) return null;
  // Inputs below the smallest power take its code (no zero), in any rounding.
  for (const sign of signs) for (const x of [value(0) * 0.75, value(0) * 0.5, 2 ** -149]) if (magnitude(enc(sign * x)) !== 0) return null;
  const decide = (sign: 1 | -1) => incrementsOf(probeDecision(enc, sign, maxMagnitude >= 4 ? 2 : 0, value, magnitude), 23);
  const positive = decide(1);
  const negative = el.signed ? decide(-1) : null;
  if (positive === null || (el.signed && negative === null)) return null;
  const specials = probeSpecialCodes(enc, el.signed, value(0));
  if (specials === null) return null;
  return { bits: el.bits, minExponent: emin, maxMagnitude, signWeight, increment: { positive, negative }, ...specials };
}

export function lowerFastPow2Encode(b: Builder, plan: Pow2Plan, x: Expr): Expr {
  const { minExponent: emin, signWeight } = plan;
  const bits = b.let("bits", bitsOf(x));
  const absBits = b.let("abs_bits", asI32(and(bits, u32(0x7fffffff))));
  const negative = b.let("negative", lt(asI32(bits), i32(0)));
  const { withSign, bySign, isSigned, sameAs } = signedCodes(b, shr(bits, u32(31)), negative, signWeight);

  // Floor code = field − 127 − emin (as i32; below emin it is negative). With emin = −127 the
  // binade of 2^−127 holds subnormals: |x|'s bits + min(|x|'s bits, 2^23) − 2^23 is |x|'s bits
  // for normals and (bits << 1) − 2^23 below (field 0 for [2^−127, 2^−126), negative under it).
  // ±∞ and NaN compute a code beyond the largest (inputs up to 0x7f800000 do not overflow the
  // sum), replaced below where the semantics differ; NaNs always are.
  const offset = -127 - emin;
  const lift = emin === -127 ? min(absBits, i32(2 * HALF)) : null;
  const bias = emin === -127 ? -2 * HALF : 0;
  // The floor code's parity: the field's (the lifted subnormals' field 0 included) plus the offset's.
  const parity = () => {
    const field = shr(absBits, i32(23));
    return and(offset % 2 === 0 ? field : xor(field, i32(1)), i32(1));
  };
  const incrementFor = ([even, odd]: readonly [number, number]): Expr => {
    if (even === odd) return i32(even + bias);
    return odd - even === 1 ? add(i32(even + bias), parity()) : select(ne(parity(), i32(0)), i32(odd + bias), i32(even + bias));
  };
  const { positive, negative: negativeIncrement } = plan.increment;
  const increment =
    negativeIncrement === null || (negativeIncrement[0] === positive[0] && negativeIncrement[1] === positive[1])
      ? incrementFor(positive)
      : select(negative, incrementFor(negativeIncrement), incrementFor(positive));
  const lifted = lift === null ? absBits : add(absBits, lift);
  let rounded = shr(add(lifted, increment), i32(23));
  if (offset !== 0) rounded = add(rounded, i32(offset));
  const magnitude = b.let("magnitude", max(rounded, i32(0)));

  let code: Expr;
  if (isSigned(plan.beyondMax, plan.maxMagnitude)) code = withSign(asU32(min(magnitude, i32(plan.maxMagnitude))));
  else code = select(gt(magnitude, i32(plan.maxMagnitude)), bySign(plan.beyondMax), withSign(asU32(magnitude)));
  if (!isSigned(plan.zero, 0)) code = select(eq(absBits, i32(0)), bySign(plan.zero), code);
  // ±∞'s field is 255, beyond every code here (maxFinite < 2^128).
  if (!sameAs(plan.infinity, plan.beyondMax)) code = select(eq(absBits, i32(F32_EXPONENT)), bySign(plan.infinity), code);
  const isNan = gt(absBits, i32(F32_EXPONENT));
  if (plan.negativeCode !== null && plan.nan[0] === plan.negativeCode && plan.nan[1] === plan.negativeCode) {
    // Unsigned formats whose NaN code is every negative input's (E8M0): one select for both, and
    // where that code is all ones (E8M0's 0xff) an or of it on those lanes (two instructions, not three).
    const special = or(isNan, negativeNonZero(bits));
    const allOnes = 2 ** plan.bits - 1;
    return b.let("code", plan.negativeCode === allOnes ? or(code, select(special, u32(allOnes), u32(0))) : select(special, u32(plan.negativeCode), code));
  }
  code = select(isNan, bySign(plan.nan), code);
  if (plan.negativeCode !== null) code = select(negativeNonZero(bits), u32(plan.negativeCode), code);
  return b.let("code", code);
}
