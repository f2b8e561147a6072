import { describe, expect, it } from "vitest";
import type { FloatArray } from "../../src/runtime/tensor.ts";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { Rng } from "../../src/runtime/random.ts";

/** C = αAB + βC by the definition, in double. */
function naiveGemm(a: FloatArray, b: FloatArray, c: FloatArray, m: number, n: number, k: number,
  transA: boolean, transB: boolean, alpha: number, beta: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * n + j]);
    }
  }
  return out;
}

function fill<T extends FloatArray>(arr: T, rng: Rng): T {
  for (let i = 0; i < arr.length; i++) arr[i] = 2 * rng.uniform() - 1;
  return arr;
}

const shapes: Array<[number, number, number]> = [[1, 1, 1], [7, 13, 5], [64, 3, 129], [5, 70, 300], [67, 530, 9], [40, 530, 300]];
const backend = createReferenceBackend();

describe("reference GEMM agrees with a naive triple loop", () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const [m, n, k] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const [alpha, beta] of [[1, 0], [0.5, -1.25]]) {
            it(`${dtype} ${m}×${n}×${k} transA=${transA} transB=${transB} α=${alpha} β=${beta}`, () => {
              const rng = new Rng(m * 1000 + n * 10 + k);
              const Ctor = dtype === "float64" ? Float64Array : Float32Array;
              const a = fill(new Ctor(m * k), rng);
              const b = fill(new Ctor(k * n), rng);
              const c = fill(new Ctor(m * n), rng);
              const want = naiveGemm(a, b, c, m, n, k, transA, transB, alpha, beta);
              backend.gemm({ a, b, c, m, n, k, transA, transB, alpha, beta });
              // float64: the same sums in another order; float32: one rounding of a double result.
              const tol = dtype === "float64" ? 1e-12 * k : 1e-6 * k;
              let worst = 0;
              for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(c[i] - want[i]));
              expect(worst).toBeLessThan(tol);
            });
          }
        }
      }
    }
  }

  it("beta = 0 ignores NaN already in C; k = 0 scales C by beta", () => {
    const c = new Float64Array(4).fill(NaN);
    backend.gemm({ a: new Float64Array([1, 2]), b: new Float64Array([3, 4]), c, m: 2, n: 2, k: 1, transA: false, transB: false, alpha: 1, beta: 0 });
    expect(Array.from(c)).toEqual([3, 4, 6, 8]);
    const c2 = new Float32Array([1, 2, 3, 4]);
    backend.gemm({ a: new Float32Array(0), b: new Float32Array(0), c: c2, m: 2, n: 2, k: 0, transA: false, transB: false, alpha: 1, beta: 2 });
    expect(Array.from(c2)).toEqual([2, 4, 6, 8]);
  });

  it("rejects short operands and mixed dtypes with the operand named", () => {
    expect(() => backend.gemm({ a: new Float32Array(5), b: new Float32Array(6), c: new Float32Array(4), m: 2, n: 2, k: 3, transA: false, transB: false, alpha: 1, beta: 0 }))
      .toThrow(/A has 5 elements, needs 2×3/);
    const mixed = { a: new Float32Array(6), b: new Float64Array(6), c: new Float32Array(4), m: 2, n: 2, k: 3, transA: false, transB: false, alpha: 1, beta: 0 };
    expect(() => backend.gemm(mixed as never)).toThrow(/all be Float32Array or all Float64Array/);
  });

  it("accumulates beyond one depth block (k > 256) and one column block (n > 512)", () => {
    const rng = new Rng(7);
    const [m, n, k] = [9, 517, 601];
    const a = fill(new Float64Array(m * k), rng), b = fill(new Float64Array(k * n), rng), c = fill(new Float64Array(m * n), rng);
    const want = naiveGemm(a, b, c, m, n, k, false, true, 1, 1);
    backend.gemm({ a, b, c, m, n, k, transA: false, transB: true, alpha: 1, beta: 1 });
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(c[i] - want[i]));
    expect(worst).toBeLessThan(1e-11);
  });
});
