/**
 * Posit conformance: dsl/semantics/posit against SoftPosit's vectors (exact, zero
 * mismatches), plus exhaustive and property-based checks of the invariants the rest of the
 * project relies on (round trip, monotonicity, rounding to a neighbour, ties on the pattern).
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { decodePosit, encodePosit, positProperties } from "../src/dsl/semantics/posit.ts";
import {
  float64Bits,
  float64FromBits,
  loadReference,
  numberField,
  stringField,
} from "./support/reference.ts";

interface Format {
  readonly name: string;
  readonly n: number;
  readonly es: number;
}

const FORMATS: readonly Format[] = [
  { name: "posit8_es0", n: 8, es: 0 },
  { name: "posit8_es2", n: 8, es: 2 },
  { name: "posit16_es1", n: 16, es: 1 },
  { name: "posit16_es2", n: 16, es: 2 },
  { name: "posit32_es2", n: 32, es: 2 },
];
const SMALL_FORMATS = FORMATS.filter((f) => f.n <= 16);

const signedCode = (code: number, n: number): number => (code >= 2 ** (n - 1) ? code - 2 ** n : code);
const unsignedCode = (s: number, n: number): number => (s < 0 ? s + 2 ** n : s);
const hex = (code: number, n: number): string => `0x${code.toString(16).padStart(Math.ceil(n / 4), "0")}`;

/** Fails with the number of mismatches and the first few, so a regression is diagnosable. */
function expectNoMismatches(what: string, mismatches: readonly string[], total: number): void {
  const head = mismatches.slice(0, 8).join("\n  ");
  expect(mismatches.length, `${what}: ${mismatches.length} of ${total} mismatch; first:\n  ${head}`).toBe(0);
}

/** Doubles from their bit patterns, so NaN payloads, −0 and subnormals are all reachable. */
const doubleFromBigBits = (bits: bigint): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
};
/** Any 64-bit pattern, or one whose exponent lies near the posit ranges (|log2 x| ≤ 140). */
const anyDoubleBits = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc
    .tuple(fc.boolean(), fc.integer({ min: 1023 - 140, max: 1023 + 140 }), fc.bigInt({ min: 0n, max: 2n ** 52n - 1n }))
    .map(([neg, e, m]) => ((neg ? 1n : 0n) << 63n) | (BigInt(e) << 52n) | m),
);
const anyDouble = anyDoubleBits.map(doubleFromBigBits);

describe("posit semantics vs SoftPosit reference vectors", () => {
  for (const f of FORMATS) {
    describe(f.name, () => {
      const decodeFile = loadReference(`${f.name}_decode`);
      const encodeFile = loadReference(`${f.name}_encode`);

      it("header constants agree with positProperties", () => {
        for (const file of [decodeFile, encodeFile]) {
          const header = file["format"] as Record<string, unknown>;
          expect(header["nbits"]).toBe(f.n);
          expect(header["es"]).toBe(f.es);
          const props = positProperties(f.n, f.es);
          expect(header["maxpos"]).toBe(props.maxPos);
          expect(header["minpos"]).toBe(props.minPos);
          expect(header["nar_code"]).toBe(2 ** (f.n - 1));
          expect(props.useedLog2).toBe(2 ** f.es);
        }
      });

      it(`decode matches every vector exactly`, () => {
        if (f.n <= 16) {
          // Exhaustive files must really be exhaustive.
          const codes = new Set(decodeFile.vectors.map((v) => numberField(v, "code")));
          expect(codes.size).toBe(2 ** f.n);
        }
        const mismatches: string[] = [];
        for (const v of decodeFile.vectors) {
          const code = numberField(v, "code");
          const got = decodePosit(f.n, f.es, code);
          if (v["nar"] === true) {
            if (code !== 2 ** (f.n - 1) || v["value"] !== null || !Number.isNaN(got)) {
              mismatches.push(`${hex(code, f.n)}: NaR vector, got ${got}`);
            }
            continue;
          }
          const expected = float64FromBits(stringField(v, "softposit_double_bits"));
          // The decimal must describe the same double; the bits are what we compare.
          if (numberField(v, "value") !== expected) mismatches.push(`${hex(code, f.n)}: fixture value/bits disagree`);
          if (!Object.is(got, expected)) {
            mismatches.push(`${hex(code, f.n)}: expected ${expected} (${float64Bits(expected)}), got ${got} (${float64Bits(got)})`);
          }
        }
        expectNoMismatches(`${f.name} decode`, mismatches, decodeFile.count);
      });

      it(`encode matches every vector exactly`, () => {
        const mismatches: string[] = [];
        for (const v of encodeFile.vectors) {
          const bits = stringField(v, "x_bits");
          const x = float64FromBits(bits); // the decimal `x` may not round-trip; the bits do
          const expected = numberField(v, "code");
          const got = encodePosit(f.n, f.es, x);
          if (got !== expected) {
            mismatches.push(`x=${x} (${bits}, ${String(v["kind"])}): expected ${hex(expected, f.n)}, got ${hex(got, f.n)}`);
          }
        }
        expectNoMismatches(`${f.name} encode`, mismatches, encodeFile.count);
      });

      it("encode∘decode is the identity on the fixture's decode codes", () => {
        const mismatches: string[] = [];
        for (const v of decodeFile.vectors) {
          if (v["nar"] === true) continue;
          const code = numberField(v, "code");
          const back = encodePosit(f.n, f.es, decodePosit(f.n, f.es, code));
          if (back !== code) mismatches.push(`${hex(code, f.n)} → ${hex(back, f.n)}`);
        }
        expectNoMismatches(`${f.name} round trip`, mismatches, decodeFile.count);
      });
    });
  }
});

describe("posit semantics: exhaustive invariants of the 8- and 16-bit formats", () => {
  for (const f of SMALL_FORMATS) {
    const maxSigned = 2 ** (f.n - 1) - 1;

    it(`${f.name}: encode(decode(c)) === c for every non-NaR code`, () => {
      const mismatches: string[] = [];
      for (let code = 0; code < 2 ** f.n; code++) {
        if (code === 2 ** (f.n - 1)) continue;
        const back = encodePosit(f.n, f.es, decodePosit(f.n, f.es, code));
        if (back !== code) mismatches.push(`${hex(code, f.n)} → ${hex(back, f.n)}`);
      }
      expectNoMismatches(`${f.name} round trip`, mismatches, 2 ** f.n - 1);
    });

    it(`${f.name}: decode is strictly increasing in signed code order, odd, minpos/maxpos at the ends`, () => {
      const mismatches: string[] = [];
      let previous = -Infinity;
      for (let s = -maxSigned; s <= maxSigned; s++) {
        const value = decodePosit(f.n, f.es, unsignedCode(s, f.n));
        if (!(value > previous)) mismatches.push(`signed ${s}: ${value} after ${previous}`);
        if (!Object.is(decodePosit(f.n, f.es, unsignedCode(-s, f.n)), -value) && s !== 0) {
          mismatches.push(`signed ${s}: decode(−c) ≠ −decode(c)`);
        }
        previous = value;
      }
      expectNoMismatches(`${f.name} monotonicity`, mismatches, 2 ** f.n - 1);
      const { maxPos, minPos } = positProperties(f.n, f.es);
      expect(decodePosit(f.n, f.es, maxSigned)).toBe(maxPos);
      expect(decodePosit(f.n, f.es, 1)).toBe(minPos);
      expect(Object.is(decodePosit(f.n, f.es, 0), 0)).toBe(true);
    });
  }
});

describe("posit semantics: special values and the pattern tie rule", () => {
  it("NaN and ±Inf encode to NaR, ±0 to 0, and NaR decodes to NaN", () => {
    for (const f of FORMATS) {
      const nar = 2 ** (f.n - 1);
      for (const x of [NaN, Infinity, -Infinity, doubleFromBigBits(0xfff8000000000123n)]) {
        expect(encodePosit(f.n, f.es, x)).toBe(nar);
      }
      expect(encodePosit(f.n, f.es, 0)).toBe(0);
      expect(encodePosit(f.n, f.es, -0)).toBe(0);
      expect(decodePosit(f.n, f.es, nar)).toBeNaN();
      // Never rounds to zero, never overflows to NaR.
      expect(encodePosit(f.n, f.es, Number.MIN_VALUE)).toBe(1);
      expect(encodePosit(f.n, f.es, -Number.MIN_VALUE)).toBe(2 ** f.n - 1);
      expect(encodePosit(f.n, f.es, Number.MAX_VALUE)).toBe(nar - 1);
      expect(encodePosit(f.n, f.es, -Number.MAX_VALUE)).toBe(nar + 1);
    }
  });

  it("posit<8,2>: the tie between 2^20 (0x7e) and maxpos 2^24 is 2^22, not their mean", () => {
    // 0x7e = 0|111111|0 has no room for exponent bits; the 9-bit pattern 0|111111|0|1 between
    // it and 0x7f reads its exponent as 10₂, i.e. 2^22. Ties go to the even pattern 0x7e.
    expect(decodePosit(8, 2, 0x7e)).toBe(2 ** 20);
    expect(decodePosit(8, 2, 0x7f)).toBe(2 ** 24);
    expect(encodePosit(8, 2, 2 ** 22)).toBe(0x7e);
    expect(encodePosit(8, 2, 2 ** 22 * (1 + 2 ** -52))).toBe(0x7f);
    expect(encodePosit(8, 2, (2 ** 20 + 2 ** 24) / 2)).toBe(0x7f);
    expect(encodePosit(8, 2, -(2 ** 22))).toBe(0x82);
  });

  it("powers of two used by the semantics are exact doubles (engine assumption)", () => {
    for (let e = -1074; e <= 1023; e++) {
      const expected = e >= -1022 ? BigInt(e + 1023) << 52n : 1n << BigInt(e + 1074);
      expect(float64Bits(2 ** e)).toBe(`0x${expected.toString(16).padStart(16, "0")}`);
    }
  });

  it("rejects formats outside float64 and codes outside the word", () => {
    expect(() => decodePosit(1, 0, 0)).toThrow(RangeError);
    expect(() => decodePosit(33, 0, 0)).toThrow(RangeError);
    expect(() => decodePosit(8, -1, 0)).toThrow(RangeError);
    expect(() => decodePosit(8, 0.5, 0)).toThrow(RangeError);
    expect(() => positProperties(32, 6)).toThrow(RangeError); // 30·64 > 1023
    expect(positProperties(32, 5).maxPos).toBe(2 ** 960);
    expect(() => decodePosit(8, 0, 256)).toThrow(RangeError);
    expect(() => decodePosit(8, 0, -1)).toThrow(RangeError);
    expect(() => decodePosit(8, 0, 1.5)).toThrow(RangeError);
    expect(() => encodePosit(40, 0, 1)).toThrow(RangeError);
  });
});

/** Any supported (n, es) with n ≤ 31, so that posit⟨n+1, es⟩ (the tie points) is supported too. */
const formatArb = fc
  .integer({ min: 2, max: 31 })
  .chain((n) => fc.record({ n: fc.constant(n), es: fc.integer({ min: 0, max: Math.floor(Math.log2(1023 / Math.max(n - 1, 1))) }) }));

/**
 * Independent statement of the rounding rule in terms of decode only: between neighbours
 * lo < hi the tie point is the (n+1)-bit posit 2·lo+1; below it → lo, above → hi, at it → even.
 */
function expectedPositiveBody(n: number, es: number, a: number): number {
  const { maxPos, minPos } = positProperties(n, es);
  if (a >= maxPos) return 2 ** (n - 1) - 1;
  if (a <= minPos) return 1;
  // Binary search for lo: the largest body whose value is ≤ a.
  let lo = 1;
  let hi = 2 ** (n - 1) - 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (decodePosit(n, es, mid) <= a) lo = mid;
    else hi = mid;
  }
  if (decodePosit(n, es, lo) === a) return lo;
  const tie = decodePosit(n + 1, es, 2 * lo + 1);
  if (a < tie) return lo;
  if (a > tie) return lo + 1;
  return lo % 2 === 0 ? lo : lo + 1;
}

describe("posit semantics: properties on random double bit patterns", () => {
  it("encode is monotonic: x ≤ y ⇒ signed(encode(x)) ≤ signed(encode(y))", () => {
    // Independent pairs, and pairs a few ulps apart (where rounding boundaries are crossed).
    const pairs = fc.oneof(
      fc.tuple(anyDouble, anyDouble),
      fc
        .tuple(anyDoubleBits, fc.bigInt({ min: 0n, max: 4096n }))
        .map(([b, k]): [number, number] => [doubleFromBigBits(b), doubleFromBigBits((b + k) % 2n ** 64n)]),
    );
    fc.assert(
      fc.property(pairs, ([p, q]) => {
        if (Number.isNaN(p) || Number.isNaN(q)) return;
        const [x, y] = p <= q ? [p, q] : [q, p];
        for (const f of FORMATS) {
          // NaR (from ±Inf) sorts below everything in signed order, so compare finite only.
          if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
          const cx = signedCode(encodePosit(f.n, f.es, x), f.n);
          const cy = signedCode(encodePosit(f.n, f.es, y), f.n);
          expect(cx, `${f.name}: x=${x} y=${y}`).toBeLessThanOrEqual(cy);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("encode returns one of the two neighbouring posits of x, with x's sign", () => {
    fc.assert(
      fc.property(anyDouble, (x) => {
        for (const f of FORMATS) {
          const code = encodePosit(f.n, f.es, x);
          if (!Number.isFinite(x)) {
            expect(code).toBe(2 ** (f.n - 1));
            continue;
          }
          const v = decodePosit(f.n, f.es, code);
          const s = signedCode(code, f.n);
          const maxSigned = 2 ** (f.n - 1) - 1;
          const where = `${f.name}: x=${x} (${float64Bits(x)}) → ${hex(code, f.n)} = ${v}`;
          expect(Math.sign(v), where).toBe(Math.sign(x));
          if (v < x && s < maxSigned) expect(decodePosit(f.n, f.es, unsignedCode(s + 1, f.n)), where).toBeGreaterThan(x);
          if (v > x && s > -maxSigned) expect(decodePosit(f.n, f.es, unsignedCode(s - 1, f.n)), where).toBeLessThan(x);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("ties are decided on the bit pattern: agrees with the (n+1)-bit tie-point oracle", () => {
    const narrow = FORMATS.filter((f) => f.n < 32);
    fc.assert(
      fc.property(anyDouble, (x) => {
        if (!Number.isFinite(x) || x === 0) return;
        for (const f of narrow) {
          const body = expectedPositiveBody(f.n, f.es, Math.abs(x));
          const expected = x < 0 ? 2 ** f.n - body : body;
          expect(encodePosit(f.n, f.es, x), `${f.name}: x=${x} (${float64Bits(x)})`).toBe(expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("tie points themselves, and one ulp either side, round as the oracle says", () => {
    const tieCase = fc.record({ f: formatArb, u: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), side: fc.integer({ min: -1, max: 1 }) });
    fc.assert(
      fc.property(tieCase, ({ f: { n, es }, u, side }) => {
        const maxBody = 2 ** (n - 1) - 1;
        if (maxBody < 2) return; // n = 2 has a single positive posit: no ties
        const lo = 1 + Math.floor(u * (maxBody - 1)); // 1 ≤ lo < maxBody
        const tie = decodePosit(n + 1, es, 2 * lo + 1);
        const x = side === 0 ? tie : side > 0 ? tie * (1 + 2 ** -52) : tie * (1 - 2 ** -53);
        const where = `posit<${n},${es}> lo=${lo} tie=${tie} side=${side}`;
        const want = side < 0 ? lo : side > 0 ? lo + 1 : lo % 2 === 0 ? lo : lo + 1;
        expect(encodePosit(n, es, x), where).toBe(want);
        expect(encodePosit(n, es, -x), where).toBe(2 ** n - want);
      }),
      { numRuns: 3000 },
    );
  });

  it("for random formats, decode is exact and inverted by encode, strictly increasing, and bounded by minPos/maxPos", () => {
    const anyFormat = fc
      .integer({ min: 2, max: 32 })
      .chain((n) => fc.record({ n: fc.constant(n), es: fc.integer({ min: 0, max: Math.floor(Math.log2(1023 / Math.max(n - 2, 1))) }) }));
    fc.assert(
      fc.property(anyFormat, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), ({ n, es }, u) => {
        const maxSigned = 2 ** (n - 1) - 1;
        const s = -maxSigned + Math.floor(u * 2 * maxSigned); // −maxSigned ≤ s < maxSigned
        const code = unsignedCode(s, n);
        const next = unsignedCode(s + 1, n);
        const v = decodePosit(n, es, code);
        const where = `posit<${n},${es}> code ${hex(code, n)} = ${v}`;
        expect(encodePosit(n, es, v), where).toBe(code);
        expect(decodePosit(n, es, next), where).toBeGreaterThan(v);
        const { maxPos, minPos } = positProperties(n, es);
        expect(decodePosit(n, es, maxSigned), where).toBe(maxPos);
        expect(decodePosit(n, es, 1), where).toBe(minPos);
        expect(Math.abs(v) <= maxPos && (v === 0 || Math.abs(v) >= minPos), where).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
