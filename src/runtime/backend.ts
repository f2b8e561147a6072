/**
 * The one door every matrix multiply of the runtime goes through. Backends (reference JS,
 * generated JS / WebAssembly / WebGPU kernels) implement it; ops never multiply matrices
 * themselves.
 */
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
}

/** A GEMM provider; `name` identifies it in results (e.g. "reference", "wasm-e4m3"). */
export interface Backend {
  readonly name: string;
  gemm<T extends FloatArray>(p: GemmParams<T>): void;
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
