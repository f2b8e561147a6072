import { describe, expect, it } from "vitest";
import { evalContext, trainContext } from "../../src/runtime/context.ts";
import { createNeuMf } from "../../src/runtime/models/ncf.ts";
import { concatLastAxis } from "../../src/runtime/ops/concat.ts";
import { binaryCrossEntropyWithLogits } from "../../src/runtime/ops/loss.ts";
import { Rng } from "../../src/runtime/random.ts";
import { tensorFrom } from "../../src/runtime/tensor.ts";
import { backend, gradCheck, randParam } from "./gradcheck.ts";

const TOL = 1e-6;

/** −t·log σ(x) − (1 − t)·log(1 − σ(x)), straight from the definition (fine for moderate |x|). */
function directBce(x: number, t: number): number {
  const s = 1 / (1 + Math.exp(-x));
  return -t * Math.log(s) - (1 - t) * Math.log(1 - s);
}

const bce = (logits: number[], targets: number[]) =>
  binaryCrossEntropyWithLogits(evalContext(backend), tensorFrom([logits.length], logits, "float64"), targets).data[0];

describe("binaryCrossEntropyWithLogits", () => {
  it("equals the direct formula averaged over the elements", () => {
    const rng = new Rng(5);
    const x = Array.from({ length: 40 }, () => 12 * rng.uniform() - 6);
    const t = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : rng.uniform()));
    const expected = x.reduce((s, v, i) => s + directBce(v, t[i]), 0) / x.length;
    expect(bce(x, t)).toBeCloseTo(expected, 13);
  });

  it("stays finite and exact for large |logits|, where the direct formula gives Infinity or NaN", () => {
    expect(directBce(800, 0)).toBe(Infinity);
    expect(directBce(-800, 1)).toBe(Infinity);
    expect(bce([800], [1])).toBe(0);
    expect(bce([800], [0])).toBe(800);
    expect(bce([-800], [1])).toBe(800);
    expect(bce([-800], [0])).toBe(0);
    expect(bce([40], [0])).toBeCloseTo(40 + Math.exp(-40), 12);
    expect(bce([-30], [1])).toBeCloseTo(30, 12);
    expect(bce([0], [1])).toBeCloseTo(Math.LN2, 15);
  });

  it("has gradient (σ(x) − t)/N, without overflow at large |logits|", () => {
    const x = tensorFrom([4], [800, -800, 0, 2], "float64");
    const p = randParam("x", [4], 1);
    p.data.set(x.data);
    const ctx = trainContext(backend);
    ctx.tape.backward(binaryCrossEntropyWithLogits(ctx, p, [0, 1, 1, 0.25]));
    expect(Array.from(p.grad!)).toEqual([1 / 4, -1 / 4, (0.5 - 1) / 4, (1 / (1 + Math.exp(-2)) - 0.25) / 4]);
  });

  it("matches central finite differences (float64)", () => {
    const x = randParam("x", [3, 5], 2, 4);
    const t = Array.from({ length: 15 }, (_, i) => (i % 4) / 3);
    expect(gradCheck((ctx) => binaryCrossEntropyWithLogits(ctx, x, t), [x]).maxRelError).toBeLessThan(TOL);
  });

  it("rejects mismatched lengths, targets outside [0, 1] and empty input", () => {
    expect(() => bce([1, 2], [1])).toThrow(/2 logits but 1 targets/);
    expect(() => bce([1, 2], [1, 2])).toThrow(/target 2 at position 1 is not in \[0, 1\]/);
    expect(() => bce([1], [NaN])).toThrow(/target NaN/);
    expect(() => bce([], [])).toThrow(/no logits/);
  });
});

describe("concatLastAxis", () => {
  it("puts the rows side by side", () => {
    const a = tensorFrom([2, 1], [1, 2]);
    const b = tensorFrom([2, 2], [3, 4, 5, 6]);
    const y = concatLastAxis(evalContext(backend), [a, b]);
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.data)).toEqual([1, 3, 4, 2, 5, 6]);
  });

  it("matches central finite differences over rank-3 inputs", () => {
    const a = randParam("a", [2, 3, 2], 3);
    const b = randParam("b", [2, 3, 1], 4);
    const c = randParam("c", [2, 3, 4], 5);
    expect(gradCheck((ctx) => concatLastAxis(ctx, [a, b, c]), [a, b, c]).maxRelError).toBeLessThan(TOL);
  });

  it("rejects different leading dimensions", () => {
    expect(() => concatLastAxis(evalContext(backend), [tensorFrom([2, 1], [1, 2]), tensorFrom([3, 1], [1, 2, 3])])).toThrow(/differ before the last axis/);
  });
});

describe("NeuMF", () => {
  /** A tiny float64 NeuMF whose parameters are replaced by U(−1, 1) values, so no ReLU input sits at a kink. */
  function tinyNeuMf() {
    const model = createNeuMf({ users: 5, items: 7, factors: 3, mlpLayers: [6, 4, 2], seed: 1, dtype: "float64" });
    for (const p of model.parameters()) p.data.set(randParam(p.name, [...p.shape], 9).data);
    return model;
  }
  const users = Int32Array.from([0, 4, 2, 2, 1, 3]);
  const items = Int32Array.from([6, 0, 3, 3, 5, 1]);

  it("has the parameters of both towers, uniquely named", () => {
    const model = createNeuMf({ users: 10, items: 20 });
    const shapes = Object.fromEntries(model.parameters().map((p) => [p.name, p.shape]));
    expect(shapes).toEqual({
      "gmf.user": [10, 8], "gmf.item": [20, 8], "mlp.user": [10, 16], "mlp.item": [20, 16],
      "mlp.fc1.weight": [16, 32], "mlp.fc1.bias": [16], "mlp.fc2.weight": [8, 16], "mlp.fc2.bias": [8],
      "predict.weight": [1, 16], "predict.bias": [1],
    });
  });

  it("gives one logit per pair, the same for the same pair", () => {
    const y = tinyNeuMf().forward(evalContext(backend), users, items);
    expect(y.shape).toEqual([6]);
    expect(y.data[2]).toBe(y.data[3]);
    expect(y.data[0]).not.toBe(y.data[1]);
  });

  it("matches central finite differences for every parameter, through the logits and through the loss", () => {
    const model = tinyNeuMf();
    const params = model.parameters();
    expect(gradCheck((ctx) => model.forward(ctx, users, items), params).maxRelError).toBeLessThan(TOL);
    const targets = [1, 0, 0, 0, 1, 0];
    expect(gradCheck((ctx) => binaryCrossEntropyWithLogits(ctx, model.forward(ctx, users, items), targets), params).maxRelError).toBeLessThan(TOL);
  });

  it("rejects bad configurations and mismatched pairs", () => {
    expect(() => createNeuMf({ users: 3, items: 4, mlpLayers: [7, 4] })).toThrow(/first even/);
    expect(() => createNeuMf({ users: 3, items: 4, mlpLayers: [8] })).toThrow(/≥ 2 positive widths/);
    expect(() => createNeuMf({ users: 0, items: 4 })).toThrow(/users must be a positive integer/);
    expect(() => tinyNeuMf().forward(evalContext(backend), users, items.subarray(1))).toThrow(/6 users but 5 items/);
  });
});
