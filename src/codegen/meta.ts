/**
 * The buffers that carry a scaling's metadata (what quantize returns beside the codes and decode
 * needs) and its state (the delayed-amax history kept between calls), and the conversions
 * between those buffers and the semantics' ScaleMeta / ScalingState. One layout per scaling kind:
 *
 * - none: no buffers.
 * - amax: scale, scale_inv, amax — f32, one per group (1 for a tensor, `channels` per channel).
 *   State (delayed only): amax_history — f32, `length` rows of one amax per group, oldest first,
 *   the first history_count rows valid; history_count — u32[1].
 * - block: scale_codes — one scale-format code per block of blockSize elements.
 * - shift-squeeze: alpha_beta — f32[2] = [α, β].
 * - shift-groups: channel_group — u8, one per channel; group_exponent — i32, one per group.
 */
import { match } from "ts-pattern";
import type { ResolvedFormat, ResolvedScaling } from "../dsl/resolved.ts";
import { codeArray } from "../dsl/semantics/codes.ts";
import type { ScaleMeta, ScalingState } from "../dsl/semantics/tensor.ts";
import type { StorageType } from "./ir/nodes.ts";
import { codeStorage } from "./lower/elementwise.ts";
import { sizeOf, type BufferDecl, type Size } from "./plan.ts";

/** Buffer names of the metadata and state. */
export const META = {
  scale: "scale",
  scaleInv: "scale_inv",
  amax: "amax",
  scaleCodes: "scale_codes",
  alphaBeta: "alpha_beta",
  channelGroup: "channel_group",
  groupExponent: "group_exponent",
} as const;
export const STATE = { history: "amax_history", count: "history_count" } as const;

/** A typed array of the kind a buffer of that storage type is. */
export type BufferArray = Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array;
/** Buffers by name. */
export type Buffers = Readonly<Record<string, BufferArray>>;

type Scaling<K extends ResolvedScaling["kind"]> = Extract<ResolvedScaling, { kind: K }>;

/** One entry per amax group: per tensor or per channel. */
function amaxGroups(scaling: Scaling<"amax">): Size {
  return scaling.granularity === "tensor" ? { constant: 1 } : { perChannel: 1 };
}

const decl = (name: string, storage: StorageType, length: Size, role: BufferDecl["role"]): BufferDecl => ({ name, storage, length, role });

/** The metadata buffers of the format's scaling, with the given role (meta for encode, input for decode). */
export function metaLayout(format: ResolvedFormat, role: BufferDecl["role"] = "meta"): readonly BufferDecl[] {
  return match(format.scaling)
    .with({ kind: "none" }, () => [])
    .with({ kind: "amax" }, (s) => [
      decl(META.scale, "f32", amaxGroups(s), role),
      decl(META.scaleInv, "f32", amaxGroups(s), role),
      decl(META.amax, "f32", amaxGroups(s), role),
    ])
    .with({ kind: "block" }, (s) => [decl(META.scaleCodes, codeStorage(s.scaleFormat), { perBlock: { blockSize: s.blockSize, count: 1 } }, role)])
    .with({ kind: "shift-squeeze" }, () => [decl(META.alphaBeta, "f32", { constant: 2 }, role)])
    .with({ kind: "shift-groups" }, (s) => [
      decl(META.channelGroup, "u8", { perChannel: 1 }, role),
      decl(META.groupExponent, "i32", { constant: s.groups }, role),
    ])
    .exhaustive();
}

/** The state buffers (delayed amax only): history rows and how many are valid. */
export function stateLayout(format: ResolvedFormat): readonly BufferDecl[] {
  const s = format.scaling;
  if (s.kind !== "amax" || s.history.mode !== "delayed") return [];
  const rows = s.history.length;
  const length: Size = s.granularity === "tensor" ? { constant: rows } : { perChannel: rows };
  return [decl(STATE.history, "f32", length, "state"), decl(STATE.count, "u32", { constant: 1 }, "state")];
}

function get(buffers: Readonly<Record<string, ArrayLike<number>>>, name: string): ArrayLike<number> {
  const b = buffers[name];
  if (b === undefined) throw new Error(`missing meta/state buffer ${name}`);
  return b;
}

/** The semantics' ScaleMeta from the meta buffers a plan returned. */
export function metaFromBuffers(format: ResolvedFormat, buffers: Readonly<Record<string, ArrayLike<number>>>): ScaleMeta {
  return match(format.scaling)
    .with({ kind: "none" }, (): ScaleMeta => ({ kind: "none" }))
    .with({ kind: "amax" }, (): ScaleMeta => ({
      kind: "amax",
      scale: Float32Array.from(get(buffers, META.scale)),
      scaleInv: Float32Array.from(get(buffers, META.scaleInv)),
      amax: Float32Array.from(get(buffers, META.amax)),
    }))
    .with({ kind: "block" }, (s): ScaleMeta => {
      const codes = get(buffers, META.scaleCodes);
      const scaleCodes = codeArray(s.scaleFormat.bits, codes.length);
      scaleCodes.set(Array.from(codes));
      return { kind: "block", blockSize: s.blockSize, scaleCodes };
    })
    .with({ kind: "shift-squeeze" }, (): ScaleMeta => {
      const ab = get(buffers, META.alphaBeta);
      return { kind: "shift-squeeze", alpha: Math.fround(ab[0]), beta: Math.fround(ab[1]) };
    })
    .with({ kind: "shift-groups" }, (): ScaleMeta => ({
      kind: "shift-groups",
      channelGroup: Uint8Array.from(get(buffers, META.channelGroup)),
      groupExponent: Int32Array.from(get(buffers, META.groupExponent)),
    }))
    .exhaustive();
}

/** The meta buffers that carry `meta` (for a decode plan); fails if its kind is not the format's. */
export function buffersFromMeta(format: ResolvedFormat, meta: ScaleMeta): Record<string, BufferArray> {
  if (meta.kind !== format.scaling.kind) throw new Error(`${format.name}: ${meta.kind} metadata for ${format.scaling.kind} scaling`);
  return match(meta)
    .with({ kind: "none" }, () => ({}))
    .with({ kind: "amax" }, (m) => ({ [META.scale]: Float32Array.from(m.scale), [META.scaleInv]: Float32Array.from(m.scaleInv), [META.amax]: Float32Array.from(m.amax) }))
    .with({ kind: "block" }, (m) => {
      const scaling = format.scaling as Scaling<"block">;
      if (m.blockSize !== scaling.blockSize) throw new Error(`${format.name}: metadata for blocks of ${m.blockSize}, the format has ${scaling.blockSize}`);
      const codes = codeArray(scaling.scaleFormat.bits, m.scaleCodes.length);
      codes.set(m.scaleCodes);
      return { [META.scaleCodes]: codes };
    })
    .with({ kind: "shift-squeeze" }, (m) => ({ [META.alphaBeta]: Float32Array.of(m.alpha, m.beta) }))
    .with({ kind: "shift-groups" }, (m) => ({ [META.channelGroup]: Uint8Array.from(m.channelGroup), [META.groupExponent]: Int32Array.from(m.groupExponent) }))
    .exhaustive();
}

/** The semantics' ScalingState from the state buffers (undefined where the scaling keeps none). */
export function stateFromBuffers(format: ResolvedFormat, buffers: Readonly<Record<string, ArrayLike<number>>>): ScalingState | undefined {
  const s = format.scaling;
  if (s.kind !== "amax" || s.history.mode !== "delayed") return undefined;
  const history = get(buffers, STATE.history);
  const rows = s.history.length;
  const groups = history.length / rows;
  const count = Math.min(get(buffers, STATE.count)[0], rows);
  const amaxHistory = Array.from({ length: count }, (_, r) => Float32Array.from({ length: groups }, (_, g) => history[r * groups + g]));
  return { amaxHistory };
}

/**
 * State buffers holding `state` for a call with `channels` channels. As the semantics, history
 * entries of another group count are dropped; at most the last `length` entries are kept (the
 * most quantize ever returns).
 */
export function buffersFromState(format: ResolvedFormat, state: ScalingState | undefined, channels: number): Record<string, BufferArray> {
  const s = format.scaling;
  if (s.kind !== "amax" || s.history.mode !== "delayed") return {};
  const groups = s.granularity === "tensor" ? 1 : channels;
  const rows = s.history.length;
  const kept = (state?.amaxHistory ?? []).filter((h) => h.length === groups).slice(-rows);
  const history = new Float32Array(sizeOf(stateLayout(format)[0].length, 0, channels));
  kept.forEach((h, r) => history.set(h, r * groups));
  return { [STATE.history]: history, [STATE.count]: Uint32Array.of(kept.length) };
}
