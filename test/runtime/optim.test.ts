import { describe, expect, it } from "vitest";
import { adam, adamW } from "../../src/runtime/optim/adam.ts";
import { constant, cosineDecay, linearWarmup, scaled, sequence, stepDecay } from "../../src/runtime/optim/schedule.ts";
import { sgd } from "../../src/runtime/optim/sgd.ts";
import { identityPrecision } from "../../src/runtime/precision.ts";
import { parameter } from "../../src/runtime/tensor.ts";

const p64 = (name: string, v: number[]) => parameter(name, [v.length], Float64Array.from(v));

describe("SGD", () => {
  it("momentum and weight decay follow v ← μv + g + λw, w ← w − lr·v", () => {
    const w = p64("w", [1, -2]);
    const opt = sgd([w], { momentum: 0.9, weightDecay: 0.1 });
    let v = [0, 0];
    let ref = [1, -2];
    for (let step = 0; step < 3; step++) {
      const g = [0.5 * ref[0], 1 - ref[1]];
      w.grad = Float64Array.from(g);
      opt.step(0.1, identityPrecision);
      v = v.map((vi, i) => 0.9 * vi + g[i] + 0.1 * ref[i]);
      ref = ref.map((wi, i) => wi - 0.1 * v[i]);
      expect(w.data[0]).toBeCloseTo(ref[0], 14);
      expect(w.data[1]).toBeCloseTo(ref[1], 14);
    }
  });

  it("Nesterov steps by g + μ·v; zeroGrad clears gradients", () => {
    const w = p64("w", [1]);
    const opt = sgd([w], { momentum: 0.5, nesterov: true });
    w.grad = Float64Array.from([2]);
    opt.step(0.1, identityPrecision); // v = 2, step = 2 + 0.5·2 = 3
    expect(w.data[0]).toBeCloseTo(1 - 0.3, 14);
    opt.zeroGrad();
    expect(w.grad[0]).toBe(0);
  });

  it("minimizes a quadratic", () => {
    const w = p64("w", [5, -3]);
    const opt = sgd([w], { momentum: 0.9 });
    for (let i = 0; i < 200; i++) {
      w.grad = Float64Array.from(w.data); // ∇ ½‖w‖²
      opt.step(0.05, identityPrecision);
    }
    expect(Math.hypot(w.data[0], w.data[1])).toBeLessThan(1e-3);
  });
});

describe("Adam / AdamW", () => {
  it("the first Adam step is −lr·sign(g) (bias correction), whatever eps ≪ |g|", () => {
    const w = p64("w", [1, 1]);
    w.grad = Float64Array.from([0.3, -4]);
    adam([w], { eps: 1e-8 }).step(0.01, identityPrecision);
    expect(w.data[0]).toBeCloseTo(0.99, 6);
    expect(w.data[1]).toBeCloseTo(1.01, 6);
  });

  it("two Adam steps match the formulas; eps is configurable", () => {
    const w = p64("w", [0.5]);
    const opt = adam([w], { beta1: 0.8, beta2: 0.9, eps: 1e-3 });
    let m = 0, v = 0, x = 0.5;
    for (let t = 1; t <= 2; t++) {
      const g = 2 * x;
      w.grad = Float64Array.from([g]);
      opt.step(0.1, identityPrecision);
      m = 0.8 * m + 0.2 * g;
      v = 0.9 * v + 0.1 * g * g;
      x -= (0.1 * (m / (1 - 0.8 ** t))) / (Math.sqrt(v / (1 - 0.9 ** t)) + 1e-3);
      expect(w.data[0]).toBeCloseTo(x, 14);
    }
  });

  it("AdamW decays weights outside the adaptive step; Adam's L2 decay goes through it", () => {
    const a = p64("a", [2]);
    const b = p64("b", [2]);
    a.grad = Float64Array.from([0]);
    b.grad = Float64Array.from([0]);
    adamW([a], { weightDecay: 0.1 }).step(0.5, identityPrecision);
    expect(a.data[0]).toBeCloseTo(2 * (1 - 0.05), 14); // zero gradient: pure shrink
    adam([b], { weightDecay: 0.1 }).step(0.5, identityPrecision);
    expect(b.data[0]).toBeCloseTo(2 - 0.5, 6); // L2 gradient 0.2 → first step −lr·sign
  });
});

describe("learning-rate schedules", () => {
  it("warm-up, cosine, step decay, sequence and scaling compose", () => {
    const cos = cosineDecay(1, 10, 0.1);
    expect(cos(0)).toBe(1);
    expect(cos(5)).toBeCloseTo(0.55, 12);
    expect(cos(10)).toBe(0.1);
    expect(cos(50)).toBe(0.1);
    const warm = linearWarmup(4, cos);
    expect([0, 1, 2, 3].map(warm)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(warm(4)).toBe(1);
    expect(warm(9)).toBeCloseTo(0.55, 12);
    const st = stepDecay(0.1, 3, 0.5);
    expect([0, 2, 3, 6, 7].map(st)).toEqual([0.1, 0.1, 0.05, 0.025, 0.025]);
    const seq = sequence([{ steps: 2, schedule: constant(3) }], stepDecay(1, 1, 0.5));
    expect([0, 1, 2, 3].map(seq)).toEqual([3, 3, 1, 0.5]);
    expect(scaled(constant(2), 0.5)(7)).toBe(1);
  });
});
