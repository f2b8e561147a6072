/**
 * The buffers that carry a scaling's metadata (what quantize returns beside the codes and decode
 * needs) and its state (kept between calls), and the conversions between those buffers and the
 * semantics' ScaleMeta / ScalingState. Each scaling kind declares its own layout and codecs
 * (src/scaling/<kind>); these ask the format's kind.
 */
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { callOf, type ScaleMeta, type ScalingState } from "../dsl/semantics/tensor.ts";
import type { BlockAxis } from "../scaling/kind.ts";
import { scalingKindOf } from "../scaling/registry.ts";
import type { BufferDecl } from "./plan.ts";

/** A typed array of the kind a buffer of that storage type is. */
export type BufferArray = Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array;
/** Buffers by name. */
export type Buffers = Readonly<Record<string, BufferArray>>;

/** How a call laid the tensor out: rows (channels) and the axis of 1-D scale blocks. */
export interface CallLayout {
  readonly n: number;
  readonly channels?: number;
  readonly blockAxis?: BlockAxis;
}

/** The metadata buffers of the format's scaling, with the given role (meta for encode, input for decode). */
export function metaLayout(format: ResolvedFormat, role: BufferDecl["role"] = "meta"): readonly BufferDecl[] {
  return scalingKindOf(format.scaling).metaLayout(format, format.scaling, role);
}

/** The state buffers (delayed amax only). */
export function stateLayout(format: ResolvedFormat): readonly BufferDecl[] {
  return scalingKindOf(format.scaling).stateLayout?.(format, format.scaling) ?? [];
}

/** The semantics' ScaleMeta from the meta buffers a plan returned for a call. */
export function metaFromBuffers(format: ResolvedFormat, buffers: Readonly<Record<string, ArrayLike<number>>>, call: CallLayout): ScaleMeta {
  return scalingKindOf(format.scaling).metaFromBuffers(format, format.scaling, buffers, callOf(call.n, call));
}

/** The meta buffers that carry `meta` (for a decode plan); fails if its kind is not the format's. */
export function buffersFromMeta(format: ResolvedFormat, meta: ScaleMeta): Record<string, BufferArray> {
  if (meta.kind !== format.scaling.kind) throw new Error(`${format.name}: ${meta.kind} metadata for ${format.scaling.kind} scaling`);
  return scalingKindOf(format.scaling).buffersFromMeta(format, format.scaling, meta);
}

/** The semantics' ScalingState from the state buffers (undefined where the scaling keeps none). */
export function stateFromBuffers(format: ResolvedFormat, buffers: Readonly<Record<string, ArrayLike<number>>>): ScalingState | undefined {
  return scalingKindOf(format.scaling).stateFromBuffers?.(format, format.scaling, buffers);
}

/** State buffers holding `state` for a call with `channels` rows ({} where the scaling keeps none). */
export function buffersFromState(format: ResolvedFormat, state: ScalingState | undefined, channels: number): Record<string, BufferArray> {
  return scalingKindOf(format.scaling).buffersFromState?.(format, format.scaling, state, channels) ?? {};
}
