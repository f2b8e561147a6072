/**
 * What the WGSL plan tests share: the formats whose kernels run through plans (every built-in,
 * every amax variant, stochastic scaled ones), test tensors with specials, the (n, channels)
 * layouts, and a bit-level view of a plan's results.
 */
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";
import type { RunResult } from "../../../src/package-runtime/run-plan.js";
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

/** Whether the format's scaling groups by channel (so several channel counts are worth testing). */
export function perChannel(format: ResolvedFormat): boolean {
  const s = format.scaling;
  return (s.kind === "amax" && s.granularity === "channel") || s.kind === "shift-groups";
}

/** Random bit patterns, log-uniform magnitudes, zeros and specials. */
export function tensor(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const u = counterRandom(seed, i) / 2 ** 32;
    if (u < 0.02) return [0, -0, Number.NaN, Infinity, -Infinity][i % 5];
    if (u < 0.1) return new Float32Array(Uint32Array.of(counterRandom(seed + 1, i)).buffer)[0];
    return (counterRandom(seed + 2, i) & 1 ? -1 : 1) * 2 ** ((counterRandom(seed + 3, i) / 2 ** 32 - 0.5) * 40 + (seed % 7));
  });
}

/** Words of every buffer of a result (f32 by bits, every NaN as one value), by part and name. */
export function words(result: RunResult): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [part, buffers] of Object.entries({ outputs: result.outputs, meta: result.meta, state: result.state }))
    for (const [name, b] of Object.entries(buffers)) {
      const bits = b instanceof Float32Array ? new Uint32Array(b.buffer, b.byteOffset, b.length) : b;
      out[`${part}.${name}`] = Array.from(b, (v, i) => (b instanceof Float32Array && Number.isNaN(v) ? -1 : bits[i]));
    }
  return out;
}
