/** The JSON shape of a format's properties, shared by `formats --json` and `check --json`. */
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { scalingKindOf } from "../scaling/registry.ts";
import { valueToJson } from "./json-io.ts";
import { kindLabel } from "./render/describe.ts";

/** A ResolvedFormat as plain JSON: numbers that JSON cannot say become strings, the scale format its name. */
export function formatToJson(format: ResolvedFormat): Record<string, unknown> {
  return {
    name: format.name,
    summary: format.summary,
    kind: kindLabel(format),
    bits: format.bits,
    codeCount: format.codeCount,
    element: format.element,
    rounding: format.rounding,
    overflow: format.overflow,
    nanInput: format.nanInput,
    scaling: scalingKindOf(format.scaling).toJson(format.scaling),
    maxFinite: valueToJson(format.maxFinite),
    minFinite: valueToJson(format.minFinite),
    minNormal: valueToJson(format.minNormal),
    minSubnormal: valueToJson(format.minSubnormal),
    epsilon: valueToJson(format.epsilon),
    dynamicRangeBinades: valueToJson(format.dynamicRangeBinades),
    hasNaN: format.hasNaN,
    hasInfinity: format.hasInfinity,
    codes: format.codes,
  };
}
