/**
 * Types of run-plan.js: the plan data (the one definition; numforge's src/codegen/plan.ts
 * re-exports it, and kernel packages ship this file without numforge) and the runner.
 */

export type StorageType = "f32" | "i32" | "u32" | "u16" | "u8" | "i8";

/** constant + perElement·n + perChannel·channels + perBlock.count·⌈n / perBlock.blockSize⌉ + perTile.count·tiles (see sizeOf). */
export interface Size {
  readonly constant?: number;
  readonly perElement?: number;
  readonly perChannel?: number;
  /** Consecutive runs of blockSize elements of the flat tensor. */
  readonly perBlock?: { readonly blockSize: number; readonly count: number };
  /** Tiles of the rows × cols matrix: fixed [r, c], or a 1-D block of that many along the call's block axis. */
  readonly perTile?: { readonly tile: number | readonly [number, number]; readonly count: number };
}

export type BufferRole = "input" | "output" | "meta" | "state" | "scratch";

export interface BufferDecl {
  readonly name: string;
  readonly storage: StorageType;
  readonly length: Size;
  readonly role: BufferRole;
}

export type StepArg =
  | { readonly buffer: string }
  | { readonly scalar: "n" | "channels" | "seed" | "channelLength" | "blockAxis" }
  | { readonly constant: number };

export interface Step {
  readonly kernel: string;
  /** The kernel's parameter names in order. */
  readonly params: readonly string[];
  readonly args: Readonly<Record<string, StepArg>>;
  /**
   * The step's elements are not laid out as its scalars say (a plan over a transposed layout, such
   * as fakeQuantizeColumns), so a threaded runner must not cut it by rows: it runs on one thread.
   */
  readonly oneThread?: true;
}

export interface OpPlan {
  readonly buffers: readonly BufferDecl[];
  readonly steps: readonly Step[];
}

export type BufferArray = Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array;

/** A compiled kernel: typed arrays and numbers, positionally, in its parameter order. */
export type PlanKernel = (...args: (BufferArray | number)[]) => void;

export interface RunCall {
  /** Element count (default: the length of the input sized one per element). */
  readonly n?: number;
  /** Leading-axis channels for per-channel scalings (default 1); must divide n. */
  readonly channels?: number;
  /** Stochastic-rounding seed, a u32 (default 0). */
  readonly seed?: number;
  /** The axis 1-D scale blocks run along: 1 (within a row, default) or 0 (down a column). */
  readonly blockAxis?: 0 | 1;
}

export interface RunResult {
  /** The "output" buffers (codes or values), by name. */
  readonly outputs: Record<string, BufferArray>;
  /** The "meta" buffers, by name: pass them to the decode plan. */
  readonly meta: Record<string, BufferArray>;
  /** The "state" buffers, by name: pass them to the next call. */
  readonly state: Record<string, BufferArray>;
}

/** The length of a buffer of this size for a call. */
export function sizeOf(size: Size, n: number, channels: number, blockAxis?: 0 | 1): number;

/** A zeroed typed array of the storage type. */
export function allocate(storage: StorageType, length: number): BufferArray;

/** A host argument as a kernel buffer: the array itself when `exact`, else a converted copy. */
export interface StagedArray {
  readonly staged: BufferArray;
  readonly exact: boolean;
}

/** A host argument as a kernel buffer of a storage type: itself when a typed array of that width, else a converted copy. */
export function stageArray(storage: StorageType, array: ArrayLike<number>): StagedArray;

/** Copies a staged copy back into the host array it was staged from (nothing when exact). */
export function unstageArray(array: { readonly length: number; [k: number]: number }, stage: StagedArray): void;

/** The scalars a plan's steps may pass: the element count, channels, the seed and n / channels. */
export interface CallScalars {
  readonly n: number;
  readonly channels: number;
  readonly seed: number;
  readonly channelLength: number;
  readonly blockAxis: 0 | 1;
}

/** One buffer of a plan resolved for a call (see resolveCall in run-plan.js). */
export interface ResolvedBuffer {
  readonly decl: BufferDecl;
  readonly length: number;
  /** "bind": the kernels use `given` itself; "copy": a fresh copy of `given`; "zero": zeroed memory. */
  readonly init: "bind" | "copy" | "zero";
  readonly given: BufferArray | undefined;
  /** A given output: the caller's array the result is written to. */
  readonly into: BufferArray | undefined;
  /** `into` shares memory with another binding: the kernels write elsewhere, copied into it last. */
  readonly aliased: boolean;
}

export interface ResolvedCall {
  readonly scalars: CallScalars;
  /** In the plan's buffer order. */
  readonly buffers: readonly ResolvedBuffer[];
}

/** Checks a call and resolves every buffer of the plan: the rules every plan runner shares. */
export function resolveCall(plan: OpPlan, bindings: Readonly<Record<string, BufferArray>>, call?: RunCall): ResolvedCall;

/** A step's positional arguments: `buffer(name)` for buffer parameters, scalars and constants for the rest. */
export function stepArguments<T>(step: Step, buffer: (name: string) => T | undefined, scalars: CallScalars): (T | number)[];

/** The outputs, meta and state of a plan, by name, from its buffers. */
export function resultOf(plan: OpPlan, buffers: Readonly<Record<string, BufferArray>>): RunResult;

/**
 * Runs the plan's steps with `kernels` on the given buffers (see run-plan.js). Bindings: every
 * input; meta and state where the caller has them; outputs to be overwritten (they may be the
 * arrays bound as inputs: the result is as with fresh outputs), else they are allocated.
 */
export function runPlan(
  plan: OpPlan,
  kernels: Readonly<Record<string, PlanKernel>>,
  bindings: Readonly<Record<string, BufferArray>>,
  call?: RunCall,
): RunResult;
