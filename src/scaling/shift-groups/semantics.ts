/**
 * ShiftQuant group scales (arXiv 2411.10948): channel c needs the power-of-two scale 2^k_c, the
 * smallest with amax_c ≤ maxFinite·2^k_c. Channels are grouped by magnitude without moving data:
 * group g = min(k_max − k_c, groups − 1) and has scale 2^(k_max − g), so integer GEMMs apply one
 * shift per group after accumulation and no channel clips.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { TensorLayout } from "../../dsl/semantics/scaling/meta.ts";
import { ceilExponentRatio, finiteAmax } from "../../dsl/semantics/scaling/exponents.ts";

/** Group of every channel and the scale exponent of every group. */
export function shiftGroups(format: ResolvedFormat, groups: number, x: Float32Array, layout: TensorLayout) {
  const per = layout.length / layout.channels;
  const exponents: (number | null)[] = [];
  let kMax = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < layout.channels; c++) {
    const amax = finiteAmax(x, c * per, (c + 1) * per);
    const k = amax === 0 ? null : ceilExponentRatio(amax, format.maxFinite);
    exponents.push(k);
    if (k !== null && k > kMax) kMax = k;
  }
  if (kMax === Number.NEGATIVE_INFINITY) kMax = 0;
  const channelGroup = Uint8Array.from(exponents, (k) => (k === null ? groups - 1 : Math.min(kMax - k, groups - 1)));
  const groupExponent = Int32Array.from({ length: groups }, (_, g) => Math.min(Math.max(kMax - g, -126), 127));
  return { channelGroup, groupExponent };
}
