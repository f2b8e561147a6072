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

/**
 * A copy of an array kept in the kernels' memory (resident): encode, decode and fakeQuantize take
 * it in place of their float32 or code arrays, input or output, and use it where it lies — no copy
 * in or out for it (an input and an output must be different arrays).
 */
export declare class Resident<T extends Float32Array | CodeArray> {
  private constructor();
  readonly length: number;
  /** The contents, copied into `out` (or a new array). */
  read(out?: T): T;
  /** Copies `array` (same type and length) in. */
  write(array: T): void;
  /** Frees its memory; calls refuse the handle afterwards. */
  release(): void;
}

type Float32Input = Float32Array | Resident<Float32Array>;
type CodeInput = CodeArray | Resident<CodeArray>;

/** The codes land in `out` when given (a resident array stays where it is), else in a new array. */
export declare function encode(x: Float32Input, out?: CodeArray, options?: CallOptions): { codes: CodeArray; meta: Meta; state: State };
export declare function encode(x: Float32Input, out: Resident<CodeArray>, options?: CallOptions): { codes: Resident<CodeArray>; meta: Meta; state: State };
export declare function decode(codes: CodeInput, meta?: Meta, out?: Float32Array): Float32Array;
export declare function decode(codes: CodeInput, meta: Meta | undefined, out: Resident<Float32Array>): Resident<Float32Array>;
export declare function fakeQuantize(x: Float32Input, out?: Float32Array, state?: State, options?: Omit<CallOptions, "state">): { values: Float32Array; meta: Meta; state: State };
export declare function fakeQuantize(x: Float32Input, out: Resident<Float32Array>, state?: State, options?: Omit<CallOptions, "state">): { values: Resident<Float32Array>; meta: Meta; state: State };

/** A resident copy of `array` (float32 values or this format's codes) in these kernels' memory. */
export declare function resident<T extends Float32Array | CodeArray>(array: T): Resident<T>;

/** B kept in the kernels' memory for many gemm calls (prepareB); pass it as gemm's `b`. */
export declare class PreparedB {
  private constructor();
  readonly k: number;
  readonly n: number;
  readonly transB: boolean;
  /** Frees the memory holding B; gemm refuses the handle afterwards. */
  release(): void;
}

export interface PrepareBOptions {
  /** The rows of op(B) (the GEMM's depth). */
  readonly k: number;
  /** The columns of op(B). */
  readonly n: number;
  /** B is stored n×k and used transposed (default false); gemm calls with this handle use the same. */
  readonly transB?: boolean;
  /** The metadata encode returned, for codes of a scaled format. */
  readonly meta?: Meta;
}

export interface GemmParams {
  readonly a: Float32Array | CodeArray;
  /** B, or a handle from prepareB (then leave metaB out, and transB out or the same as prepared). */
  readonly b: Float32Array | CodeArray | PreparedB;
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

/**
 * Keeps B in the kernels' memory (a snapshot of `b` now; codes of a scaled format decoded once) so
 * that gemm calls with the handle copy only A and C: for a weight matrix multiplied many times.
 */
export declare function prepareB(b: Float32Array | CodeArray, options: PrepareBOptions): PreparedB;

/** The package's functions on some number of threads. */
export interface Kernels {
  readonly encode: typeof encode;
  readonly decode: typeof decode;
  readonly fakeQuantize: typeof fakeQuantize;
  readonly gemm: typeof gemm;
  readonly prepareB: typeof prepareB;
  /** Resident arrays of these kernels (another kernels object refuses them). */
  readonly resident: typeof resident;
  readonly target: "wasm" | "js";
  /** How many threads run the kernels. */
  readonly threads: number;
  /** Why it is one thread where more were asked (no shared memory: a page that is not cross-origin isolated; the js target), else null. */
  readonly note: string | null;
  /** How many calls so far ran on more than one thread (calls too small to split stay on one). */
  splitCalls(): number;
  /** Stops the worker threads; the functions may not be called afterwards. */
  close(): Promise<void>;
}

export interface CreateKernelsOptions {
  /** Threads to run on, this one included (default 1): wasm kernels on one shared memory, in workers. */
  readonly threads?: number;
}

/**
 * The same API on several threads (asynchronous to start, synchronous to call): worker_threads in
 * Node, Web Workers in a cross-origin-isolated page; results are bit-identical to one thread.
 */
export declare function createKernels(options?: CreateKernelsOptions): Promise<Kernels>;
