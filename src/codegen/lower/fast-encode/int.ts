/**
 * Fast encode of integer / fixed-point elements (codes of ≤ 22 bits, fractionBits in [0, 100],
 * no zero point), lane-wise and without lookups or float-to-int conversions:
 *
 *   |v|, v = x·2^f (exact), is capped at its sign's clamp bound (maxInt, or −minInt for negative
 *   inputs) on its bits — non-negative float32s order as their bits do, and capping at an integer
 *   before a monotone rounding is capping after it — then rounded by the probed decision
 *   (round.ts). The integer n ≤ 2^22 is the mantissa field of n + 2^23 (exact), and the sign is put
 *   back in two's complement ((n ^ s) − s with s all ones for negative inputs). NaN takes the
 *   semantics' code.
 */
import type { ResolvedFormat, ResolvedInt } from "../../../dsl/resolved.ts";
import { Builder, add, and, asI32, asU32, bitsOf, f32, fromBits, gt, i32, lt, min, mul, select, shr, sub, u32, xor } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { f32Bits } from "../../../dsl/semantics/bits.ts";
import { NEGATIVE_NAN, POSITIVE_NAN, probeDecision, sameDecision, type Encoder, type RoundingDecision } from "./probe.ts";
import { lowerRoundByDecision } from "./round.ts";

const LIMIT = 2 ** 22;

export interface IntPlan {
  readonly el: ResolvedInt;
  readonly decision: { readonly positive: RoundingDecision; readonly negative: RoundingDecision };
  readonly nan: number;
}

export function planInt(format: ResolvedFormat, enc: Encoder): IntPlan | null {
  if (format.element.kind !== "int") return null;
  const el: ResolvedInt = format.element;
  const zeroPoint = (el as { readonly zeroPoint?: number }).zeroPoint ?? 0;
  if (zeroPoint !== 0 || el.bits > 22 || el.fractionBits < 0 || el.fractionBits > 100) return null;
  if (Math.max(-el.minInt, el.maxInt) >= LIMIT || el.maxInt < 3 || el.minInt > 0) return null;
  // Without negative codes beyond −2 every negative input clamps to minInt ≥ 0 whatever the decision.
  if (el.minInt < 0 && el.minInt > -3) return null;
  const quantum = 2 ** -el.fractionBits;
  const toInt = (code: number) => (el.signed && code >= 2 ** (el.bits - 1) ? code - 2 ** el.bits : code);
  const positive = probeDecision(enc, 1, 0, (n) => n * quantum, toInt);
  // Negative grid integers are probed on their magnitudes: −n is what the code holds.
  const negative = el.minInt < 0 ? probeDecision(enc, -1, 0, (n) => n * quantum, (c) => -toInt(c)) : positive;
  if (positive === null || negative === null) return null;
  const nan = enc(POSITIVE_NAN);
  if (enc(NEGATIVE_NAN) !== nan) return null;
  return { el, decision: { positive, negative }, nan };
}

export function lowerFastIntEncode(b: Builder, plan: IntPlan, x: Expr): Expr {
  const { el } = plan;
  const xBits = b.let("bits", bitsOf(x));
  const v = el.fractionBits === 0 ? xBits : b.let("v_bits", bitsOf(mul(x, f32(2 ** el.fractionBits))));
  const absBits = b.let("abs_bits", and(v, u32(0x7fffffff)));
  const signMask = b.let("sign_mask", asU32(shr(asI32(v), i32(31))));
  const isNegative = b.let("negative", lt(asI32(v), i32(0)));
  const [upper, lower] = [f32Bits(el.maxInt), f32Bits(Math.abs(el.minInt))];
  const bound = upper === lower ? u32(upper) : select(isNegative, u32(lower), u32(upper));
  const a = b.let("capped", fromBits(min(absBits, bound)));
  const { positive, negative } = plan.decision;
  const up = lowerRoundByDecision(b, a, positive);
  const rounded = sameDecision(positive, negative) ? up : select(isNegative, lowerRoundByDecision(b, a, negative), up);
  const n = and(bitsOf(add(rounded, f32(2 ** 23))), u32(0x7fffff));
  const code = and(sub(xor(n, signMask), signMask), u32(2 ** el.bits - 1));
  const isNan = gt(asI32(and(xBits, u32(0x7fffffff))), i32(0x7f800000));
  return b.let("code", select(isNan, u32(plan.nan), code));
}
