/**
 * Fast encode of integer / fixed-point elements (codes of ≤ 22 bits, fractionBits in [0, 100],
 * no zero point), lane-wise and without lookups: v = x·2^f (exact), its magnitude (capped at 2^22,
 * beyond every clamp bound) rounded by the probed decision (round.ts), the sign put back, clamped
 * to [minInt, maxInt] in float32, and the two's complement code read from the bits of
 * n + 1.5·2^23 (exact for |n| < 2^22, whose low mantissa bits are n modulo 2^22) — no float-to-int
 * conversion, which SIMD lacks on some machines. NaN takes the semantics' code.
 */
import type { ResolvedFormat, ResolvedInt } from "../../../dsl/resolved.ts";
import { Builder, abs, add, and, bitsOf, f32, gt, max, min, mul, ne, neg, select, shr, u32 } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { NEGATIVE_NAN, POSITIVE_NAN, probeDecision, sameDecision, type Encoder, type RoundingDecision } from "./probe.ts";
import { lowerRoundByDecision } from "./round.ts";

const LIMIT = 2 ** 22;
const MAGIC = 1.5 * 2 ** 23;

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
  const quantum = 2 ** -el.fractionBits;
  const toInt = (code: number) => (el.signed && code >= 2 ** (el.bits - 1) ? code - 2 ** el.bits : code);
  const positive = probeDecision(enc, 1, 0, (n) => n * quantum, toInt);
  // Negative grid integers are probed on their magnitudes: −n is what the code holds.
  // Without negative codes beyond −2 every negative input clamps to minInt ≥ 0 whatever the decision.
  if (el.minInt < 0 && el.minInt > -3) return null;
  const negative = el.minInt < 0 ? probeDecision(enc, -1, 0, (n) => n * quantum, (c) => -toInt(c)) : positive;
  if (positive === null || negative === null) return null;
  const nan = enc(POSITIVE_NAN);
  if (enc(NEGATIVE_NAN) !== nan) return null;
  return { el, decision: { positive, negative }, nan };
}

export function lowerFastIntEncode(b: Builder, plan: IntPlan, x: Expr): Expr {
  const { el } = plan;
  const v = b.let("v", el.fractionBits === 0 ? x : mul(x, f32(2 ** el.fractionBits)));
  const a = b.let("a", min(abs(v), f32(LIMIT)));
  const { positive, negative } = plan.decision;
  const isNegative = b.let("negative", ne(shr(bitsOf(v), u32(31)), u32(0)));
  const up = lowerRoundByDecision(b, a, positive);
  const signed = select(isNegative, neg(sameDecision(positive, negative) ? up : lowerRoundByDecision(b, a, negative)), up);
  const clamped = max(min(b.let("signed", signed), f32(el.maxInt)), f32(el.minInt));
  const code = and(bitsOf(add(clamped, f32(MAGIC))), u32(2 ** el.bits - 1));
  return b.let("code", select(gt(and(bitsOf(x), u32(0x7fffffff)), u32(0x7f800000)), u32(plan.nan), code));
}
