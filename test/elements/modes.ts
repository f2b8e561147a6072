/** The rounding modes and overflows the element tests run every format under. */
import type { Overflow, ResolvedFormat, Rounding } from "../../src/dsl/resolved.ts";

export const DETERMINISTIC: readonly Rounding["mode"][] = ["nearest-even", "nearest-away", "toward-zero", "toward-positive", "toward-negative", "odd"];

/** The overflows a format's spec may take (resolve's rules). */
export function overflowsOf(format: ResolvedFormat): Overflow[] {
  if (format.element.kind !== "float") return ["saturate"];
  return ["saturate", ...(format.hasInfinity || format.hasNaN ? (["infinity"] as const) : []), ...(format.hasInfinity ? (["saturate-propagate"] as const) : [])];
}

/** The format with another rounding and overflow (what a spec with those fields resolves to). */
export function variant(format: ResolvedFormat, rounding: Rounding, overflow: Overflow): ResolvedFormat {
  const label = rounding.mode === "stochastic" ? `sr${rounding.bits}` : rounding.mode;
  return Object.freeze({ ...format, name: `${format.name}-${label}-${overflow}`, rounding, overflow });
}
