import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { evalContext, trainContext } from "../../src/runtime/context.ts";
import { gelu } from "../../src/runtime/ops/activations.ts";
import { batchNorm, batchNormState } from "../../src/runtime/ops/batchnorm.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { layerNorm } from "../../src/runtime/ops/layernorm.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { softmaxCrossEntropy } from "../../src/runtime/ops/loss.ts";
import { maxPool2d } from "../../src/runtime/ops/pool.ts";
import { reshape } from "../../src/runtime/ops/shape.ts";
import { tensorFrom } from "../../src/runtime/tensor.ts";
import { randParam } from "./gradcheck.ts";

const backend = createReferenceBackend();

describe("batch norm", () => {
  it("train mode normalizes with batch statistics and updates the running averages", () => {
    const x = randParam("x", [4, 2, 3, 3], 1, 3);
    const st = batchNormState(2, 0.1);
    const y = batchNorm(trainContext(backend), x, tensorFrom([2], [1, 1], "float64"), tensorFrom([2], [0, 0], "float64"), st).data;
    for (let c = 0; c < 2; c++) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (let n = 0; n < 4; n++) for (let j = 0; j < 9; j++) {
        xs.push(x.data[(n * 2 + c) * 9 + j]);
        ys.push(y[(n * 2 + c) * 9 + j]);
      }
      const mu = xs.reduce((a, b) => a + b) / 36;
      const unbiased = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / 35;
      expect(ys.reduce((a, b) => a + b) / 36).toBeCloseTo(0, 12);
      expect(ys.reduce((a, b) => a + b * b, 0) / 36).toBeCloseTo(1, 3); // 1 − eps/(σ²+eps)
      expect(st.runningMean[c]).toBeCloseTo(0.1 * mu, 12);
      expect(st.runningVar[c]).toBeCloseTo(0.9 + 0.1 * unbiased, 12);
    }
  });

  it("eval mode with the batch's own statistics reproduces train mode, and changes no state", () => {
    const x = randParam("x", [3, 2, 2, 2], 2, 2);
    const gamma = randParam("gamma", [2], 3);
    const beta = randParam("beta", [2], 4);
    const st = batchNormState(2);
    const train = batchNorm(trainContext(backend), x, gamma, beta, st).data;
    // Running statistics equal to the batch mean and the biased batch variance.
    for (let c = 0; c < 2; c++) {
      const xs: number[] = [];
      for (let n = 0; n < 3; n++) for (let j = 0; j < 4; j++) xs.push(x.data[(n * 2 + c) * 4 + j]);
      const mu = xs.reduce((a, b) => a + b) / xs.length;
      st.runningMean[c] = mu;
      st.runningVar[c] = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length;
    }
    const before = [...st.runningMean, ...st.runningVar];
    const evalOut = batchNorm(evalContext(backend), x, gamma, beta, st).data;
    for (let i = 0; i < train.length; i++) expect(evalOut[i]).toBeCloseTo(train[i], 12);
    expect([...st.runningMean, ...st.runningVar]).toEqual(before);
  });

  it("eval mode differs from train mode when the running statistics are not the batch's", () => {
    const x = randParam("x", [3, 2, 2, 2], 5, 2);
    const g = tensorFrom([2], [1, 1], "float64");
    const b = tensorFrom([2], [0, 0], "float64");
    const st = batchNormState(2);
    const evalOut = batchNorm(evalContext(backend), x, g, b, st).data;
    // Fresh running stats are mean 0, var 1: eval is x/√(1 + eps).
    for (let i = 0; i < x.size; i++) expect(evalOut[i]).toBeCloseTo(x.data[i] / Math.sqrt(1 + 1e-5), 12);
    // Repeated train passes on one batch drive the running mean to the batch mean.
    for (let i = 0; i < 300; i++) batchNorm(trainContext(backend), x, g, b, st);
    let mu0 = 0;
    for (let n = 0; n < 3; n++) for (let j = 0; j < 4; j++) mu0 += x.data[n * 8 + j] / 12;
    expect(st.runningMean[0]).toBeCloseTo(mu0, 10);
  });
});

describe("softmax cross-entropy", () => {
  it("with label smoothing 0.3 matches the hand-computed value", () => {
    // Row 0: logits (1, 2, 3), label 0, target (0.8, 0.1, 0.1): loss = lse − (0.8·1 + 0.1·2 + 0.1·3) = lse − 1.3.
    // Row 1: logits (0, 0, 0), label 2: loss = log 3 whatever the target.
    const lse = 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2));
    const want = (lse - 1.3 + Math.log(3)) / 2;
    expect(want).toBeCloseTo(1.6031091265, 9);
    const logits = tensorFrom([2, 3], [1, 2, 3, 0, 0, 0], "float64");
    const loss = softmaxCrossEntropy(evalContext(backend), logits, [0, 2], { labelSmoothing: 0.3 });
    expect(loss.shape).toEqual([]);
    expect(loss.data[0]).toBeCloseTo(want, 12);
  });

  it("without smoothing is −log p(label); survives huge logits; rejects bad labels", () => {
    const logits = tensorFrom([1, 3], [1000, 0, -1000], "float64");
    expect(softmaxCrossEntropy(evalContext(backend), logits, [0]).data[0]).toBeCloseTo(0, 12);
    expect(softmaxCrossEntropy(evalContext(backend), logits, [1]).data[0]).toBeCloseTo(1000, 9);
    expect(() => softmaxCrossEntropy(evalContext(backend), logits, [3])).toThrow(/label 3 at row 0/);
  });
});

describe("forward values", () => {
  for (const [k, s, p] of [[3, 2, 1], [3, 1, 1], [5, 1, 2], [1, 1, 0], [2, 1, 0], [3, 1, 2]] as const) {
    it(`conv2d equals a direct convolution (kernel ${k}, stride ${s}, padding ${p}, bias)`, () => {
      const [n, c, h, w, f] = [2, 3, 7, 6, 4];
      const x = randParam("x", [n, c, h, w], 10);
      const wt = randParam("w", [f, c, k, k], 11);
      const b = randParam("b", [f], 12);
      const y = conv2d(evalContext(backend), x, wt, b, "conv", { stride: s, padding: p });
      const oh = Math.floor((h + 2 * p - k) / s) + 1;
      const ow = Math.floor((w + 2 * p - k) / s) + 1;
      expect(y.shape).toEqual([n, f, oh, ow]);
      for (let ni = 0; ni < n; ni++) for (let fi = 0; fi < f; fi++) for (let yo = 0; yo < oh; yo++) for (let xo = 0; xo < ow; xo++) {
        let acc = b.data[fi];
        for (let ci = 0; ci < c; ci++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
          const iy = yo * s - p + ky;
          const ix = xo * s - p + kx;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
          acc += x.data[((ni * c + ci) * h + iy) * w + ix] * wt.data[((fi * c + ci) * k + ky) * k + kx];
        }
        expect(y.data[((ni * f + fi) * oh + yo) * ow + xo]).toBeCloseTo(acc, 12);
      }
    });
  }

  it("GELU is the tanh approximation", () => {
    const x = tensorFrom([4], [-3, -0.5, 0, 2], "float64");
    const y = gelu(evalContext(backend), x).data;
    const ref = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    expect(Array.from(y)).toEqual([-3, -0.5, 0, 2].map(ref));
    expect(y[3]).toBeCloseTo(1.9545976, 6);
  });

  it("max pooling picks window maxima; layer norm rows have mean 0 and variance 1", () => {
    const x = tensorFrom([1, 1, 2, 4], [1, 5, 2, 0, 3, 4, 8, -1], "float64");
    expect(Array.from(maxPool2d(evalContext(backend), x, { kernel: 2 }).data)).toEqual([5, 8]);
    const r = randParam("r", [3, 6], 13, 4);
    const one = tensorFrom([6], [1, 1, 1, 1, 1, 1], "float64");
    const zero = tensorFrom([6], [0, 0, 0, 0, 0, 0], "float64");
    const y = layerNorm(evalContext(backend), r, one, zero, 0).data;
    for (let row = 0; row < 3; row++) {
      const v = Array.from(y.subarray(row * 6, row * 6 + 6));
      expect(v.reduce((a, b) => a + b) / 6).toBeCloseTo(0, 12);
      expect(v.reduce((a, b) => a + b * b, 0) / 6).toBeCloseTo(1, 12);
    }
  });

  it("shape errors name the op and the shapes", () => {
    const x = randParam("x", [2, 3], 14);
    const w = randParam("w", [4, 5], 15);
    expect(() => linear(evalContext(backend), x, w, null, "fc1")).toThrow(/linear fc1: input \[2, 3\] does not end in 5 features/);
    expect(() => reshape(evalContext(backend), x, [4, -1])).toThrow(/cannot be viewed as \[4, -1\]/);
  });
});
