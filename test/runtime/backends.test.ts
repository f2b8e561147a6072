import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gemmBatched, type Backend } from "../../src/runtime/backend.ts";
import { createJsBackend, type KernelBackend } from "../../src/runtime/backends/js.ts";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { createBackend, defaultBackendName, engineHasWasmSimd } from "../../src/runtime/backends/select.ts";
import { Rng } from "../../src/runtime/random.ts";

const reference = createReferenceBackend();
const shapes: Array<[number, number, number]> = [[1, 1, 1], [7, 13, 5], [64, 3, 129], [5, 70, 300], [67, 530, 9], [33, 65, 257], [130, 17, 600]];

function filled(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng.uniform() - 1;
  return a;
}

/** max over C of |C − C_ref| / (γ_{k+2}·(|α|Σ|a||b| + |β||c|)): ≤ 2 passes (both are within γ of exact). */
function worstRatio(backend: Backend, m: number, n: number, k: number, transA: boolean, transB: boolean, alpha: number, beta: number): number {
  const rng = new Rng(m * 7919 + n * 31 + k);
  const a = filled(m * k, rng);
  const b = filled(k * n, rng);
  const c0 = filled(m * n, rng);
  const c = c0.slice();
  const want = c0.slice();
  backend.gemm({ a, b, c, m, n, k, transA, transB, alpha, beta });
  reference.gemm({ a, b, c: want, m, n, k, transA, transB, alpha, beta });
  const u = 2 ** -24;
  const gamma = ((k + 2) * u) / (1 - (k + 2) * u);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += Math.abs((transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]));
      const bound = gamma * (Math.abs(alpha) * s + Math.abs(beta * c0[i * n + j])) + 2 ** -140;
      worst = Math.max(worst, Math.abs(c[i * n + j] - want[i * n + j]) / bound);
    }
  }
  return worst;
}

const backends: Record<string, KernelBackend> = {};

beforeAll(async () => {
  backends.js = createJsBackend();
  if (engineHasWasmSimd()) backends.wasm = await createBackend("wasm");
  // The test setup installs lavapipe (scripts/setup-webgpu.sh), so a WebGPU adapter exists in CI.
  backends.webgpu = await createBackend("webgpu");
}, 120_000);

afterAll(async () => {
  await backends.webgpu?.close?.();
});

describe("kernel backends agree with the reference backend within the f32 bound", () => {
  for (const name of ["js", "wasm", "webgpu"]) {
    it(`${name}: odd shapes, all transposes, α/β`, () => {
      const backend = backends[name];
      if (backend === undefined) return; // no SIMD here: the wasm backend is not the default either
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [alpha, beta] of [[1, 0], [0.5, -1.25]]) {
              expect(worstRatio(backend, m, n, k, transA, transB, alpha, beta), `${m}×${n}×${k} tA=${transA} tB=${transB} α=${alpha} β=${beta}`).toBeLessThanOrEqual(2);
            }
          }
        }
      }
    });

    it(`${name}: beta = 0 ignores NaN in C, operands longer than needed, float64 goes to the reference`, () => {
      const backend = backends[name];
      if (backend === undefined) return;
      const c = new Float32Array(4).fill(NaN);
      backend.gemm({ a: new Float32Array([1, 2, 99]), b: new Float32Array([3, 4, 99]), c, m: 2, n: 2, k: 1, transA: false, transB: false, alpha: 1, beta: 0 });
      expect(Array.from(c)).toEqual([3, 4, 6, 8]);
      const c64 = new Float64Array(1);
      backend.gemm({ a: Float64Array.of(1 / 3), b: Float64Array.of(3), c: c64, m: 1, n: 1, k: 1, transA: false, transB: false, alpha: 1, beta: 0 });
      expect(c64[0]).toBe((1 / 3) * 3);
      const empty = Float32Array.of(2, 3);
      backend.gemm({ a: new Float32Array(0), b: new Float32Array(0), c: empty, m: 1, n: 2, k: 0, transA: false, transB: false, alpha: 1, beta: 0.5 });
      expect(Array.from(empty), "k = 0: C = βC").toEqual([1, 1.5]);
      expect(() => backend.gemm({ a: new Float32Array(1), b: new Float32Array(1), c: new Float32Array(1), m: 2, n: 1, k: 1, transA: false, transB: false, alpha: 1, beta: 0 })).toThrow(/A has 1 elements/);
    });
  }

  for (const name of ["js", "wasm", "webgpu"]) {
    it(`${name}: a batched GEMM gives each block the bits of its own GEMM; batch 0 does nothing; short arrays are refused`, () => {
      const backend = backends[name];
      if (backend === undefined) return;
      const rng = new Rng(11);
      for (const [m, n, k, batch, transA, transB, beta] of [[5, 7, 3, 6, false, true, 0], [16, 4, 9, 3, true, false, 0.5], [1, 1, 1, 1, false, false, 0]] as const) {
        const a = filled(batch * m * k, rng);
        const b = filled(batch * k * n, rng);
        const c0 = filled(batch * m * n, rng);
        const batched = c0.slice();
        gemmBatched(backend, { a, b, c: batched, m, n, k, transA, transB, alpha: 0.75, beta, batch });
        for (let g = 0; g < batch; g++) {
          const one = c0.slice(g * m * n, (g + 1) * m * n);
          backend.gemm({ a: a.subarray(g * m * k), b: b.subarray(g * k * n), c: one, m, n, k, transA, transB, alpha: 0.75, beta });
          expect(batched.subarray(g * m * n, (g + 1) * m * n), `${m}×${n}×${k} block ${g}`).toEqual(one);
        }
      }
      const untouched = Float32Array.of(1, 2);
      gemmBatched(backend, { a: new Float32Array(0), b: new Float32Array(0), c: untouched, m: 1, n: 2, k: 3, transA: false, transB: false, alpha: 1, beta: 0, batch: 0 });
      expect(Array.from(untouched)).toEqual([1, 2]);
      expect(() => gemmBatched(backend, { a: new Float32Array(6), b: new Float32Array(7), c: new Float32Array(4), m: 1, n: 2, k: 3, transA: false, transB: false, alpha: 1, beta: 0, batch: 2 })).toThrow(
        /B has 7 elements, needs 2 blocks of 6/,
      );
    });
  }

  it("the wasm backend reuses its scratch across shapes (small after large and large after small)", () => {
    const backend = backends.wasm;
    if (backend === undefined) return;
    for (const [m, n, k] of [[3, 4, 5], [200, 600, 300], [3, 4, 5], [70, 70, 70]] as const) {
      expect(worstRatio(backend, m, n, k, false, true, 1, 0)).toBeLessThanOrEqual(2);
    }
  });

  it("webgpu: a closed backend refuses GEMMs with a message instead of blocking", async () => {
    const backend = await createBackend("webgpu");
    await backend.close?.();
    expect(() => backend.gemm({ a: Float32Array.of(1), b: Float32Array.of(1), c: new Float32Array(1), m: 1, n: 1, k: 1, transA: false, transB: false, alpha: 1, beta: 0 })).toThrow(
      /webgpu backend: the GPU thread (has )?stopped/,
    );
  }, 60_000);

  it("the default is wasm exactly when WebAssembly SIMD validates", () => {
    expect(defaultBackendName()).toBe(engineHasWasmSimd() ? "wasm" : "js");
  });
});
