/**
 * What the WGSL plan tests share: the formats whose kernels run through plans (every built-in,
 * every amax variant, stochastic scaled ones), test tensors with specials, the (n, channels)
 * layouts, and a bit-level view of a plan's results.
 */
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { builtin, e4m3AmaxVariants, builtinNames } from "../../support/formats.ts";


/** Every built-in format, the amax variants, and stochastic MX / ShiftQuant / S2FP8. */
export const PLAN_FORMATS: readonly ResolvedFormat[] = [
  ...builtinNames.map(builtin),
  ...e4m3AmaxVariants(),
  { ...builtin("e5m2"), name: "e5m2-amax-channel-sr", rounding: { mode: "stochastic", bits: 9 }, scaling: { kind: "amax", granularity: "channel", history: { mode: "current" }, margin: 0, scale: "fp32" } },
  { ...builtin("mxfp8"), name: "mxfp8-sr", rounding: { mode: "stochastic", bits: 9 } },
  { ...builtin("shiftquant4"), name: "shiftquant4-sr", rounding: { mode: "stochastic", bits: 9 } },
  { ...builtin("s2fp8"), name: "s2fp8-sr", rounding: { mode: "stochastic", bits: 9 } },
];

/** The plan tests' tensor (test/support/inputs.ts), per-channel formats and result words (test/support/plans.ts). */
export { planTensor as tensor } from "../../support/inputs.ts";
export { byRow, resultWords as words } from "../../support/plans.ts";

