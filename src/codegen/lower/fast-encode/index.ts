/**
 * The fast element encodes (float.ts and its bf16-shaped special case aligned.ts, pow2.ts, int.ts): chosen by lowerEncodeElement where a format's
 * numbers allow them and its rounding is deterministic, else null and the general lowering runs.
 * Each is exact by the semantics' own probes plus the tests in test/speed, which compare every
 * code, float32 specials, ties and 10^5 random bit patterns with the semantics on every target.
 */
import type { Overflow, ResolvedFormat, Rounding } from "../../../dsl/resolved.ts";
import type { Builder } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { lowerAlignedFloatEncode, planAligned, type AlignedPlan } from "./aligned.ts";
import { lowerFastFloatEncode, planFloat, type FloatPlan } from "./float.ts";
import { lowerFastIntEncode, planInt, type IntPlan } from "./int.ts";
import { lowerFastPow2Encode, planPow2, type Pow2Plan } from "./pow2.ts";
import { encoderOf, type Encoder } from "./probe.ts";

type Plan =
  | { readonly kind: "float"; readonly plan: FloatPlan }
  | { readonly kind: "aligned"; readonly plan: AlignedPlan }
  | { readonly kind: "int"; readonly plan: IntPlan }
  | { readonly kind: "pow2"; readonly plan: Pow2Plan }
  | null;

/** Plans per format object and (rounding, overflow): lowering asks once per kernel, probing costs ~100 encodes. */
const plans = new WeakMap<ResolvedFormat, Map<string, Plan>>();

export function fastEncodePlan(format: ResolvedFormat, rounding: Rounding, overflow: Overflow): Plan {
  if (rounding.mode === "stochastic") return null;
  let byOptions = plans.get(format);
  if (byOptions === undefined) plans.set(format, (byOptions = new Map()));
  const key = `${rounding.mode}/${rounding.bits}/${overflow}`;
  if (!byOptions.has(key)) {
    const enc = encoderOf(format, rounding, overflow);
    byOptions.set(key, choosePlan(format, enc));
  }
  return byOptions.get(key) ?? null;
}

function choosePlan(format: ResolvedFormat, enc: Encoder): Plan {
  const float = planFloat(format, enc);
  if (float !== null) {
    const aligned = planAligned(float);
    return aligned !== null ? { kind: "aligned", plan: aligned } : { kind: "float", plan: float };
  }
  const pow2 = planPow2(format, enc);
  if (pow2 !== null) return { kind: "pow2", plan: pow2 };
  const int = planInt(format, enc);
  return int !== null ? { kind: "int", plan: int } : null;
}

/** The u32 code of f32 `x` by a fast path, or null where none applies (random: stochastic rounding's draw). */
export function lowerFastEncode(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, rounding: Rounding, overflow: Overflow): Expr | null {
  if (random !== null) return null;
  const plan = fastEncodePlan(format, rounding, overflow);
  if (plan === null) return null;
  switch (plan.kind) {
    case "float":
      return lowerFastFloatEncode(b, plan.plan, x);
    case "aligned":
      return lowerAlignedFloatEncode(b, plan.plan, x);
    case "pow2":
      return lowerFastPow2Encode(b, plan.plan, x);
    case "int":
      return lowerFastIntEncode(b, plan.plan, x);
  }
}
