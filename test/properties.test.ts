/**
 * Property tests on bit patterns (fast-check): encode is monotonic and lands on a neighbour,
 * exact ties go to the even code, stochastic rounding is reproducible and unbiased.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decode, encode } from "../src/dsl/semantics/scalar.ts";
import { counterRandom } from "../src/dsl/semantics/random.ts";
import type { ResolvedFormat } from "../src/dsl/resolved.ts";
import { builtin } from "./support/formats.ts";

const NON_POSIT = ["fp16", "bf16", "e5m2", "e4m3", "e4m3fnuz", "e5m2fnuz", "e3m4", "e2m3", "e3m2", "e2m1", "e8m0", "int8", "int4"];

/** Any double, from its 64-bit pattern (NaNs included). */
const anyDouble = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((bits) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
});
/** Doubles near the formats' ranges, where rounding is interesting. */
const nearRange = fc.tuple(fc.double({ min: 1, max: 2, noNaN: true }), fc.integer({ min: -30, max: 20 }), fc.boolean())
  .map(([m, e, neg]) => (neg ? -1 : 1) * m * 2 ** e);
const value = fc.oneof(anyDouble, nearRange);

/** Sorted distinct finite values of a ≤ 16-bit format, with their codes. */
function finiteGrid(format: ResolvedFormat): { value: number; code: number }[] {
  const grid = new Map<number, number>();
  for (let code = 0; code < format.codeCount; code++) {
    const v = decode(format, code);
    if (Number.isFinite(v) && !grid.has(v)) grid.set(Object.is(v, -0) ? 0 : v, code);
  }
  return [...grid].map(([v, code]) => ({ value: v, code })).sort((a, b) => a.value - b.value);
}

describe.each(NON_POSIT)("%s", (name) => {
  const format = builtin(name);
  const grid = finiteGrid(format);
  const valueOf = (x: number) => decode(format, encode(format, x));

  it("encode is monotonic", () => {
    fc.assert(
      fc.property(value, value, (x, y) => {
        if (Number.isNaN(x) || Number.isNaN(y)) return;
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const a = valueOf(lo);
        const b = valueOf(hi);
        if (!Number.isNaN(a) && !Number.isNaN(b)) expect(a).toBeLessThanOrEqual(b);
      }),
      { numRuns: 3000 },
    );
  });

  it("in range, the result is one of the two neighbours of x (and the nearer one)", () => {
    fc.assert(
      fc.property(value, (x) => {
        if (!(x >= grid[0].value && x <= grid[grid.length - 1].value)) return;
        let i = grid.findIndex((g) => g.value >= x);
        const hi = grid[i].value;
        const lo = grid[Math.max(i - 1, 0)].value;
        const got = valueOf(x) + 0; // −0 and 0 are the same neighbour
        expect([lo, hi]).toContain(got);
        if (x - lo !== hi - x) expect(got).toBe(x - lo < hi - x ? lo : hi);
      }),
      { numRuns: 3000 },
    );
  });

  it("exact ties round to the neighbour with the even code", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: grid.length - 2 }), (i) => {
        const lo = grid[i];
        const hi = grid[i + 1];
        const tie = (lo.value + hi.value) / 2;
        if (format.element.kind === "float" && !format.element.zero && tie < grid[0].value) return;
        const got = encode(format, tie);
        const gotValue = decode(format, got);
        expect([lo.value, hi.value]).toContain(Object.is(gotValue, -0) ? 0 : gotValue);
        // Even: the last bit of the integer (ints) or of the magnitude code (floats) is 0.
        const magnitude = format.element.kind === "int" ? Math.abs(gotValue * 2 ** format.element.fractionBits) : got % 2 ** (format.bits - 1);
        expect(magnitude % 2).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  if (format.element.kind !== "posit") {
    it("stochastic rounding: same seed, same bits; always a neighbour; unbiased in expectation", () => {
      const rounding = { mode: "stochastic", bits: 8 } as const;
      fc.assert(
        fc.property(fc.integer({ min: 1, max: grid.length - 2 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 2 ** 31 }), (i, k, seed) => {
          const lo = grid[i].value;
          const hi = grid[i + 1].value;
          // A point k/256 of the way from lo to hi: its fraction has ≤ 8 bits, so SR-8 is exact in expectation.
          const x = lo + ((hi - lo) * k) / 256;
          const draws = 4000;
          let sum = 0;
          for (let j = 0; j < draws; j++) {
            const code = encode(format, x, { rounding, random: counterRandom(seed, j) });
            expect(code).toBe(encode(format, x, { rounding, random: counterRandom(seed, j) }));
            const v = decode(format, code);
            expect(v === lo || v === hi).toBe(true);
            sum += v;
          }
          const p = k / 256;
          const sigma = (hi - lo) * Math.sqrt((p * (1 - p)) / draws);
          expect(Math.abs(sum / draws - x)).toBeLessThanOrEqual(5 * sigma + 1e-12 * Math.abs(x));
        }),
        { numRuns: 15 },
      );
    });
  }
});

describe("counterRandom", () => {
  it("is a pure function of (seed, index) with well-spread bits", () => {
    expect(counterRandom(7, 123)).toBe(counterRandom(7, 123));
    expect(counterRandom(7, 123)).not.toBe(counterRandom(8, 123));
    const n = 1 << 16;
    const ones = new Array<number>(32).fill(0);
    for (let i = 0; i < n; i++) {
      const r = counterRandom(42, i);
      for (let b = 0; b < 32; b++) ones[b] += (r >>> b) & 1;
    }
    for (const count of ones) expect(Math.abs(count / n - 0.5)).toBeLessThan(0.01);
  });
});
