/** Types of wasm-runtime.js (shipped in kernel packages, used by numforge's wasm target). */
import type { BufferArray, OpPlan, RunCall, RunResult } from "./run-plan.js";

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

export declare class WasmHeap {
  constructor(memory: WebAssembly.Memory, base: number);
  readonly memory: WebAssembly.Memory;
  readonly base: number;
  mark(): number;
  release(mark: number): void;
  alloc(bytes: number): number;
  ensure(end: number): void;
  write(offset: number, array: ArrayBufferView): void;
  read(offset: number, array: ArrayBufferView): void;
  copyIn(array: ArrayBufferView): number;
  /** Sets `bytes` bytes at `offset` to zero. */
  clear(offset: number, bytes: number): void;
}

export declare function createMemory(minPages: number): WebAssembly.Memory;

export interface KernelSignature {
  readonly name: string;
  readonly params: readonly (
    | { readonly kind: "buffer"; readonly name: string; readonly storage: string; readonly access: string }
    | { readonly kind: "scalar"; readonly name: string; readonly type: string }
  )[];
}

export type CopyingKernel = (...args: (ArrayLike<number> | number)[]) => void;
export type RawKernel = (...args: number[]) => void;

export declare function copyingKernel(name: string, params: KernelSignature["params"], raw: RawKernel, heap: WasmHeap): CopyingKernel;

/**
 * run-plan.js's runPlan with every buffer resident in `heap` for the whole plan: bound arrays copied
 * in once, the raw exports called on offsets, outputs / meta / state copied out (outputs into the
 * caller's arrays where given). Same bindings, checks and results as runPlan, bit for bit.
 * `placed` names bound buffers already in the heap (buffer name → byte offset): used where they lie,
 * never copied.
 */
export declare function residentPlanRunner(
  signatures: readonly KernelSignature[],
  raw: Readonly<Record<string, RawKernel>>,
  heap: WasmHeap,
  runStep?: (
    entry: { readonly step: unknown; readonly kernel: RawKernel; readonly signature: KernelSignature["params"] },
    args: number[],
    scalars: Readonly<Record<string, number>>,
    offsets: ReadonlyMap<string, number>,
    buffers: ReadonlyMap<string, unknown>,
  ) => void,
): (plan: OpPlan, bindings: Readonly<Record<string, BufferArray>>, call?: RunCall, placed?: ReadonlyMap<string, number>) => RunResult;

export declare function instantiateWasm(compiled: { readonly wasm: BufferSource; readonly kernels: readonly KernelSignature[]; readonly minPages: number }): {
  readonly kernels: Readonly<Record<string, CopyingKernel>>;
  readonly raw: Readonly<Record<string, RawKernel>>;
  readonly heap: WasmHeap;
};

export declare function instantiateOn(module: WebAssembly.Module, memory: WebAssembly.Memory, signatures: readonly KernelSignature[]): {
  readonly kernels: Readonly<Record<string, CopyingKernel>>;
  readonly raw: Readonly<Record<string, RawKernel>>;
  readonly heap: WasmHeap;
};
