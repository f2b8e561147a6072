/**
 * L1 batch and layer normalization: the definition on a small example and agreement with
 * batchNorm / layerNorm on Gaussian data (their gradient checks are in ops-grad.test.ts, beside
 * the standard normalizations').
 *
 * Tolerance on Gaussian data: both ops compute (x − μ)/scale with the same μ, so per normalized
 * group y_L1 − β = r·(y − β) with r = σ̂/ŝ, σ̂ the sample standard deviation and ŝ = √(π/2)·mean|x − μ|.
 * For m standard normal samples, to first order σ̂ − 1 = (mean(x²) − 1)/2 and
 * ŝ − 1 = √(π/2)·(mean|x| − √(2/π)), so Var(r − 1) = Var(√(π/2)|x| − x²/2)/m
 * = ((π/2 − 1) + 1/2 − √(π/2)·√(2/π))/m = (π − 3)/(2m) (Var|x| = 1 − 2/π, Var x² = 2,
 * Cov(|x|, x²) = √(2/π)). The tests allow 6 standard deviations, 6·√((π − 3)/(2m)), plus 10^−4
 * for ε (added to the scale here, to the variance there); uniform data, whose σ/ŝ is
 * (1/√3)/(√(π/2)/2) ≈ 0.92, must fall outside the same tolerance.
 */
import { describe, expect, it } from "vitest";
import { trainContext, evalContext } from "../../src/runtime/context.ts";
import { batchNorm, batchNormState } from "../../src/runtime/ops/batchnorm.ts";
import { L1_SCALE, l1BatchNorm, l1LayerNorm } from "../../src/runtime/ops/l1norm.ts";
import { layerNorm } from "../../src/runtime/ops/layernorm.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { identityPrecision } from "../../src/runtime/precision.ts";
import { Rng } from "../../src/runtime/random.ts";
import { parameter, Tensor } from "../../src/runtime/tensor.ts";
import { backend } from "./gradcheck.ts";

const tolerance = (m: number) => 6 * Math.sqrt((Math.PI - 3) / (2 * m)) + 1e-4;

describe("L1 normalization: the definition", () => {
  it("divides by √(π/2)·mean|x − μ| + ε, per channel (batch) and per row (layer)", () => {
    // One channel of [1, 2, 3, 6] (N = 4): μ = 3, mean|x − μ| = (2 + 1 + 0 + 3)/4 = 1.5.
    const x = new Tensor([4, 1], Float64Array.of(1, 2, 3, 6));
    const one = (v: number) => parameter("p", [1], Float64Array.of(v));
    const eps = 1e-5;
    const st = batchNormState(1, 0.5, eps);
    const y = l1BatchNorm(trainContext(backend, identityPrecision), x, one(2), one(0.5), st);
    const s = L1_SCALE * 1.5 + eps;
    const close = (got: ArrayLike<number>, want: number[]) => want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
    close(y.data, [1, 2, 3, 6].map((v) => (2 * (v - 3)) / s + 0.5));
    // Running averages with momentum 0.5: mean 3/2, variance (1 + s²·4/3)/2 with s the L1 scale.
    expect(st.runningMean[0]).toBe(1.5);
    expect(st.runningVar[0]).toBeCloseTo((1 + (L1_SCALE * 1.5) ** 2 * (4 / 3)) / 2, 12);
    const rows = new Tensor([1, 4], Float64Array.of(1, 2, 3, 6));
    const gamma = parameter("g", [4], Float64Array.of(1, 2, 3, 4));
    const beta = parameter("b", [4], new Float64Array(4));
    const yl = l1LayerNorm(trainContext(backend, identityPrecision), rows, gamma, beta, eps);
    close(yl.data, [1, 2, 3, 6].map((v, j) => ((v - 3) / s) * (j + 1)));
  });
});

/** n×c×h×w Gaussian (or uniform on [−√3, √3]) data with per-channel mean and spread. */
function data(shape: number[], seed: number, kind: "gaussian" | "uniform"): Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[1];
  const s = size / (shape[0] * c);
  const x = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const ci = Math.floor(i / s) % c;
    const z = kind === "gaussian" ? rng.normal() : Math.sqrt(3) * (2 * rng.uniform() - 1);
    x[i] = 0.5 * ci - 1 + (1 + ci) * z;
  }
  return new Tensor(shape, x);
}

/** max over elements of |(y_L1 − β) / (y − β) − 1|. */
function ratioError(yl1: Tensor, y: Tensor, beta: number): number {
  let worst = 0;
  for (let i = 0; i < y.size; i++) worst = Math.max(worst, Math.abs((yl1.data[i] - beta) / (y.data[i] - beta) - 1));
  return worst;
}

describe("L1 normalization on Gaussian data matches batchNorm / layerNorm within 6·√((π − 3)/(2m)) + 10^−4", () => {
  const shape = [16, 3, 16, 16];
  const m = 16 * 16 * 16;
  const gamma = parameter("gamma", [3], Float64Array.of(1.5, -0.5, 2));
  const beta = parameter("beta", [3], new Float64Array(3).fill(0.25));

  it(`batch: train mode (m = ${m}), running statistics and eval mode`, () => {
    const x = data(shape, 1, "gaussian");
    const st = batchNormState(3, 1);
    const stL1 = batchNormState(3, 1);
    const ctx = trainContext(backend, identityPrecision);
    const error = ratioError(l1BatchNorm(ctx, x, gamma, beta, stL1), batchNorm(ctx, x, gamma, beta, st), 0.25);
    expect(error).toBeLessThan(tolerance(m));
    expect(error).toBeGreaterThan(0);
    // Momentum 1: the running statistics are this batch's.
    expect(Array.from(stL1.runningMean)).toEqual(Array.from(st.runningMean));
    for (let c = 0; c < 3; c++) expect(Math.abs(Math.sqrt(stL1.runningVar[c] / st.runningVar[c]) - 1)).toBeLessThan(tolerance(m));
    const evalX = data(shape, 2, "gaussian");
    const evaluated = ratioError(l1BatchNorm(evalContext(backend), evalX, gamma, beta, stL1), batchNorm(evalContext(backend), evalX, gamma, beta, st), 0.25);
    expect(evaluated).toBeLessThan(tolerance(m));
  });

  it("batch: uniform data falls outside the tolerance (the statistic is not the standard deviation)", () => {
    const ctx = trainContext(backend, identityPrecision);
    const x = data(shape, 3, "uniform");
    const error = ratioError(l1BatchNorm(ctx, x, gamma, beta, batchNormState(3)), batchNorm(ctx, x, gamma, beta, batchNormState(3)), 0.25);
    expect(error).toBeGreaterThan(tolerance(m));
    expect(error).toBeCloseTo(1 - 1 / Math.sqrt(3) / (L1_SCALE / 2), 1);
  });

  it(`layer: rows of D = ${m}`, () => {
    const x = data([4, 1, 1, m], 4, "gaussian").data;
    const rows = new Tensor([4, m], x);
    const g = parameter("g", [m], Float64Array.from({ length: m }, (_, j) => 1 + (j % 3)));
    const b = parameter("b", [m], new Float64Array(m).fill(0.25));
    const ctx = trainContext(backend, identityPrecision);
    const error = ratioError(l1LayerNorm(ctx, rows, g, b), layerNorm(ctx, rows, g, b), 0.25);
    expect(error).toBeLessThan(tolerance(m));
    expect(error).toBeGreaterThan(0);
  });
});

describe("ResNet with L1 batch norm", () => {
  it('norm: "l1" replaces every batch norm (same parameters and state), and bad values are refused', () => {
    const config = { stemChannels: 4, stemStride: 2, stages: [{ channels: 4, blocks: 1, stride: 2 }], seed: 1, dtype: "float64" as const };
    const batch = createResNet(config);
    const l1 = createResNet({ ...config, norm: "l1" });
    expect(l1.parameters().map((p) => p.name)).toEqual(batch.parameters().map((p) => p.name));
    const x = new Tensor([2, 1, 28, 28], Float64Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i)));
    const ctx = trainContext(backend, identityPrecision);
    const a = batch.forward(ctx, x).data;
    const b = l1.forward(ctx, x).data;
    expect(Array.from(a)).not.toEqual(Array.from(b));
    // The stem's running variance holds the L1 estimate, close to (not equal to) the batch-norm one.
    const varOf = (model: typeof batch) => model.batchNormStates().get("stem")!.runningVar[0];
    expect(varOf(l1)).not.toBe(varOf(batch));
    expect(varOf(l1) / varOf(batch)).toBeCloseTo(1, 0);
    expect(() => createResNet({ ...config, norm: "l2" as "l1" })).toThrow(/norm must be "batch" or "l1", got "l2"/);
  });
});
