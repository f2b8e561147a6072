/**
 * The fast element encodes (float.ts, int.ts): chosen by lowerEncodeElement where a format's
 * numbers allow them and its rounding is deterministic, else null and the general lowering runs.
 * Each is exact by the semantics' own probes plus the tests in test/speed, which compare every
 * code, float32 specials, ties and 10^5 random bit patterns with the semantics on every target.
 */
import type { Overflow, ResolvedFormat, Rounding } from "../../../dsl/resolved.ts";
import type { Builder } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { lowerFastFloatEncode, planFloat, type FloatPlan } from "./float.ts";
import { lowerFastIntEncode, planInt, type IntPlan } from "./int.ts";
import { encoderOf } from "./probe.ts";

type Plan = { readonly kind: "float"; readonly plan: FloatPlan } | { readonly kind: "int"; readonly plan: IntPlan } | null;

/** Plans per format object and (rounding, overflow): lowering asks once per kernel, probing costs ~100 encodes. */
const plans = new WeakMap<ResolvedFormat, Map<string, Plan>>();

export function fastEncodePlan(format: ResolvedFormat, rounding: Rounding, overflow: Overflow): Plan {
  if (rounding.mode === "stochastic") return null;
  let byOptions = plans.get(format);
  if (byOptions === undefined) plans.set(format, (byOptions = new Map()));
  const key = `${rounding.mode}/${rounding.bits}/${overflow}`;
  if (!byOptions.has(key)) {
    const enc = encoderOf(format, rounding, overflow);
    const float = planFloat(format, enc);
    const int = float === null ? planInt(format, enc) : null;
    byOptions.set(key, float !== null ? { kind: "float", plan: float } : int !== null ? { kind: "int", plan: int } : null);
  }
  return byOptions.get(key) ?? null;
}

/** The u32 code of f32 `x` by a fast path, or null where none applies (random: stochastic rounding's draw). */
export function lowerFastEncode(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, rounding: Rounding, overflow: Overflow): Expr | null {
  if (random !== null) return null;
  const plan = fastEncodePlan(format, rounding, overflow);
  if (plan === null) return null;
  return plan.kind === "float" ? lowerFastFloatEncode(b, plan.plan, x) : lowerFastIntEncode(b, plan.plan, x);
}
