import { describe, expect, it } from "vitest";
import { gelu, relu } from "../../src/runtime/ops/activations.ts";
import { batchNorm, batchNormState } from "../../src/runtime/ops/batchnorm.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { add, mean, mul, scale, sum } from "../../src/runtime/ops/elementwise.ts";
import { l1BatchNorm, l1LayerNorm } from "../../src/runtime/ops/l1norm.ts";
import { layerNorm } from "../../src/runtime/ops/layernorm.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { softmaxCrossEntropy } from "../../src/runtime/ops/loss.ts";
import { avgPool2d, globalAvgPool, maxPool2d } from "../../src/runtime/ops/pool.ts";
import { flatten, reshape } from "../../src/runtime/ops/shape.ts";
import { gradCheck, randParam } from "./gradcheck.ts";

/** Bound on max|analytic − numeric| / max|numeric| per input tensor (float64, h = 1e-5). */
const TOL = 1e-6;

describe("gradients match central finite differences (float64)", () => {
  it("linear: input, weight and bias", () => {
    const x = randParam("x", [3, 5], 1);
    const w = randParam("w", [4, 5], 2);
    const b = randParam("b", [4], 3);
    expect(gradCheck((ctx) => linear(ctx, x, w, b, "fc"), [x, w, b]).maxRelError).toBeLessThan(TOL);
  });

  it("linear over a rank-3 input without bias", () => {
    const x = randParam("x", [2, 3, 4], 4);
    const w = randParam("w", [5, 4], 5);
    expect(gradCheck((ctx) => linear(ctx, x, w, null, "fc"), [x, w]).maxRelError).toBeLessThan(TOL);
  });

  for (const [stride, padding, k] of [[1, 1, 3], [2, 1, 3], [2, 0, 1], [1, 0, 2], [3, 2, 3], [1, 2, 5], [1, 0, 1]] as const) {
    it(`conv2d stride ${stride} padding ${padding} kernel ${k}: input, weight, bias`, () => {
      const x = randParam("x", [2, 3, 6, 5], 10 + stride);
      const w = randParam("w", [4, 3, k, k], 20 + padding);
      const b = randParam("b", [4], 30);
      const res = gradCheck((ctx) => conv2d(ctx, x, w, b, "conv", { stride, padding }), [x, w, b]);
      expect(res.maxRelError).toBeLessThan(TOL);
    });
  }

  // The standard and the L1 normalizations share signatures and get the same checks.
  const normalizations = [
    { kind: "batch norm", batch: batchNorm, layer: layerNorm },
    { kind: "L1 batch norm", batch: l1BatchNorm, layer: l1LayerNorm },
  ] as const;
  for (const { kind, batch, layer } of normalizations) {
    it(`${kind}, train mode on NCHW: input, gamma, beta`, () => {
      const x = randParam("x", [3, 2, 3, 2], 40, 2);
      const g = randParam("gamma", [2], 41);
      const b = randParam("beta", [2], 42);
      const st = batchNormState(2);
      expect(gradCheck((ctx) => batch(ctx, x, g, b, st), [x, g, b]).maxRelError).toBeLessThan(TOL);
    });

    it(`${kind}, train mode on [N, C]`, () => {
      const x = randParam("x", [5, 3], 43);
      const g = randParam("gamma", [3], 44);
      const b = randParam("beta", [3], 45);
      const st = batchNormState(3);
      expect(gradCheck((ctx) => batch(ctx, x, g, b, st), [x, g, b]).maxRelError).toBeLessThan(TOL);
    });

    it(`${kind}, eval mode (running statistics are constants)`, () => {
      const x = randParam("x", [2, 3, 2, 2], 46);
      const g = randParam("gamma", [3], 47);
      const b = randParam("beta", [3], 48);
      const st = batchNormState(3);
      st.runningMean.set([0.1, -0.2, 0.3]);
      st.runningVar.set([0.5, 1.5, 2]);
      expect(gradCheck((ctx) => batch(ctx, x, g, b, st), [x, g, b], { training: false }).maxRelError).toBeLessThan(TOL);
    });

    it(`${kind === "batch norm" ? "layer norm" : "L1 layer norm"}: input, gamma, beta`, () => {
      const x = randParam("x", [2, 3, 5], 50);
      const g = randParam("gamma", [5], 51);
      const b = randParam("beta", [5], 52);
      expect(gradCheck((ctx) => layer(ctx, x, g, b), [x, g, b]).maxRelError).toBeLessThan(TOL);
    });
  }

  it("ReLU and GELU", () => {
    const x = randParam("x", [4, 7], 60, 3);
    expect(gradCheck((ctx) => relu(ctx, x), [x]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => gelu(ctx, x), [x]).maxRelError).toBeLessThan(TOL);
  });

  it("max pooling (2×2 stride 2, and 3×3 stride 2 padding 1)", () => {
    const x = randParam("x", [2, 2, 5, 6], 70);
    expect(gradCheck((ctx) => maxPool2d(ctx, x, { kernel: 2 }), [x]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => maxPool2d(ctx, x, { kernel: 3, stride: 2, padding: 1 }), [x]).maxRelError).toBeLessThan(TOL);
  });

  it("average pooling (with padding) and global average pooling", () => {
    const x = randParam("x", [2, 3, 5, 4], 80);
    expect(gradCheck((ctx) => avgPool2d(ctx, x, { kernel: 3, stride: 2, padding: 1 }), [x]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => avgPool2d(ctx, x, { kernel: 2 }), [x]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => globalAvgPool(ctx, x), [x]).maxRelError).toBeLessThan(TOL);
  });

  it("residual add, mul, scale, sum, mean; a tensor used twice gets both contributions", () => {
    const a = randParam("a", [3, 4], 90);
    const b = randParam("b", [3, 4], 91);
    expect(gradCheck((ctx) => add(ctx, a, b), [a, b]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => mul(ctx, a, b), [a, b]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => scale(ctx, a, -2.5), [a]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => sum(ctx, mul(ctx, a, a)), [a]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => mean(ctx, add(ctx, mul(ctx, a, b), a)), [a, b]).maxRelError).toBeLessThan(TOL);
  });

  it("reshape and flatten", () => {
    const x = randParam("x", [2, 3, 2, 2], 100);
    const w = randParam("w", [3, 12], 101);
    expect(gradCheck((ctx) => linear(ctx, flatten(ctx, x), w, null, "fc"), [x, w]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => mul(ctx, reshape(ctx, x, [4, -1]), reshape(ctx, x, [4, 6])), [x]).maxRelError).toBeLessThan(TOL);
  });

  it("softmax cross-entropy, with and without label smoothing", () => {
    const logits = randParam("logits", [4, 5], 110, 3);
    const labels = Uint8Array.from([0, 4, 2, 2]);
    expect(gradCheck((ctx) => softmaxCrossEntropy(ctx, logits, labels), [logits]).maxRelError).toBeLessThan(TOL);
    expect(gradCheck((ctx) => softmaxCrossEntropy(ctx, logits, labels, { labelSmoothing: 0.1 }), [logits]).maxRelError)
      .toBeLessThan(TOL);
  });

  it("a conv → BN → ReLU → pool → linear → loss chain", () => {
    const x = randParam("x", [3, 2, 6, 6], 120);
    const w = randParam("w", [3, 2, 3, 3], 121);
    const g = randParam("gamma", [3], 122);
    const be = randParam("beta", [3], 123);
    const fw = randParam("fw", [4, 3], 124);
    const fb = randParam("fb", [4], 125);
    const st = batchNormState(3);
    const labels = [1, 3, 0];
    const res = gradCheck((ctx) => {
      const h = relu(ctx, batchNorm(ctx, conv2d(ctx, x, w, null, "c", { padding: 1, stride: 2 }), g, be, st));
      return softmaxCrossEntropy(ctx, linear(ctx, globalAvgPool(ctx, h), fw, fb, "fc"), labels, { labelSmoothing: 0.05 });
    }, [x, w, g, be, fw, fb]);
    expect(res.maxRelError).toBeLessThan(TOL);
  });
});
