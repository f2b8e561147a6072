// Types of a numforge kernel package. This file is the same for every package; the format's own
// types (its facts as literal types, its code array, its metadata buffers) come from format.d.ts,
// which numforge generates for each format.
import type { CodeArray, MetaBuffers, ScalingKind, StateBuffers } from "./format.js";

export type { CodeArray } from "./format.js";
export { format } from "./format.js";

/** The target whose kernels run in this engine ("wasm" where WebAssembly validates, else "js"). */
export declare const target: "wasm" | "js";

/** Scale metadata of one encoded tensor; pass it to decode / gemm. */
export interface Meta {
  readonly kind: ScalingKind;
  readonly n: number;
  readonly channels: number;
  /** The axis 1-D scale blocks ran along (decode lays the scales out the same way). */
  readonly blockAxis: 0 | 1;
  readonly buffers: MetaBuffers;
}

/** Delayed-scaling state to pass to the next call for the same tensor. */
export interface State {
  readonly buffers: StateBuffers;
}

export interface CallOptions {
  /** The tensor as [rows, cols], row-major (default one row); rows are the channels of per-channel scalings. */
  readonly shape?: readonly [number, number];
  /** The same as shape [channels, n / channels] (give one of the two). */
  readonly channels?: number;
  /** Block scaling: 1-D scale blocks along axis 1, within rows (default), or 0, down columns — the GEMM's reduction axis. */
  readonly blockAxis?: 0 | 1;
  /** Stochastic-rounding seed, a u32 (default 0). */
  readonly seed?: number;
  /** Delayed-scaling state from the previous call. */
  readonly state?: State;
}

export declare function encode(x: Float32Array, out?: CodeArray, options?: CallOptions): { codes: CodeArray; meta: Meta; state: State };
export declare function decode(codes: CodeArray, meta?: Meta, out?: Float32Array): Float32Array;
export declare function fakeQuantize(x: Float32Array, out?: Float32Array, state?: State, options?: Omit<CallOptions, "state">): { values: Float32Array; meta: Meta; state: State };

export interface GemmParams {
  readonly a: Float32Array | CodeArray;
  readonly b: Float32Array | CodeArray;
  readonly c: Float32Array;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Use A transposed (a boolean; anything else is refused). */
  readonly transA?: boolean;
  /** Use B transposed (a boolean; anything else is refused). */
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
  readonly metaA?: Meta;
  readonly metaB?: Meta;
}

/** C = α·op(A)·op(B) + β·C (row-major); returns c. */
export declare function gemm(params: GemmParams): Float32Array;
