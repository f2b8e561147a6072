/**
 * Element results that were wrong for valid specs (issue 15 and the spec-space fuzz, test/fuzz),
 * each with inputs whose codes and values follow from the spec by hand: checked in the semantics
 * and in the encode, decode and fake-quantize plans of every target (JS, wasm, WGSL), on every element.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { f32Bits } from "../../src/dsl/semantics/bits.ts";
import { codeArray } from "../../src/dsl/semantics/codes.ts";
import { decodeF32Bits, encode } from "../../src/dsl/semantics/scalar.ts";
import { resolveSpec, type WrittenElement, type WrittenSpec } from "../fuzz/resolve-spec.ts";
import { openFuzzTargets, TARGETS, type FuzzTargets } from "../fuzz/targets.ts";

let targets: FuzzTargets | undefined;
beforeAll(async () => {
  targets = await openFuzzTargets();
});
afterAll(() => targets?.close());

type Element = WrittenElement;

interface Case {
  readonly title: string;
  readonly element: Element;
  /** Inputs and the code each must encode to. */
  readonly encodes: readonly (readonly [number, number])[];
  /** Codes and the value each must decode to. */
  readonly decodes: readonly (readonly [number, number])[];
}

const spec = (element: Element): WrittenSpec => ({
  name: "adversarial",
  summary: "a regression case",
  element,
  rounding: "nearest-even",
  overflow: "saturate",
  ...(element.kind === "int" || (element.kind === "float" && element.nan === "none") ? { nanInput: "zero" as const } : {}),
  scaling: { kind: "none" },
});

const float = (fields: Partial<Extract<Element, { kind: "float" }>>): Element => ({
  kind: "float", exponentBits: 3, mantissaBits: 2, bias: 3, infinity: false, nan: "none", negativeZero: true, subnormals: false, ...fields,
});

const CASES: readonly Case[] = [
  {
    // Sign + E3M2, bias 3: min normal 2^−2 = 0.25 is code 0b0_001_00 = 4. Below it the grid is {0, 0.25}.
    title: "no subnormals: below the min normal the value rounds to 0 or to min normal (code 1 << m), not to a code far off",
    element: float({}),
    encodes: [[0.1875, 4], [0.140625, 4], [0.125, 0], [0.09375, 0], [-0.1875, 32 + 4], [-0.09375, 32], [0.25, 4], [0.3125, 5], [0.2490234375, 4]],
    decodes: [[4, 0.25], [36, -0.25], [5, 0.3125]],
  },
  {
    // Sign + E3M2, bias 3, no zero: exponent field 0 is a binade, its smallest value 2^−3 = 0.125 is code 0.
    title: "no zero, mantissa bits: everything below the smallest value encodes to it (code 0, or the sign bit), ±0 included",
    element: float({ zero: false, negativeZero: false }),
    encodes: [[0.0078125, 0], [0.09375, 0], [0.125, 0], [0.15625, 1], [0.1875, 2], [-0.0078125, 32], [-0.09375, 32], [0, 0], [-0, 32], [0.25, 4]],
    decodes: [[0, 0.125], [32, -0.125], [1, 0.15625], [4, 0.25]],
  },
  {
    // Unsigned E2M3, bias −125, IEEE: binades 2^126 and 2^127 (field 3 is ∞/NaN). 2^125·(1 + 2^−23) rounds to min normal 2^126, code 8.
    title: "no subnormals at the top of float32's range: an input just above min normal / 2 encodes to min normal",
    element: { kind: "float", signed: false, exponentBits: 2, mantissaBits: 3, bias: -125, infinity: true, nan: "ieee", negativeZero: false, subnormals: false },
    encodes: [[2 ** 125 * (1 + 2 ** -23), 8], [2 ** 125, 0], [2 ** 126, 8], [2 ** 126 * 1.125, 9]],
    decodes: [[8, 2 ** 126], [9, 2 ** 126 * 1.125]],
  },
  {
    // Sign + E3M0, bias 3: values 0, 0.25 (code 1), 0.5 (code 2), 1 (code 3)… Ties go to the even code: 0.125 to 0, 0.375 and 0.75 to 2.
    title: "no mantissa bits: the tie at min normal / 2 goes to the even code 0",
    element: float({ mantissaBits: 0, subnormals: true }),
    encodes: [[0.125, 0], [0.125 * (1 + 2 ** -23), 1], [-0.125, 8], [0.375, 2], [0.625, 2], [0.75, 2], [0.875, 3]],
    decodes: [[1, 0.25], [2, 0.5], [8, -0]],
  },
  {
    // Sign + E1M1, bias −124: subnormal 2^124 (code 1), normal 2^125 (code 2) and 1.5·2^125 (code 3).
    // The fused fake-quantize rounded below min normal with a carrier 2^(emin − m + 23) = 2^147: +∞ in float32.
    title: "subnormals near float32's top: fake-quantize below min normal equals decode(encode(x)) (the fused path's carrier overflowed)",
    element: float({ exponentBits: 1, mantissaBits: 1, bias: -124, subnormals: true }),
    encodes: [[1.25 * 2 ** 124, 1], [1.5 * 2 ** 124, 2], [-(2 ** 125) * (1 - 2 ** -24), 4 + 2], [2 ** 123, 0], [-(2 ** 123), 4], [2 ** 125 * 1.25, 2]],
    decodes: [[1, 2 ** 124], [2, 2 ** 125], [3, 1.5 * 2 ** 125]],
  },
  {
    // FNUZ-style: NaN is the code 1000…0, whose decoded value is the quiet NaN with the sign bit set.
    title: "nan \"negative-zero\": a NaN input fake-quantizes to the NaN code's value, sign bit included (WGSL folded the constant to +NaN)",
    element: float({ exponentBits: 4, mantissaBits: 3, bias: 8, nan: "negative-zero", negativeZero: false, subnormals: true }),
    encodes: [[Number.NaN, 128], [-0, 0], [1, 0x40]],
    decodes: [[128, Number.NaN], [0x40, 1]],
  },
  {
    title: "int8 symmetric: the code it leaves out (128) decodes to its most negative value −127, not −128",
    element: { kind: "int", bits: 8, signed: true, range: "symmetric" },
    encodes: [[-128, 129], [-127.375, 129], [127, 127]],
    decodes: [[128, -127], [129, -127], [127, 127]],
  },
  {
    title: "int4 symmetric (ShiftQuant's element): code 8 decodes to −7",
    element: { kind: "int", bits: 4, signed: true, range: "symmetric" },
    encodes: [[-8, 9], [-7, 9]],
    decodes: [[8, -7], [9, -7], [7, 7]],
  },
  {
    // Wider than 8 bits, so decode is lowered as an expression rather than read from a table.
    title: "int12 symmetric with 3 fraction bits: code 2048 decodes to −2047/8",
    element: { kind: "int", bits: 12, signed: true, range: "symmetric", fractionBits: 3 },
    encodes: [[-256, 2049], [-255.875, 2049]],
    decodes: [[2048, -2047 / 8], [2049, -2047 / 8], [2047, 2047 / 8]],
  },
];

const hex = (bits: number) => `0x${(bits >>> 0).toString(16).padStart(8, "0")}`;
/** The bits of float32 results (read as bits: a NaN read as a number may lose its sign). */
const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

function resolved(element: Element): ResolvedFormat {
  const r = resolveSpec(spec(element));
  if (!("format" in r)) throw new Error(`the spec does not resolve: ${r.reason}`);
  return r.format;
}

describe("element regressions", () => {
  for (const c of CASES) {
    describe(c.title, () => {
      const format = resolved(c.element);
      const x = Float32Array.from(c.encodes, ([v]) => v);
      const codes = codeArray(format.bits, c.decodes.length);
      codes.set(c.decodes.map(([code]) => code));
      const wantCodes = c.encodes.map(([, code]) => code);
      // A NaN code's value is the quiet NaN carrying the code's top bit (decodeF32Bits); the others are exact.
      const valueBits = (code: number, v: number) => hex(Number.isNaN(v) ? 0x7fc00000 | (code >= 2 ** (format.bits - 1) ? 0x80000000 : 0) : f32Bits(v));
      const wantValues = c.decodes.map(([code, v]) => valueBits(code, v));
      // decode(encode(x)): the value of each expected code, by the semantics' decode (checked above on the decode cases).
      const wantFake = wantCodes.map((code) => hex(decodeF32Bits(format, code)));

      it("the inputs are float32s, and the semantics give the codes and values", () => {
        expect(Array.from(x)).toEqual(c.encodes.map(([v]) => v));
        expect(Array.from(x, (v) => encode(format, v))).toEqual(wantCodes);
        expect(Array.from(codes, (code) => hex(decodeF32Bits(format, code)))).toEqual(wantValues);
      });

      it("every target's encode, decode and fake-quantize plans give them too", async () => {
        if (targets === undefined) throw new Error("the targets did not open");
        const compiled = await targets.compile(format);
        for (const target of TARGETS) {
          const encoded = await compiled.run[target](compiled.plans.encode, { x }, {});
          expect(Array.from(encoded.outputs.codes), `${target} encode`).toEqual(wantCodes);
          const decoded = (await compiled.run[target](compiled.plans.decode, { codes }, {})).outputs.values as Float32Array;
          expect(Array.from(bitsOf(decoded), hex), `${target} decode`).toEqual(wantValues);
          const faked = (await compiled.run[target](compiled.plans.fakeQuantize, { x }, {})).outputs.values as Float32Array;
          expect(Array.from(bitsOf(faked), hex), `${target} fakeQuantize`).toEqual(wantFake);
        }
      });
    });
  }
});
