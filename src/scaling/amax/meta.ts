/**
 * amax metadata as plan buffers and as JSON.
 * Buffers: scale, scale_inv, amax — f32, one per group (1 for a tensor, one per row per channel).
 * State (delayed only): amax_history — f32, `length` rows of one amax per group, oldest first,
 * the first history_count rows valid; history_count — u32[1].
 */
import * as Effect from "effect/Effect";
import type { InputError } from "../../dsl/errors.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { ScalingState } from "../../dsl/semantics/scaling/meta.ts";
import type { BufferArray } from "../../codegen/meta.ts";
import { sizeOf, type BufferDecl, type Size } from "../../codegen/plan.ts";
import { parseValues } from "../../cli/json-io.ts";
import { bufferDecl, field, metaFail, rawBuffer } from "../meta-parts.ts";
import type { RawBuffers } from "../kind.ts";
import type { AmaxMeta, AmaxScaling } from "./types.ts";

export const AMAX_META = { scale: "scale", scaleInv: "scale_inv", amax: "amax" } as const;
export const AMAX_STATE = { history: "amax_history", count: "history_count" } as const;

/** One entry per amax group: per tensor or per row. */
const groupsSize = (scaling: AmaxScaling): Size => (scaling.granularity === "tensor" ? { constant: 1 } : { perChannel: 1 });

export function amaxMetaLayout(_format: ResolvedFormat, scaling: AmaxScaling, role: BufferDecl["role"]): readonly BufferDecl[] {
  return [AMAX_META.scale, AMAX_META.scaleInv, AMAX_META.amax].map((name) => bufferDecl(name, "f32", groupsSize(scaling), role));
}

export function amaxStateLayout(_format: ResolvedFormat, scaling: AmaxScaling): readonly BufferDecl[] {
  if (scaling.history.mode !== "delayed") return [];
  const rows = scaling.history.length;
  const length: Size = scaling.granularity === "tensor" ? { constant: rows } : { perChannel: rows };
  return [bufferDecl(AMAX_STATE.history, "f32", length, "state"), bufferDecl(AMAX_STATE.count, "u32", { constant: 1 }, "state")];
}

export function amaxMetaFromBuffers(buffers: RawBuffers): AmaxMeta {
  return {
    kind: "amax",
    scale: Float32Array.from(rawBuffer(buffers, AMAX_META.scale)),
    scaleInv: Float32Array.from(rawBuffer(buffers, AMAX_META.scaleInv)),
    amax: Float32Array.from(rawBuffer(buffers, AMAX_META.amax)),
  };
}

export function amaxBuffersFromMeta(meta: AmaxMeta): Record<string, BufferArray> {
  return { [AMAX_META.scale]: Float32Array.from(meta.scale), [AMAX_META.scaleInv]: Float32Array.from(meta.scaleInv), [AMAX_META.amax]: Float32Array.from(meta.amax) };
}

export function amaxStateFromBuffers(scaling: AmaxScaling, buffers: RawBuffers): ScalingState | undefined {
  if (scaling.history.mode !== "delayed") return undefined;
  const history = rawBuffer(buffers, AMAX_STATE.history);
  const rows = scaling.history.length;
  const groups = history.length / rows;
  const count = Math.min(rawBuffer(buffers, AMAX_STATE.count)[0], rows);
  return { amaxHistory: Array.from({ length: count }, (_, r) => Float32Array.from({ length: groups }, (_, g) => history[r * groups + g])) };
}

/**
 * State buffers holding `state` for a call with `channels` rows. As the semantics, history
 * entries of another group count are dropped; at most the last `length` entries are kept.
 */
export function amaxBuffersFromState(format: ResolvedFormat, scaling: AmaxScaling, state: ScalingState | undefined, channels: number): Record<string, BufferArray> {
  if (scaling.history.mode !== "delayed") return {};
  const groups = scaling.granularity === "tensor" ? 1 : channels;
  const rows = scaling.history.length;
  const kept = (state?.amaxHistory ?? []).filter((h) => h.length === groups).slice(-rows);
  const history = new Float32Array(sizeOf(amaxStateLayout(format, scaling)[0].length, 0, channels));
  kept.forEach((h, r) => history.set(h, r * groups));
  return { [AMAX_STATE.history]: history, [AMAX_STATE.count]: Uint32Array.of(kept.length) };
}

export function amaxMetaToJson(meta: AmaxMeta, values: (a: Float32Array) => unknown[]): Record<string, unknown> {
  return { kind: "amax", scale: values(meta.scale), scaleInv: values(meta.scaleInv), amax: values(meta.amax) };
}

const FIELDS = ["scale", "scaleInv", "amax"];

export function amaxMetaFromJson(meta: Readonly<Record<string, unknown>>, codeCount: number): Effect.Effect<AmaxMeta, InputError> {
  return Effect.gen(function* () {
    const scale = yield* parseValues(yield* field(meta, "amax", FIELDS, "scale"), "meta.scale");
    const scaleInv = yield* parseValues(yield* field(meta, "amax", FIELDS, "scaleInv"), "meta.scaleInv");
    const amax = yield* parseValues(yield* field(meta, "amax", FIELDS, "amax"), "meta.amax");
    if (scaleInv.length === 0 || codeCount % scaleInv.length !== 0 || scale.length !== scaleInv.length || amax.length !== scaleInv.length)
      return yield* metaFail(`meta: scale, scaleInv and amax need one entry per channel, a number that divides the ${codeCount} codes (got ${scale.length}, ${scaleInv.length}, ${amax.length})`);
    const bad = [...scale, ...scaleInv].findIndex((s) => !(Number.isFinite(s) && s > 0));
    if (bad >= 0) return yield* metaFail(`meta: scale and scaleInv must be finite positive numbers (entry ${bad % scale.length} is not)`);
    return { kind: "amax", scale: Float32Array.from(scale), scaleInv: Float32Array.from(scaleInv), amax: Float32Array.from(amax) } satisfies AmaxMeta;
  });
}
