/**
 * Plans: how the kernels of a format are sequenced for each API operation (encode, decode,
 * fakeQuantize). A plan is plain data — buffers with sizes and an ordered list of kernel calls
 * — so every target's runner (JS, WebAssembly, WebGPU) executes the same steps and only the
 * kernels differ. Statistics phases (amax, block maxima, S2FP8 log2 sums) are separate steps so
 * a GPU can run them as reductions between dispatches.
 */
import type { StorageType } from "./ir/nodes.ts";

/**
 * A buffer length as a function of the call: constant + perElement·n + perChannel·channels
 * + perBlock·⌈n / blockSize⌉ (+ perChunk·⌈n / chunk⌉).
 */
export interface Size {
  readonly constant?: number;
  readonly perElement?: number;
  readonly perChannel?: number;
  readonly perBlock?: { readonly blockSize: number; readonly count: number };
}

/** What a buffer is for: the runner binds inputs/outputs, returns meta, keeps state. */
export type BufferRole =
  | "input" // x (f32) for encode/fakeQuantize, codes for decode
  | "output" // codes for encode, values for decode/fakeQuantize
  | "meta" // returned to the caller with the codes, required by decode
  | "state" // kept by the caller between calls (delayed amax history)
  | "scratch"; // allocated by the runner, discarded after the call

export interface BufferDecl {
  readonly name: string;
  readonly storage: StorageType;
  readonly length: Size;
  readonly role: BufferRole;
}

/**
 * A kernel argument: a plan buffer, a call scalar (n, channels, seed, or channelLength = n /
 * channels, since the IR has no integer division) or a constant.
 */
export type StepArg =
  | { readonly buffer: string }
  | { readonly scalar: "n" | "channels" | "seed" | "channelLength" }
  | { readonly constant: number };

export interface Step {
  readonly kernel: string;
  /** The kernel's parameter names in declaration order: kernels are called positionally. */
  readonly params: readonly string[];
  /** Argument for each kernel parameter, by parameter name. */
  readonly args: Readonly<Record<string, StepArg>>;
}

export interface OpPlan {
  readonly buffers: readonly BufferDecl[];
  readonly steps: readonly Step[];
}

/** The plans of one format for each elementwise API operation. */
export interface FormatPlans {
  readonly encode: OpPlan;
  readonly decode: OpPlan;
  readonly fakeQuantize: OpPlan;
}

/** The concrete length of a buffer for a call with n elements in `channels` channels. */
export function sizeOf(size: Size, n: number, channels: number): number {
  const blocks = size.perBlock === undefined ? 0 : size.perBlock.count * Math.ceil(n / size.perBlock.blockSize);
  return (size.constant ?? 0) + (size.perElement ?? 0) * n + (size.perChannel ?? 0) * channels + blocks;
}
