/** The tensor-level scalings: S2FP8 statistics, MX blocks, amax (delayed), ShiftQuant groups. */
import { describe, expect, it } from "vitest";
import { dequantize, fakeQuantize, quantize } from "../src/dsl/semantics/tensor.ts";
import { log2Statistics, squeeze } from "../src/scaling/shift-squeeze/semantics.ts";
import { decode } from "../src/dsl/semantics/scalar.ts";
import { exp2f, log2f } from "../src/dsl/semantics/elementary.ts";
import { counterRandom } from "../src/dsl/semantics/random.ts";
import { floorLog2 } from "../src/dsl/semantics/bits.ts";
import { builtin } from "./support/formats.ts";

/** A seeded log-uniform tensor spanning `binades` binades around 2^center. */
function logUniform(n: number, seed: number, center: number, binades: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const u = counterRandom(seed, i) / 2 ** 32;
    const sign = counterRandom(seed + 1, i) & 1 ? -1 : 1;
    return sign * 2 ** (center + (u - 0.5) * binades);
  });
}

describe("elementary log2f / exp2f", () => {
  it("log2f is within 2 ulps (2^-22 absolute near 1), exp2f within 2 ulps relative", () => {
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround(2 ** ((counterRandom(1, i) / 2 ** 32) * 250 - 125));
      const l = log2f(x);
      expect(Math.abs(l - Math.log2(x))).toBeLessThanOrEqual(Math.max(2 * 2 ** (floorLog2(Math.max(Math.abs(l), 2 ** -30)) - 23), 2 ** -22));
      const y = Math.fround((counterRandom(2, i) / 2 ** 32) * 250 - 125);
      expect(Math.abs(exp2f(y) / 2 ** y - 1)).toBeLessThan(2 * 2 ** -23);
    }
  });
});

describe("S2FP8 shift and squeeze", () => {
  const s2fp8 = builtin("s2fp8");
  const x = logUniform(10000, 3, -20, 24);
  it("squeezed values have mean log2 0 and max log2 15 (the paper's α, β)", () => {
    const { meta } = quantize(s2fp8, x);
    if (meta.kind !== "shift-squeeze") throw new Error("expected shift-squeeze metadata");
    const y = Float32Array.from(x, (v) => squeeze(v, meta.alpha, meta.beta));
    const stats = log2Statistics(y);
    expect(Math.abs(stats.mean)).toBeLessThan(1e-3);
    expect(stats.max).toBeCloseTo(15, 3);
    // α squeezes 24 binades into the 30 E5M2 can hold: mean to max was 12 binades.
    expect(meta.alpha).toBeCloseTo(15 / (log2Statistics(x).max - log2Statistics(x).mean), 4);
  });
  it("the round trip keeps the log2 statistics of the tensor", () => {
    const { values } = fakeQuantize(s2fp8, x);
    const before = log2Statistics(x);
    const after = log2Statistics(values);
    expect(after.count).toBe(before.count);
    expect(Math.abs(after.mean - before.mean)).toBeLessThan(0.02);
    expect(Math.abs(after.max - before.max)).toBeLessThan(0.2);
    for (let i = 0; i < x.length; i++) expect(Math.sign(values[i])).toBe(Math.sign(x[i]));
  });
  it("values far below plain E5M2's range survive (plain E5M2 flushes them to zero)", () => {
    const tiny = logUniform(1000, 9, -40, 8);
    const e5m2 = fakeQuantize(builtin("e5m2"), tiny).values;
    const s2 = fakeQuantize(s2fp8, tiny).values;
    expect(e5m2.every((v) => v === 0)).toBe(true);
    let worst = 0;
    for (let i = 0; i < tiny.length; i++) worst = Math.max(worst, Math.abs(s2[i] / tiny[i] - 1));
    expect(worst).toBeLessThan(0.25);
  });
  it("is guarded when max = mean (all-equal tensor) and for all-zero tensors", () => {
    const equal = new Float32Array(64).fill(3.5);
    const r = fakeQuantize(s2fp8, equal);
    expect(r.meta).toMatchObject({ kind: "shift-squeeze", alpha: 1 });
    expect([...r.values].every((v) => Math.abs(v - 3.5) < 0.5)).toBe(true);
    const zeros = fakeQuantize(s2fp8, new Float32Array(16));
    expect([...zeros.values].every((v) => v === 0)).toBe(true);
  });
});

describe("MX block scaling", () => {
  const mxfp8 = builtin("mxfp8");
  const e8m0 = builtin("e8m0");
  it("the shared scale is 2^(⌊log2 amax⌋ − emax) (OCP MX floor rule)", () => {
    const x = logUniform(96, 5, 3, 10);
    const { meta } = quantize(mxfp8, x);
    if (meta.kind !== "block") throw new Error("expected block metadata");
    expect(meta.scaleCodes.length).toBe(3);
    for (let b = 0; b < 3; b++) {
      const amax = Math.max(...[...x.slice(b * 32, b * 32 + 32)].map(Math.abs));
      expect(decode(e8m0, meta.scaleCodes[b])).toBe(2 ** (floorLog2(amax) - 8));
    }
  });
  it("a zero block and an all-equal tensor give no NaN", () => {
    const x = new Float32Array(64);
    x.fill(0, 0, 32);
    x.fill(1.75, 32);
    const { values } = fakeQuantize(mxfp8, x);
    expect([...values].some(Number.isNaN)).toBe(false);
    expect([...values.slice(0, 32)]).toEqual(new Array(32).fill(0));
    expect([...values.slice(32)]).toEqual(new Array(32).fill(1.75));
    for (const name of ["mxfp4", "mxfp6", "mxint8"]) {
      const r = fakeQuantize(builtin(name), new Float32Array(40).fill(-0.3));
      expect([...r.values].some(Number.isNaN)).toBe(false);
    }
  });
  it("a block holding NaN or Inf decodes to NaN; other blocks are untouched; tail blocks work", () => {
    const x = Float32Array.from({ length: 70 }, (_, i) => (i % 7) - 3);
    x[40] = Number.NaN;
    const { values } = fakeQuantize(mxfp8, x);
    expect([...values.slice(32, 64)].every(Number.isNaN)).toBe(true);
    expect([...values.slice(0, 32)]).toEqual([...x.slice(0, 32)]);
    expect([...values.slice(64)]).toEqual([...x.slice(64)]);
  });
  it("ceil never clips, floor may saturate the largest element", () => {
    const x = new Float32Array(32).fill(1);
    x[0] = 480; // ⌊log2 480⌋ = 8 → scale 1 under floor, and 480 > 448 saturates
    const floor = fakeQuantize(mxfp8, x).values;
    expect(floor[0]).toBe(448);
    if (mxfp8.scaling.kind !== "block") throw new Error("mxfp8 is block-scaled");
    const ceilFormat = { ...mxfp8, scaling: { ...mxfp8.scaling, scaleRounding: "ceil" as const } };
    const ceil = fakeQuantize(ceilFormat, x).values;
    expect(ceil[0]).toBe(480); // scale 2: 240 is an E4M3 value
    expect(ceil[1]).toBe(1);
  });
});

describe("amax scaling", () => {
  const spec = (scaling: object) => ({ ...builtin("e4m3"), scaling: scaling as never });
  it("current tensor scaling maps amax onto max finite", () => {
    const format = spec({ kind: "amax", granularity: "tensor", history: { mode: "current" }, margin: 0, scale: "fp32" });
    const x = logUniform(256, 11, -10, 6);
    const { codes, meta } = quantize(format, x);
    if (meta.kind !== "amax") throw new Error("expected amax metadata");
    const amax = Math.max(...[...x].map(Math.abs));
    expect(meta.scale[0]).toBe(Math.fround(448 / amax));
    expect(Math.max(...[...dequantize(format, codes, meta)].map(Math.abs))).toBeCloseTo(amax, 2);
  });
  it("delayed scaling uses the max of the history, then records the current amax", () => {
    const format = spec({ kind: "amax", granularity: "tensor", history: { mode: "delayed", length: 2 }, margin: 1, scale: "power-of-two" });
    const step = (scale: number, state?: never) => quantize(format, new Float32Array([scale, -scale / 2]), { state });
    const a = step(8);
    const b = step(2, a.state as never);
    const c = step(1, b.state as never);
    const d = step(1, c.state as never);
    const scaleOf = (q: typeof a) => (q.meta.kind === "amax" ? q.meta.scale[0] : Number.NaN);
    expect(scaleOf(a)).toBe(2 ** (5 - 1)); // 448/8 → 2^5, margin 1
    expect(scaleOf(b)).toBe(2 ** (5 - 1)); // history [8]
    expect(scaleOf(c)).toBe(2 ** (5 - 1)); // history [8, 2]
    expect(scaleOf(d)).toBe(2 ** (7 - 1)); // history [2, 1]
    expect(d.state?.amaxHistory.length).toBe(2);
  });
  it("channel granularity scales each leading-axis slice on its own", () => {
    const format = spec({ kind: "amax", granularity: "channel", history: { mode: "current" }, margin: 0, scale: "power-of-two" });
    const x = new Float32Array([1, 2, 100, 300]);
    const { meta } = quantize(format, x, { channels: 2 });
    if (meta.kind !== "amax") throw new Error("expected amax metadata");
    expect([...meta.scale]).toEqual([2 ** 7, 1]);
  });
});

describe("ShiftQuant groups", () => {
  const sq4 = builtin("shiftquant4");
  const channels = 16;
  const x = Float32Array.from({ length: channels * 8 }, (_, i) => {
    const c = Math.floor(i / 8);
    return ((counterRandom(4, i) / 2 ** 32) * 2 - 1) * 2 ** (c % 6 - 3);
  });
  it("scales are powers of two, no channel clips, groups follow magnitude", () => {
    const { codes, meta } = quantize(sq4, x, { channels });
    if (meta.kind !== "shift-groups") throw new Error("expected shift-groups metadata");
    expect(meta.groupExponent.length).toBe(4);
    for (let g = 1; g < 4; g++) expect(meta.groupExponent[g]).toBe(meta.groupExponent[g - 1] - 1);
    for (let c = 0; c < channels; c++) {
      const scale = 2 ** meta.groupExponent[meta.channelGroup[c]];
      for (let i = c * 8; i < c * 8 + 8; i++) expect(Math.abs(x[i])).toBeLessThanOrEqual(7 * scale);
    }
    const values = dequantize(sq4, codes, meta, { channels });
    for (let i = 0; i < x.length; i++) {
      const scale = 2 ** meta.groupExponent[meta.channelGroup[Math.floor(i / 8)]];
      expect(Math.abs(values[i] - x[i])).toBeLessThanOrEqual(scale / 2);
    }
  });
  it("group assignment is stable: the same tensor, or one scaled by a power of two, gets the same groups", () => {
    const a = quantize(sq4, x, { channels }).meta;
    const b = quantize(sq4, Float32Array.from(x), { channels }).meta;
    const c = quantize(sq4, Float32Array.from(x, (v) => v * 8), { channels }).meta;
    if (a.kind !== "shift-groups" || b.kind !== "shift-groups" || c.kind !== "shift-groups") throw new Error("expected shift-groups");
    expect([...a.channelGroup]).toEqual([...b.channelGroup]);
    expect([...a.channelGroup]).toEqual([...c.channelGroup]);
    expect([...c.groupExponent]).toEqual([...a.groupExponent].map((e) => e + 3));
  });
});

describe("stochastic rounding on tensors", () => {
  it("is reproducible for a seed and differs across seeds", () => {
    const format = { ...builtin("e5m2"), rounding: { mode: "stochastic", bits: 16 } } as const;
    const x = logUniform(4096, 21, 0, 4);
    const a = quantize(format, x, { seed: 1 }).codes;
    const b = quantize(format, x, { seed: 1 }).codes;
    const c = quantize(format, x, { seed: 2 }).codes;
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
  });
});
