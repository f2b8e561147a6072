/**
 * Fast encode of floats whose grid is float32's with fewer mantissa bits (bf16's shape: the smallest
 * normal binade is float32's, 2^−126, with zero and subnormals), in i32 lanes without float
 * arithmetic: there the code magnitude is |x|'s bits with the low 23 − m bits dropped, subnormals
 * included (both grids are linear in the bits down to 0), so
 *
 *   magnitude = (|x|'s bits + increment) >> (23 − m),
 *
 * the increment deciding the rounding from the dropped bits' class and the kept part's last bit
 * (round.ts incrementsOf), as probed from the semantics by float.ts's plan. Carries run into the
 * exponent field as the code layout does; what lies beyond the largest finite code, ±0, ±∞, NaN
 * and (unsigned) negative inputs take the plan's codes as in float.ts.
 */
import { Builder, add, and, asI32, asU32, bitsOf, eq, gt, i32, lt, min, ne, select, shr, u32 } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import type { FloatPlan } from "./float.ts";
import { incrementsOf } from "./round.ts";
import { negativeNonZero, signedCodes } from "./sign.ts";

const F32_EXPONENT = 0x7f800000;

export interface AlignedPlan {
  readonly float: FloatPlan;
  /** Increments per kept last bit [even, odd], per sign (negative: null where it equals positive's or the format is unsigned). */
  readonly increment: { readonly positive: readonly [number, number]; readonly negative: readonly [number, number] | null };
}

/** The aligned form of a float plan, or null where the format's grid is not float32's truncated or a decision is not an increment. */
export function planAligned(plan: FloatPlan): AlignedPlan | null {
  if (plan.minNormalExponent !== -126) return null;
  const dropped = 23 - plan.m;
  const positive = incrementsOf(plan.decision.positive, dropped);
  const negative = plan.decision.negative === null ? null : incrementsOf(plan.decision.negative, dropped);
  if (positive === null || (plan.decision.negative !== null && negative === null)) return null;
  // ∞'s bits (field 255) must compute a magnitude beyond the largest finite one.
  if (!(F32_EXPONENT / 2 ** dropped > plan.maxMagnitude)) return null;
  const same = negative === null || (negative[0] === positive[0] && negative[1] === positive[1]);
  return { float: plan, increment: { positive, negative: same ? null : negative } };
}

export function lowerAlignedFloatEncode(b: Builder, aligned: AlignedPlan, x: Expr): Expr {
  const plan = aligned.float;
  const { m, signWeight } = plan;
  const dropped = 23 - m;
  const bits = b.let("bits", bitsOf(x));
  const absBits = b.let("abs_bits", asI32(and(bits, u32(0x7fffffff))));
  const negative = b.let("negative", lt(asI32(bits), i32(0)));
  const { withSign, bySign, isSigned, sameAs, capOf } = signedCodes(b, shr(bits, u32(31)), negative, signWeight);

  const incrementFor = ([even, odd]: readonly [number, number]): Expr => {
    if (even === odd) return i32(even);
    const parity = and(shr(absBits, i32(dropped)), i32(1));
    return odd - even === 1 ? add(i32(even), parity) : select(ne(parity, i32(0)), i32(odd), i32(even));
  };
  const { positive, negative: negativeIncrement } = aligned.increment;
  const increment = negativeIncrement === null ? incrementFor(positive) : select(negative, incrementFor(negativeIncrement), incrementFor(positive));
  // Finite inputs and ±∞ do not overflow the sum (0x7f800000 + 2^dropped); NaNs may, and are replaced.
  const magnitude = b.let("magnitude", shr(add(absBits, increment), i32(dropped)));

  let code: Expr;
  const cap = capOf(plan.beyondMax, plan.maxMagnitude);
  if (cap !== null) code = withSign(asU32(min(magnitude, i32(cap))));
  else code = select(gt(magnitude, i32(plan.maxMagnitude)), bySign(plan.beyondMax), withSign(asU32(magnitude)));
  if (!isSigned(plan.zero, 0)) code = select(eq(absBits, i32(0)), bySign(plan.zero), code);
  if (!sameAs(plan.infinity, plan.beyondMax)) code = select(eq(absBits, i32(F32_EXPONENT)), bySign(plan.infinity), code);
  code = select(gt(absBits, i32(F32_EXPONENT)), bySign(plan.nan), code);
  if (plan.negativeCode !== null) code = select(negativeNonZero(bits), u32(plan.negativeCode), code);
  return b.let("code", code);
}
