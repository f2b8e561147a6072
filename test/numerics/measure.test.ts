/** The statistics of one quantization (src/runtime/numerics/measure.ts) on tensors whose answers are known by construction. */
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { binadeOf, clipRule, formatRange, measure, BinadeCounter } from "../../src/runtime/numerics/measure.ts";
import { summarize } from "../../src/runtime/numerics/scales.ts";

const registry = createRegistry();
const format = (name: string) => Effect.runSync(registry.get(name));

describe("binadeOf", () => {
  it("is floor(log2|v|) exactly at and around every power of two of float64, subnormals included", () => {
    for (let e = -1074; e <= 1023; e++) {
      const p = 2 ** e;
      expect(binadeOf(p)).toBe(e);
      expect(binadeOf(-p)).toBe(e);
      if (e > -1074) expect(binadeOf(p - 2 ** Math.max(-1074, e - 53))).toBe(e - 1);
      if (e > -1073) expect(binadeOf(p * 1.5)).toBe(e);
    }
  });
});

describe("measure", () => {
  const e4m3 = format("e4m3");
  const roundTrip = (v: number) => decode(e4m3, encode(e4m3, v));
  // e4m3: max 448, min normal 2^-6, min subnormal 2^-9, 3 mantissa bits, saturating.
  const x = Float32Array.from([1000, -500, 449, 448, 1, -1.03, 2 ** -12, -(2 ** -11), 0, 2 ** -7 * 1.4, 100, Number.NaN]);
  const q = x.map((v) => roundTrip(v));

  it("counts flushed, clipped and non-finite values against the finite non-zero inputs, and the input's binades", () => {
    const s = measure(7, x, q, clipRule(e4m3));
    // 10 finite non-zero inputs: 2^-12 and -2^-11 flush to zero; 1000 and -500 clip to ±448 (449 and 448 are a rounding away).
    expect(s.step).toBe(7);
    expect(s.count).toBe(12);
    expect(s.underflow).toBe(0.2);
    expect(s.saturated).toBe(0.2);
    expect(s.nonFinite).toBe(0);
    expect(s.amax).toBe(1000);
    expect(s.histogram).toEqual({ binade: -12, counts: [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 3, 1], zeros: 1, nonFinite: 1 });
    expect(s.quantizedRange).toEqual({ minLog2: Number(Math.log2(Math.min(...[...q].filter((v) => v !== 0 && Number.isFinite(v)).map(Math.abs))).toPrecision(6)), maxLog2: Number(Math.log2(448).toPrecision(6)) });
    let signal = 0;
    let noise = 0;
    x.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      signal += v * v;
      noise += (v - q[i]) ** 2;
    });
    expect(s.sqnr).toBe(Number((10 * Math.log10(signal / noise)).toPrecision(6)));
    expect(s.relativeError).toBe(Number(Math.sqrt(noise / signal).toPrecision(6)));
  });

  it("an exact copy: no loss, SQNR \"Infinity\"; a value turned NaN counts as non-finite", () => {
    const exact = measure(0, x, x.slice(), clipRule(null));
    expect([exact.underflow, exact.saturated, exact.nonFinite, exact.sqnr, exact.relativeError]).toEqual([0, 0, 0, "Infinity", 0]);
    const broken = x.slice();
    broken[4] = Number.NaN;
    expect(measure(0, x, broken, clipRule(null)).nonFinite).toBe(Number((1 / 11).toPrecision(6)));
  });

  it("a tensor wholly in the subnormal range loses digits but is not saturated", () => {
    const small = Float32Array.from([2 ** -8 * 1.3, 2 ** -9 * 1.4, 2 ** -7 * 1.1, 2 ** -8 * 1.9]);
    const s = measure(0, small, small.map((v) => roundTrip(v)), clipRule(e4m3));
    expect(s.saturated).toBe(0);
    expect(s.underflow).toBe(0);
  });

  it("formatRange is the element's log2 range", () => {
    expect(formatRange(e4m3)).toEqual({ minLog2: -9, minNormalLog2: -6, maxLog2: Math.log2(448) });
  });
});

describe("scale summaries", () => {
  it("integers in a small range count by value, other scales by binade", () => {
    expect(summarize([-3, -1, -1, 0])).toEqual({ count: 4, min: -3, max: 0, of: "value", histogram: { binade: -3, counts: [1, 0, 2, 1] } });
    expect(summarize([0.25, 0.3, 4, 2 ** 70])).toEqual({ count: 4, min: 0.25, max: 2 ** 70, of: "log2", histogram: { binade: -2, counts: [2, 0, 0, 0, 1, ...new Array(67).fill(0), 1] } });
  });

  it("a counter grows its window both ways", () => {
    const c = new BinadeCounter();
    for (const b of [3, 1, 5, 1]) c.add(b);
    expect(c.histogram()).toEqual({ binade: 1, counts: [2, 0, 1, 0, 1] });
  });
});
