/**
 * amax scaling (Transformer Engine style): x·scale is encoded with scale = maxFinite/amax
 * (optionally a power of two, divided by 2^margin); decoding multiplies by float32(1/scale).
 * Delayed scaling takes amax as the max over the last `length` steps' amaxes.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { ScalingState, TensorLayout } from "../../dsl/semantics/scaling/meta.ts";
import { finiteAmax, floorExponentRatio } from "../../dsl/semantics/scaling/exponents.ts";
import type { AmaxMeta, AmaxScaling } from "./types.ts";

/** The per-channel scales for x, and the next delayed-scaling state. */
export function amaxScales(
  format: ResolvedFormat,
  scaling: AmaxScaling,
  x: Float32Array,
  layout: TensorLayout,
  state: ScalingState | undefined,
): { meta: AmaxMeta; state: ScalingState | undefined } {
  const groups = scaling.granularity === "tensor" ? 1 : layout.channels;
  const per = layout.length / groups;
  const current = Float32Array.from({ length: groups }, (_, c) => finiteAmax(x, c * per, (c + 1) * per));
  let used = current;
  let next = state;
  if (scaling.history.mode === "delayed") {
    const history = (state?.amaxHistory ?? []).filter((h) => h.length === groups);
    if (history.length > 0) used = Float32Array.from({ length: groups }, (_, c) => Math.max(...history.map((h) => h[c])));
    next = { amaxHistory: [...history, current].slice(-scaling.history.length) };
  }
  const scale = Float32Array.from(used, (amax) => scaleFor(format, scaling, amax));
  const scaleInv = Float32Array.from(scale, (s) => 1 / s);
  return { meta: { kind: "amax", scale, scaleInv, amax: used }, state: next };
}

/** A float32 scale that maps amax onto maxFinite/2^margin; 1 for an all-zero tensor. */
function scaleFor(format: ResolvedFormat, scaling: AmaxScaling, amax: number): number {
  if (amax === 0) return 1;
  if (scaling.scale === "power-of-two") {
    const k = floorExponentRatio(format.maxFinite, amax) - scaling.margin;
    return 2 ** Math.min(Math.max(k, -126), 127);
  }
  const s = Math.fround(Math.fround(format.maxFinite / amax) / 2 ** scaling.margin);
  return Number.isFinite(s) ? s : 2 ** 127;
}
