import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { sum } from "../../src/runtime/ops/elementwise.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { sgd } from "../../src/runtime/optim/sgd.ts";
import { adam } from "../../src/runtime/optim/adam.ts";
import type { Precision, TensorRole } from "../../src/runtime/precision.ts";
import type { FloatArray } from "../../src/runtime/tensor.ts";
import { randParam } from "./gradcheck.ts";

const backend = createReferenceBackend();

/** Rounds every role to multiples of 1/4 and logs each call. */
function recordingPrecision(): Precision & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: "quarter",
    calls,
    active: () => true,
    quantize(role: TensorRole, t: FloatArray, site: string): void {
      calls.push(`${role}@${site}`);
      for (let i = 0; i < t.length; i++) t[i] = Math.round(t[i] * 4) / 4;
    },
  };
}

const quarter = (v: number) => Math.round(v * 4) / 4;

describe("precision hooks", () => {
  it("linear quantizes weight and activation before the forward GEMM, error before the backward GEMMs, weight gradients after", () => {
    const p = recordingPrecision();
    const x = randParam("x", [3, 4], 1);
    const w = randParam("w", [2, 4], 2);
    const b = randParam("b", [2], 3);
    const wBefore = Array.from(w.data);
    const ctx = trainContext(backend, p);
    const y = linear(ctx, x, w, b, "fc");
    expect(p.calls).toEqual(["activation@fc", "weight@fc"]);
    expect(Array.from(w.data)).toEqual(wBefore); // the master weights are not touched
    for (let r = 0; r < 3; r++) for (let o = 0; o < 2; o++) {
      let acc = b.data[o];
      for (let i = 0; i < 4; i++) acc += quarter(x.data[r * 4 + i]) * quarter(w.data[o * 4 + i]);
      expect(y.data[r * 2 + o]).toBeCloseTo(acc, 12);
    }
    ctx.tape.backward(sum(ctx, y));
    expect(p.calls.slice(2)).toEqual(["error@fc", "weightGradient@fc", "weightGradient@fc.bias"]);
    // dW = Σ_r g·q(x) with g = 1: every entry a multiple of 1/4 after quantization.
    for (const v of w.grad!) expect(v * 4).toBe(Math.round(v * 4));
    // dx = g·q(W): uses the quantized weights.
    expect(x.grad![0]).toBeCloseTo(quarter(w.data[0]) + quarter(w.data[4]), 12);
  });

  it("conv2d calls the same roles at its site", () => {
    const p = recordingPrecision();
    const x = randParam("x", [1, 2, 4, 4], 4);
    const w = randParam("w", [3, 2, 3, 3], 5);
    const ctx = trainContext(backend, p);
    ctx.tape.backward(sum(ctx, conv2d(ctx, x, w, null, "stem", { padding: 1 })));
    expect(p.calls).toEqual(["activation@stem", "weight@stem", "error@stem", "weightGradient@stem"]);
  });

  it("optimizers pass their state and the weights they write through the hook", () => {
    const p = recordingPrecision();
    const w = randParam("layer.weight", [3], 6);
    w.grad = new Float64Array([0.3, -0.2, 0.1]);
    sgd([w], { momentum: 0.9 }).step(0.1, p);
    expect(p.calls).toEqual(["optimizerState@layer.weight.momentum", "master@layer.weight"]);
    for (const v of w.data) expect(v * 4).toBe(Math.round(v * 4));
    p.calls.length = 0;
    adam([w]).step(0.1, p);
    expect(p.calls).toEqual(["optimizerState@layer.weight.m", "optimizerState@layer.weight.v", "master@layer.weight"]);
  });
});
