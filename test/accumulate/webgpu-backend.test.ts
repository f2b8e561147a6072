/**
 * The webgpu backend runs a GEMM that carries a declared accumulator with the WGSL GEMM for that
 * accumulator on its GPU thread (Mesa lavapipe here and in CI): single and batched GEMMs give the
 * bits dsl/semantics/accumulate.ts defines, and a plain GEMM on the same backend is unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gemmAccumulate, type Accumulator } from "../../src/dsl/semantics/accumulate.ts";
import { jsKernelSource } from "../../src/runtime/backends/kernel-source.ts";
import { createWebGpuBackend } from "../../src/runtime/backends/webgpu.ts";
import { builtin } from "../support/formats.ts";
import { ACC14, canonicalBits, describeProblem, problems } from "./support.ts";

let gpu: Awaited<ReturnType<typeof createWebGpuBackend>>;
beforeAll(async () => {
  gpu = await createWebGpuBackend(jsKernelSource());
}, 120_000);
afterAll(async () => {
  await gpu?.close?.();
});

const ACCUMULATORS: Accumulator[] = [
  { format: ACC14, promoteEvery: 4, compensated: false },
  { format: builtin("bf16"), promoteEvery: null, compensated: true },
];

describe("webgpu backend: declared accumulators on the GPU thread", () => {
  it("single and batched GEMMs = the semantics", () => {
    for (const accumulator of ACCUMULATORS) {
      for (const p of problems(3, "spread")) {
        const c = p.c.slice();
        gpu.gemm({ ...p, c, accumulator });
        expect(canonicalBits(c), `${accumulator.format.name} ${describeProblem(p)}`).toEqual(canonicalBits(gemmAccumulate(accumulator, p)));
      }
      const p = problems(4, "bf16")[8];
      const batch = 2;
      const c = new Float32Array(batch * p.m * p.n);
      gpu.gemmBatch!({ ...p, a: Float32Array.from([...p.a, ...p.a.map((v) => -v)]), b: Float32Array.from([...p.b, ...p.b]), c, beta: 0, batch, accumulator });
      const first = gemmAccumulate(accumulator, { ...p, beta: 0 });
      const second = gemmAccumulate(accumulator, { ...p, a: p.a.map((v) => -v), beta: 0 });
      expect(canonicalBits(c)).toEqual(canonicalBits(Float32Array.from([...first, ...second])));
    }
  });

  it("a GEMM without an accumulator still runs the plain f32 GEMM after declared ones (same bits as before them)", () => {
    const p = problems(5, "spread")[10];
    const run = (accumulator?: Accumulator) => {
      const c = p.c.slice();
      gpu.gemm({ ...p, c, ...(accumulator !== undefined ? { accumulator } : {}) });
      return canonicalBits(c);
    };
    const before = run();
    const declared = run(ACCUMULATORS[0]);
    expect(run()).toEqual(before);
    expect(declared).not.toEqual(before);
  });
});
