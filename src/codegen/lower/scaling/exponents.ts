/**
 * Power-of-two exponents of ratios amax / limit in i32 IR, equal to the semantics' exact double
 * arithmetic (dsl/semantics/scaling/exponents.ts and block.ts). amax is a float32, so its
 * significand is one of the 2^23 float32 values in [1, 2); every decision the semantics makes
 * from it (a comparison of significands, MX "even" rounding's ratio² ≥ 2 in doubles) is monotone
 * in that significand, so it becomes one comparison with a threshold found here by binary search
 * over the float32 grid — exact by construction, whatever rounding the double formula does.
 */
import { floorLog2, fromF32Bits } from "../../../dsl/semantics/bits.ts";
import { significand } from "../../../dsl/semantics/scaling/exponents.ts";
import { Builder, add, and, bitsOf, f32, ge, i32, lt, neg, select, sub } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { floorLog2Bits, scaleByPow2 } from "../pow2.ts";

const ONE_BITS = 0x3f800000;
const TWO_BITS = 0x40000000;

/** The smallest float32 s in [1, 2) with pred(s) (pred false…false true…true), or 2 when none. */
export function firstSignificand(pred: (s: number) => boolean, from = 1): number {
  let lo = Math.max(ONE_BITS, new Uint32Array(Float32Array.of(from).buffer)[0]);
  let hi = TWO_BITS;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (pred(fromF32Bits(mid))) hi = mid;
    else lo = mid + 1;
  }
  return fromF32Bits(lo);
}

/** ⌊log2 a⌋ (i32) and a·2^−⌊log2 a⌋ ∈ [1, 2) (f32, exact) of a positive finite f32 a. */
export function splitLog2(b: Builder, a: Expr): { exponent: Expr; significand: Expr } {
  const exponent = floorLog2Bits(b, bitsOf(a));
  return { exponent, significand: scaleByPow2(b, a, neg(exponent)) };
}

const one = (cond: Expr) => select(cond, i32(1), i32(0));

/** [significand(a) > significand(limit)] as an i32 0/1. */
function significandAbove(sig: Expr, limit: number): Expr {
  const s = significand(limit);
  return one(ge(sig, f32(firstSignificand((v) => v > s))));
}

/** The smallest k with a ≤ limit·2^k: ceilExponentRatio(a, limit). */
export function lowerCeilExponentRatio(b: Builder, a: Expr, limit: number): Expr {
  const { exponent, significand: sig } = splitLog2(b, a);
  return b.let("ceil_ratio", add(sub(exponent, i32(floorLog2(limit))), significandAbove(sig, limit)));
}

/** The largest k with a·2^k ≤ limit: floorExponentRatio(limit, a). */
export function lowerFloorExponentRatio(b: Builder, limit: number, a: Expr): Expr {
  const { exponent, significand: sig } = splitLog2(b, a);
  return b.let("floor_ratio", sub(sub(i32(floorLog2(limit)), exponent), significandAbove(sig, limit)));
}

/** MX scale exponent before clamping: floor ⌊log2 a⌋ − ⌊log2 limit⌋, ceil, or even as block.ts. */
export function lowerBlockExponent(b: Builder, a: Expr, limit: number, rule: "floor" | "ceil" | "even"): Expr {
  if (rule === "ceil") return lowerCeilExponentRatio(b, a, limit);
  if (rule === "floor") return b.let("floor_exponent", sub(floorLog2Bits(b, bitsOf(a)), i32(floorLog2(limit))));
  const { exponent, significand: sig } = splitLog2(b, a);
  const base = sub(exponent, i32(floorLog2(limit)));
  // block.ts evenExponent in doubles: ratio = sa/sl; below 1 the exponent drops and rest = 2·ratio.
  const sl = significand(limit);
  const ratio = (sa: number) => sa / sl;
  const belowThreshold = firstSignificand((sa) => ratio(sa) >= 1);
  const upBelow = firstSignificand((sa) => ratio(sa) >= 1 || ratio(sa) * 2 * (ratio(sa) * 2) >= 2);
  const upAbove = firstSignificand((sa) => ratio(sa) * ratio(sa) >= 2, belowThreshold);
  const below = b.let("ratio_below_one", lt(sig, f32(belowThreshold)));
  const up = select(below, ge(sig, f32(upBelow)), ge(sig, f32(upAbove)));
  return b.let("even_exponent", add(add(base, select(below, i32(-1), i32(0))), one(up)));
}
