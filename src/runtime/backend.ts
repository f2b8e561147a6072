/**
 * The one door every matrix multiply of the runtime goes through. Backends (reference JS,
 * generated JS / WebAssembly / WebGPU kernels) implement it; ops never multiply matrices
 * themselves.
 */
import type { Accumulator } from "../dsl/semantics/accumulate.ts";
import type { GemmPass } from "./precision.ts";
import type { FloatArray } from "./tensor.ts";

/**
 * Row-major C = alpha·op(A)·op(B) + beta·C with op(A) m×k and op(B) k×n.
 * A is stored m×k (k×m when transA), B is stored k×n (n×k when transB), C is m×n;
 * all three are the same array type. beta = 0 means C is overwritten (its old contents,
 * even NaN, are ignored).
 */
export interface GemmParams<T extends FloatArray = FloatArray> {
  a: T;
  b: T;
  c: T;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  /** Which GEMM of a layer this is (ops name it, so a recipe's per-GEMM accumulator can be attached: backends/accumulators.ts). */
  pass?: GemmPass;
  /**
   * A declared accumulator (dsl/semantics/accumulate.ts): a float32 GEMM then gives exactly the
   * bits it defines on every backend (k ≤ 2^20); absent, the backend's own float32 accumulation.
   */
  accumulator?: Accumulator;
}

/**
 * `batch` GEMMs of one shape over consecutive blocks of the arrays: the g-th multiplies
 * a[g·m·k ..] by b[g·k·n ..] into c[g·m·n ..] (attention's per-(batch, head) products).
 */
export interface BatchedGemmParams<T extends FloatArray = FloatArray> extends GemmParams<T> {
  readonly batch: number;
}

/** A GEMM provider; `name` identifies it in results (e.g. "reference", "wasm-e4m3"). */
export interface Backend {
  readonly name: string;
  gemm<T extends FloatArray>(p: GemmParams<T>): void;
  /** Runs a batch in one go where that saves per-call costs (the webgpu backend: one GPU round trip), checking its arguments as checkBatchedGemm does; see gemmBatched. */
  gemmBatch?<T extends FloatArray>(p: BatchedGemmParams<T>): void;
}

/** Runs a batched GEMM: through the backend's gemmBatch where it has one (which checks its arguments), else one gemm per block. */
export function gemmBatched<T extends FloatArray>(backend: Backend, p: BatchedGemmParams<T>): void {
  if (backend.gemmBatch !== undefined) {
    backend.gemmBatch(p);
    return;
  }
  checkBatchedGemm(p);
  const { m, n, k } = p;
  for (let g = 0; g < p.batch; g++) {
    backend.gemm({ ...p, a: p.a.subarray(g * m * k) as T, b: p.b.subarray(g * k * n) as T, c: p.c.subarray(g * m * n) as T });
  }
}

/** Throws a RangeError when a batched GEMM's arrays are too short for `batch` blocks (and checkGemm's errors). */
export function checkBatchedGemm(p: BatchedGemmParams): void {
  if (!Number.isInteger(p.batch) || p.batch < 0) throw new RangeError(`gemm: batch = ${p.batch} is not a non-negative integer`);
  if (p.batch > 0) checkGemm(p);
  const { m, n, k, batch } = p;
  for (const [name, array, block] of [["A", p.a, m * k], ["B", p.b, k * n], ["C", p.c, m * n]] as const) {
    if (array.length < batch * block) throw new RangeError(`gemm: ${name} has ${array.length} elements, needs ${batch} blocks of ${block}`);
  }
}

/** Throws a RangeError naming the operand whose array is too short for the shape. */
export function checkGemm(p: GemmParams): void {
  const { m, n, k } = p;
  for (const [d, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`gemm: ${d} = ${v} is not a non-negative integer`);
  }
  if (p.a.length < m * k) throw new RangeError(`gemm: A has ${p.a.length} elements, needs ${m}×${k}`);
  if (p.b.length < k * n) throw new RangeError(`gemm: B has ${p.b.length} elements, needs ${k}×${n}`);
  if (p.c.length < m * n) throw new RangeError(`gemm: C has ${p.c.length} elements, needs ${m}×${n}`);
  const f64 = p.a instanceof Float64Array;
  if ((p.b instanceof Float64Array) !== f64 || (p.c instanceof Float64Array) !== f64) {
    throw new TypeError("gemm: A, B and C must all be Float32Array or all Float64Array");
  }
}
