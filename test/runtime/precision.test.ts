import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { sum } from "../../src/runtime/ops/elementwise.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { sgd } from "../../src/runtime/optim/sgd.ts";
import { adam } from "../../src/runtime/optim/adam.ts";
import {
  checkLayout, columnChannels, gatherChannels, rowChannels, sameChannels, scatterChannels, type ChannelLayout, type GemmPass, type Precision, type TensorRole,
} from "../../src/runtime/precision.ts";
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
    quantizesAlongK: () => false,
    rotates: () => false,
    quantizesColumnsInPlace: () => true,
    differs: () => false,
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

/** Logs role, site, GEMM and channel layout of every quantize call; layouts that split differently count as different formats. */
function layoutPrecision(): Precision & { calls: string[] } {
  const calls: string[] = [];
  const show = (l: ChannelLayout | undefined) => (l === undefined ? "-" : `[${l.outer},${l.channels},${l.inner}]`);
  return {
    name: "layouts",
    calls,
    active: () => true,
    quantize(role: TensorRole, _t: FloatArray, site: string, pass?: GemmPass, layout?: ChannelLayout): void {
      calls.push(`${role}@${site}#${pass ?? ""} ${show(layout)}`);
    },
    differs: (_role, _site, _a, _b, la, lb) => !sameChannels(la, lb),
    quantizesAlongK: () => false,
    rotates: () => false,
    quantizesColumnsInPlace: () => true,
  };
}

describe("channel layouts of GEMM operands: channels along the axis each GEMM does not sum", () => {
  it("linear: forward x by rows, W by output rows; input gradient g by rows, W by input columns; weight gradient g and x by columns", () => {
    const p = layoutPrecision();
    const x = randParam("x", [3, 4], 1);
    const w = randParam("w", [2, 4], 2);
    const ctx = trainContext(backend, p);
    ctx.tape.backward(sum(ctx, linear(ctx, x, w, null, "fc")));
    expect(p.calls).toEqual([
      "activation@fc#forward [1,3,4]",
      "weight@fc#forward [1,2,4]",
      "error@fc#inputGradient [1,3,2]",
      "weight@fc#inputGradient [2,4,1]",
      "error@fc#weightGradient [3,2,1]",
      "activation@fc#weightGradient [3,4,1]",
      "weightGradient@fc# -",
    ]);
  });

  it("conv2d: W by filters / by C·KH·KW columns, the channel-major error by columns / by filters, x by samples / by input channels", () => {
    const p = layoutPrecision();
    const x = randParam("x", [2, 2, 4, 4], 4);
    const w = randParam("w", [3, 2, 3, 3], 5);
    const ctx = trainContext(backend, p);
    ctx.tape.backward(sum(ctx, conv2d(ctx, x, w, null, "conv", { padding: 1 })));
    expect(p.calls).toEqual([
      "activation@conv#forward [1,2,32]",
      "weight@conv#forward [1,3,18]",
      "error@conv#inputGradient [3,32,1]",
      "error@conv#weightGradient [1,3,32]",
      "activation@conv#weightGradient [2,2,16]",
      "weightGradient@conv# -",
      "weight@conv#inputGradient [3,18,1]",
    ]);
  });

  it("gatherChannels puts channel c's elements (o, c, i) in the c-th leading slice; scatterChannels undoes it", () => {
    // [outer 2, channels 3, inner 2]: element (o, c, i) holds 100·o + 10·c + i.
    const layout: ChannelLayout = { outer: 2, channels: 3, inner: 2 };
    const data = Float64Array.from({ length: 12 }, (_, k) => 100 * Math.floor(k / 6) + 10 * (Math.floor(k / 2) % 3) + (k % 2));
    const gathered = gatherChannels(data, layout, "test");
    expect(Array.from(gathered)).toEqual([0, 1, 100, 101, 10, 11, 110, 111, 20, 21, 120, 121]);
    const back = new Float64Array(12);
    scatterChannels(gathered, layout, back);
    expect(Array.from(back)).toEqual(Array.from(data));
    expect(Array.from(gatherChannels(data, columnChannels(6, 2), "test"))).toEqual([0, 10, 20, 100, 110, 120, 1, 11, 21, 101, 111, 121]);
  });

  it("gatherChannels and scatterChannels move every element across tile edges, groups and run lengths, into a given buffer too", () => {
    // Shapes whose outer and channels are not multiples of the transpose's strips (4 rows) and
    // chunks (512 columns), with short and long runs.
    const layouts: ChannelLayout[] = [
      { outer: 70, channels: 45, inner: 1 }, { outer: 6, channels: 1100, inner: 1 }, { groups: 2, outer: 3, channels: 600, inner: 1 }, { outer: 33, channels: 65, inner: 3 }, { groups: 3, outer: 37, channels: 5, inner: 1 },
      { outer: 9, channels: 40, inner: 65 }, { groups: 2, outer: 1, channels: 7, inner: 2 },
    ];
    for (const layout of layouts) {
      const { outer, channels, inner } = layout;
      const groups = layout.groups ?? 1;
      const data = Float32Array.from({ length: groups * outer * channels * inner }, (_, k) => k);
      // The channel-major position of element (g, o, c, i), written out index by index.
      const expected = new Float32Array(data.length);
      for (let g = 0; g < groups; g++)
        for (let o = 0; o < outer; o++)
          for (let c = 0; c < channels; c++)
            for (let i = 0; i < inner; i++) expected[((g * channels + c) * outer + o) * inner + i] = data[((g * outer + o) * channels + c) * inner + i];
      expect(gatherChannels(data, layout, "test")).toEqual(expected);
      const scratch = new Float32Array(data.length + 5).fill(-1);
      const into = gatherChannels(data, layout, "test", scratch);
      expect(into.buffer).toBe(scratch.buffer);
      expect(into).toEqual(expected);
      expect(Array.from(scratch.subarray(data.length))).toEqual([-1, -1, -1, -1, -1]);
      const back = new Float32Array(data.length);
      scatterChannels(into, layout, back);
      expect(back).toEqual(data);
    }
  });

  it("sameChannels compares how elements split, and bad layouts say where", () => {
    expect(sameChannels(rowChannels(4, 6), { outer: 1, channels: 4, inner: 6 })).toBe(true);
    expect(sameChannels(rowChannels(1, 6), undefined)).toBe(true);
    expect(sameChannels(rowChannels(4, 6), columnChannels(4, 6))).toBe(false);
    expect(sameChannels(rowChannels(4, 6), undefined)).toBe(false);
    expect(() => checkLayout(new Float32Array(10), rowChannels(3, 3), "weight at fc")).toThrow(/weight at fc: channel layout \[1, 3, 3\] does not cover a tensor of 10 elements/);
  });
});

