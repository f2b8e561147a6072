/**
 * Declared accumulators on the WGSL GEMM (a real WebGPU device: Mesa lavapipe in CI): every
 * accumulator format × {plain, Kahan} × {no promotion, every 4 products} gives bit for bit what
 * dsl/semantics/accumulate.ts defines — the shader's zero-padded depth steps are not summed,
 * so a sum that rounded to −0 stays −0 — and the default GEMM is unchanged by the option.
 */
import { describe, expect, it } from "vitest";
import { gemmAccumulate, type Accumulator } from "../../src/dsl/semantics/accumulate.ts";
import { compileWgslGemm, type CompiledWgslGemm } from "../../src/targets/wgsl/gemm.ts";
import { wgslGemmCall } from "../../src/targets/wgsl/gemm-run.ts";
import { runWgslCalls } from "../../src/targets/wgsl/runner.ts";
import { useWgslDevice } from "../targets/wgsl/gpu.ts";
import { accumulatorLabel, accumulators, canonicalBits, describeProblem, problems, type Problem } from "./support.ts";

const device = useWgslDevice();
const PROBLEMS = [...problems(1, "spread"), ...problems(2, "bf16")];

async function runAll(gemm: CompiledWgslGemm, list: readonly Problem[]): Promise<Float32Array[]> {
  const outputs = list.map((p) => p.c.slice());
  const calls = list.map((p, i) => {
    const args: Record<string, unknown> = { a: p.a, b: p.b, c: outputs[i], m: p.m, n: p.n, k: p.k, transA: +p.transA, transB: +p.transB, alpha: p.alpha, beta: p.beta };
    return wgslGemmCall(gemm, gemm.params.map((param) => args[param.name] as never));
  });
  await runWgslCalls(await device(), calls);
  return outputs;
}

describe("declared accumulators on WGSL: = semantics bit for bit", () => {
  for (const acc of accumulators()) {
    it(accumulatorLabel(acc), async () => {
      const gemm = compileWgslGemm({ a: "f32", b: "f32", accumulator: acc });
      expect(gemm.gemm.maxK).toBe(2 ** 20);
      const got = await runAll(gemm, PROBLEMS);
      PROBLEMS.forEach((p, i) => expect(canonicalBits(got[i]), `${describeProblem(p)}`).toEqual(canonicalBits(gemmAccumulate(acc, p))));
    });
  }

  it("a bf16 accumulator that rounds to −0 keeps it through the shader's zero-padded depth", async () => {
    const acc: Accumulator = { format: accumulators()[4].format, compensated: false, promoteEvery: null };
    // −2^−140·1: below bf16's smallest subnormal 2^−133's half, so the sum rounds to −0; k = 1 pads 15 zero steps.
    const p: Problem = { m: 1, n: 1, k: 1, transA: false, transB: false, alpha: 1, beta: 0, a: Float32Array.of(-(2 ** -140)), b: Float32Array.of(1), c: Float32Array.of(Number.NaN) };
    const [c] = await runAll(compileWgslGemm({ a: "f32", b: "f32", accumulator: acc }), [p]);
    expect(Object.is(c[0], -0)).toBe(true);
    expect(Object.is(gemmAccumulate(acc, p)[0], -0)).toBe(true);
  });
});
