/**
 * Rounding of an exact non-negative f32 q (< 2^25) to an integer-valued f32, in every mode,
 * mirroring dsl/semantics/rounding.ts: stochastic rounding keeps the top `bits` bits of the
 * fraction and adds the top `bits` bits of the element's random draw.
 */
import { Builder, add, and, bool, convert, eq, f32, floor, ge, gt, i32, mul, ne, not, or, roundEven, select, shr, sub, u32 } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import type { Rounding } from "../../dsl/resolved.ts";

/**
 * The integer q rounds to; `random` is the u32 draw, `parityOffset` an i32, `negative` a bool
 * saying the value is −q (the directed modes need it; see semantics).
 */
export function lowerRoundToInteger(b: Builder, q: Expr, rounding: Rounding, random: Expr | null, parityOffset: Expr = i32(0), negative: Expr = bool(false)): Expr {
  // Ties to even with an even constant parity offset is the targets' one-instruction roundEven
  // (exact here: q < 2^25 lies on float32's integer grid from 2^23 up, where both keep it).
  if (rounding.mode === "nearest-even" && parityOffset.kind === "const" && parityOffset.value % 2 === 0) return b.let("rounded", roundEven(q));
  const fl = b.let("fl", floor(q));
  const frac = b.let("frac", sub(q, fl));
  const inexact = ne(frac, f32(0));
  let up: Expr = bool(false);
  switch (rounding.mode) {
    case "toward-zero":
      return fl;
    case "toward-positive":
      up = and(inexact, not(negative));
      break;
    case "toward-negative":
      up = and(inexact, negative);
      break;
    case "odd": {
      const even = eq(and(add(convert("i32.fromF32", fl), parityOffset), i32(1)), i32(0));
      up = and(inexact, even);
      break;
    }
    case "nearest-away":
      up = ge(frac, f32(0.5));
      break;
    case "nearest-even": {
      const odd = ne(and(add(convert("i32.fromF32", fl), parityOffset), i32(1)), i32(0));
      up = or(gt(frac, f32(0.5)), and(eq(frac, f32(0.5)), odd));
      break;
    }
    case "stochastic": {
      if (random === null) throw new Error("stochastic rounding needs the element's random draw");
      up = stochasticUp(convert("i32.fromF32", floor(mul(frac, f32(2 ** rounding.bits)))), random, rounding.bits);
      break;
    }
  }
  return b.let("rounded", select(up, add(fl, f32(1)), fl));
}

/**
 * Stochastic rounding's decision (dsl/semantics/rounding.ts): up when t, the fraction's top `bits`
 * bits as an i32, plus the draw's top `bits` bits reaches 2^bits. t, r < 2^bits ≤ 2^24 (the
 * schema's limit), so the sum is an i32: signed conversion and compare, one SIMD instruction
 * each (the unsigned ones are emulated on x86).
 */
export function stochasticUp(t: Expr, random: Expr, bits: number): Expr {
  return ge(add(t, convert("i32.fromU32", shr(random, u32(32 - bits)))), i32(2 ** bits));
}
