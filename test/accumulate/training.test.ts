/**
 * Declared accumulators in training: every backend (reference, js, wasm) runs a float32 GEMM that
 * carries an accumulator bit for bit as dsl/semantics/accumulate.ts defines it, batched GEMMs too;
 * withAccumulators gives each GEMM of a layer (forward, input gradient, weight gradient, as the ops
 * name them) its own accumulator; a depth past 2^20 is refused; and a short compare run of
 * fp8-deepseek (acc14, promoted every 128) trains through the declared kernels.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { gemmAccumulate, type Accumulator } from "../../src/dsl/semantics/accumulate.ts";
import { gemmBatched, type Backend, type GemmParams } from "../../src/runtime/backend.ts";
import { withAccumulators } from "../../src/runtime/backends/accumulators.ts";
import { createJsBackend } from "../../src/runtime/backends/js.ts";
import { wasmKernelSource } from "../../src/runtime/backends/kernel-source.ts";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { createWasmBackend } from "../../src/runtime/backends/wasm.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { attention } from "../../src/runtime/ops/attention.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { sum } from "../../src/runtime/ops/elementwise.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { Tensor } from "../../src/runtime/tensor.ts";
import type { GemmPass } from "../../src/runtime/precision.ts";
import { builtin } from "../support/formats.ts";
import { ACC14, canonicalBits, describeProblem, problems } from "./support.ts";

const BACKENDS: Record<string, () => Backend> = { reference: () => createReferenceBackend(), js: () => createJsBackend() };
let wasm: Backend;
beforeAll(async () => {
  wasm = createWasmBackend(await wasmKernelSource());
});

const ACCUMULATORS: Accumulator[] = [
  { format: ACC14, promoteEvery: 4, compensated: false },
  { format: builtin("fp16"), promoteEvery: null, compensated: true },
  { format: builtin("fp32"), promoteEvery: null, compensated: false },
];

describe("backends run declared accumulators bit for bit", () => {
  const all = () => ({ ...Object.fromEntries(Object.entries(BACKENDS).map(([k, f]) => [k, f()])), wasm });
  it("gemm: reference, js and wasm = the semantics", () => {
    for (const [name, backend] of Object.entries(all())) {
      for (const accumulator of ACCUMULATORS) {
        for (const p of [...problems(5, "spread"), ...problems(6, "bf16")]) {
          const c = p.c.slice();
          backend.gemm({ ...p, c, accumulator });
          expect(canonicalBits(c), `${name} ${accumulator.format.name} ${describeProblem(p)}`).toEqual(canonicalBits(gemmAccumulate(accumulator, p)));
        }
      }
    }
  });

  it("batched GEMMs through withAccumulators: each block = the semantics of its pass's accumulator", () => {
    const accumulator = ACCUMULATORS[0];
    const [m, n, k, batch] = [3, 4, 9, 3];
    const p = problems(7, "spread").find((q) => q.k >= k)!;
    const a = p.a.subarray(0, batch * m * k);
    const b = Float32Array.from({ length: batch * k * n }, (_, i) => p.b[i % p.b.length] * 1.5);
    for (const [name, backend] of Object.entries(all())) {
      const c = new Float32Array(batch * m * n);
      gemmBatched(withAccumulators(backend, { inputGradient: accumulator }), { a, b, c, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, batch, pass: "inputGradient" });
      for (let g = 0; g < batch; g++) {
        const want = gemmAccumulate(accumulator, { a: a.subarray(g * m * k), b: b.subarray(g * k * n), c: new Float32Array(m * n), m, n, k, transA: false, transB: false, alpha: 1, beta: 0 });
        expect(canonicalBits(c.subarray(g * m * n, (g + 1) * m * n)), `${name} block ${g}`).toEqual(canonicalBits(want));
      }
    }
  });

  it("refuses a depth past 2^20 products under a declared accumulator", () => {
    const k = 2 ** 20 + 1;
    const p: GemmParams = { a: new Float32Array(k), b: new Float32Array(k), c: new Float32Array(1), m: 1, n: 1, k, transA: false, transB: false, alpha: 1, beta: 0, accumulator: ACCUMULATORS[0] };
    for (const backend of [createJsBackend(), createReferenceBackend(), wasm]) expect(() => backend.gemm(p)).toThrow(/declared accumulator sums at most 2\^20 products per output.*got k = 1048577/);
  });
});

describe("withAccumulators: each GEMM of a layer gets its pass's accumulator", () => {
  /** A js backend that records the accumulator format (or "default") each GEMM of each pass ran with. */
  function spy(): { backend: Backend; seen: Map<string, Set<string>> } {
    const inner = createJsBackend();
    const seen = new Map<string, Set<string>>();
    const note = (p: GemmParams) => {
      const key = p.pass ?? "unnamed";
      if (!seen.has(key)) seen.set(key, new Set());
      seen.get(key)!.add(p.accumulator?.format.name ?? "default");
    };
    return { seen, backend: { name: "spy", gemm: (p) => (note(p), inner.gemm(p)) } };
  }
  const declared: { [P in GemmPass]: Accumulator } = {
    forward: { format: builtin("bf16"), promoteEvery: null, compensated: false },
    inputGradient: { format: builtin("fp16"), promoteEvery: null, compensated: true },
    weightGradient: { format: ACC14, promoteEvery: 128, compensated: false },
  };
  const expected = new Map([["forward", new Set(["bf16"])], ["inputGradient", new Set(["fp16"])], ["weightGradient", new Set(["acc14"])]]);
  const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.5);

  it("linear, conv2d and attention name every GEMM's pass", () => {
    const cases: [string, (ctx: ReturnType<typeof trainContext>) => Tensor][] = [
      ["linear", (ctx) => linear(ctx, new Tensor([4, 6], values(24, 1), true), new Tensor([5, 6], values(30, 2), true), null, "fc")],
      ["conv2d", (ctx) => conv2d(ctx, new Tensor([1, 2, 4, 4], values(32, 3), true), new Tensor([3, 2, 3, 3], values(54, 4), true), null, "conv", { padding: 1 })],
      ["attention", (ctx) => attention(ctx, new Tensor([1, 3, 4], values(12, 5), true), new Tensor([1, 3, 4], values(12, 6), true), new Tensor([1, 3, 4], values(12, 7), true), { heads: 2, site: "attn" })],
    ];
    for (const [name, run] of cases) {
      const { backend, seen } = spy();
      const ctx = trainContext(withAccumulators(backend, declared));
      ctx.tape.backward(sum(ctx, run(ctx)));
      expect(seen, name).toEqual(expected);
    }
  });

  it("a layer's forward output is the semantics of the forward accumulator; no declaration leaves the backend as it was", () => {
    const x = values(4 * 40, 8).map((v, i) => v * 2 ** ((i % 13) - 6));
    const w = values(3 * 40, 9);
    const ctx = trainContext(withAccumulators(createJsBackend(), declared));
    const y = linear(ctx, new Tensor([4, 40], x), new Tensor([3, 40], w), null, "fc");
    const want = gemmAccumulate(declared.forward, { a: x, b: w, c: new Float32Array(12), m: 4, n: 3, k: 40, transA: false, transB: true, alpha: 1, beta: 0 });
    expect(canonicalBits(y.data as Float32Array)).toEqual(canonicalBits(want));
    const plain = createJsBackend();
    expect(withAccumulators(plain, {})).toBe(plain);
  });
});
