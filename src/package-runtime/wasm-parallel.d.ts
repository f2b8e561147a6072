/** Types of wasm-parallel.js (shipped in kernel packages, used by numforge's runtime). */
import type { KernelSignature, RawKernel, WasmHeap } from "./wasm-runtime.js";
import type { ThreadPool } from "./wasm-threads.js";

export interface GemmScratch {
  readonly name: string;
  readonly storage?: string;
  readonly needed: string;
  readonly factors: readonly { readonly dim: "m" | "n" | "k"; readonly multiple: number; readonly block: number | null }[];
}

export interface GemmVariantData {
  readonly kernel: string;
  readonly params: readonly string[];
  readonly scratch: readonly GemmScratch[];
  readonly kc: number;
}

/** Operands as byte offsets in the heap. */
export interface ResidentGemm {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  /** Bytes per element of A (4 for float32, the code width otherwise). */
  readonly aBytes: number;
  /** Bytes per element of B; left out, a GEMM with too few rows of C to split stays on one thread (no split by columns). */
  readonly bBytes?: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: 0 | 1;
  readonly transB: 0 | 1;
  readonly alpha: number;
  readonly beta: number;
  readonly extra?: Readonly<Record<string, number>>;
}

export declare function scratchLength(buffer: GemmScratch, shape: { m: number; n: number; k: number }, kc: number): number;
export declare function gemmRunner(env: { heap: WasmHeap; raw: Readonly<Record<string, RawKernel>>; pool?: ThreadPool }): (variant: GemmVariantData, g: ResidentGemm) => void;
export declare function parallelStepRunner(env: { pool: ThreadPool; stochastic: boolean }): NonNullable<Parameters<typeof import("./wasm-runtime.js").residentPlanRunner>[3]>;
export type { KernelSignature };
