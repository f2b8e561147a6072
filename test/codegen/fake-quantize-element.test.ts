/**
 * The fused fake-quantize element (lower/fake-element.ts) against the semantics, bit for bit:
 * fake_quantize_elements of every built-in format under every rounding and overflow mode gives
 * decodeF32Bits(encode(x)) — on the JS target, the IR interpreter, and wasm with and without
 * SIMD (every tail length at unaligned positions) — for 2·10^4 random float32 bit patterns, the
 * format's ties and bands, NaNs of both signs, and, for the 8-bit formats on a fast path, every
 * float32 high half with the low halves at and one ulp around every tie (bf16 too: it is rounded on
 * the bit pattern, ties at bit 15). Formats whose element
 * encodings are equal (S2FP8 and E5M2, say) are tested once.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import { fusedRounding } from "../../src/codegen/lower/fake-element.ts";
import { lowerUnscaled } from "../../src/scaling/none/lower.ts";
import type { ResolvedFormat, Rounding } from "../../src/dsl/resolved.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { decodeF32Bits, encode } from "../../src/dsl/semantics/scalar.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { acceptsStochastic, builtin, builtinNames } from "../support/formats.ts";
import { edgeInputs, randomBitPatterns } from "../support/inputs.ts";

const SEED = 4242;
const RANDOM = randomBitPatterns(20_000, 77);

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

/**
 * Every float32 high half with low half 0, 1 and 0xffff: for an 8-bit format every tie lies at a
 * bit ≥ 16, so this holds each tie exactly and one ulp above and below it. A format rounded on
 * the bit pattern at bit 16 (bf16) has its ties at low half 0x8000: `ties16` adds it and its neighbours.
 */
function highHalves(ties16 = false): Float32Array {
  const lows = ties16 ? [0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff] : [0x0000, 0x0001, 0xffff];
  const bits = new Uint32Array(65536 * lows.length);
  for (let high = 0; high < 65536; high++) for (let k = 0; k < lows.length; k++) bits[high * lows.length + k] = ((high << 16) | lows[k]) >>> 0;
  return new Float32Array(bits.buffer);
}

/** NaNs of both signs with assorted payloads, signed zeros, infinities, the float32 extremes. */
const SPECIALS = new Float32Array(Uint32Array.of(0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff, 0x7fa00000, 0, 0x80000000, 0x7f800000, 0xff800000, 0x7f7fffff, 0xff7fffff, 1, 0x80000001, 0x007fffff, 0x00800000).buffer);

const expected = (format: ResolvedFormat, x: Float32Array) =>
  Uint32Array.from(x, (v, i) => decodeF32Bits(format, encode(format, v, { random: format.rounding.mode === "stochastic" ? counterRandom(SEED, i) : undefined })));

function run(kernel: (...args: never[]) => void, x: Float32Array): Float32Array {
  const values = new Float32Array(x.length);
  (kernel as (...args: unknown[]) => void)(x, values, x.length, SEED);
  return values;
}

function mismatches(x: Float32Array, got: Float32Array, want: Uint32Array): string[] {
  const bits = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const bad: string[] = [];
  for (let i = 0; i < x.length && bad.length < 5; i++)
    if (bits[i] !== want[i]) bad.push(`x=${x[i]} (0x${new Uint32Array(x.buffer, x.byteOffset + 4 * i, 1)[0].toString(16)}) → 0x${bits[i].toString(16)}, want 0x${want[i].toString(16)}`);
  return bad;
}

/** Whether the fake-quantize element of `format` takes a fast path (fused float rounding, or an integer's clamped value). */
const fast = (format: ResolvedFormat) => fusedRounding(format) !== null || format.element.kind === "int";

/**
 * The formats under test: every built-in one, and each under the other roundings and (floats) the
 * other overflow, one per distinct element encoding (the element kernels ignore the scaling).
 */
function variants(): ResolvedFormat[] {
  const out = new Map<string, ResolvedFormat>();
  const add = (format: ResolvedFormat) => {
    const { element, rounding, overflow, nanInput, codes } = format;
    const key = JSON.stringify({ element, rounding, overflow, nanInput, codes });
    if (!out.has(key)) out.set(key, format);
  };
  const roundings: readonly Rounding[] = [{ mode: "nearest-even", bits: 0 }, { mode: "toward-zero", bits: 0 }, { mode: "nearest-away", bits: 0 }, { mode: "stochastic", bits: 11 }];
  for (const name of builtinNames) {
    const format = builtin(name);
    add(format);
    if (format.element.kind === "posit") continue;
    for (const rounding of roundings) if (rounding.mode !== format.rounding.mode && (rounding.mode !== "stochastic" || acceptsStochastic(format))) add({ ...format, name: `${name}-${rounding.mode}`, rounding });
    // Stochastic rounding with fewer, as many and more random bits than the dropped ones (bf16 drops 16, fp16 13, e4m3 20), up to the fused path's 24.
    if (["bf16", "fp16", "e4m3"].includes(name)) for (const bits of [1, 16, 24]) add({ ...format, name: `${name}-stochastic${bits}`, rounding: { mode: "stochastic", bits } });
    const overflow = format.overflow === "saturate" ? "infinity" : "saturate";
    if (format.element.kind === "float") add({ ...format, name: `${name}-overflow-${overflow}`, overflow });
  }
  return [...out.values()];
}

const FORMATS = variants();

describe("which formats take the fused float path", () => {
  it("signed float formats with subnormals under nearest-even or stochastic rounding, bf16 wholly on the bit pattern; not posits, E8M0 or other roundings", () => {
    const fused = (name: string, changes: Partial<ResolvedFormat> = {}) => fusedRounding({ ...builtin(name), ...changes }) !== null;
    for (const name of ["e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e2m1", "fp16", "s2fp8", "bf16"]) expect(fused(name), name).toBe(true);
    expect(fused("e5m2", { overflow: "saturate" }) && fused("e4m3", { overflow: "infinity" })).toBe(true);
    expect(fusedRounding(builtin("bf16"))?.onBits).toBe(true);
    expect(fusedRounding(builtin("fp16"))?.onBits).toBe(false);
    for (const name of ["posit8", "e8m0", "int8", "fp32"]) expect(fused(name), name).toBe(false);
    expect(fused("e4m3", { rounding: { mode: "stochastic", bits: 8 } }) && fused("bf16", { rounding: { mode: "stochastic", bits: 16 } })).toBe(true);
    expect(fused("e4m3", { rounding: { mode: "stochastic", bits: 25 } }) || fused("e4m3", { rounding: { mode: "toward-zero", bits: 0 } })).toBe(false);
    expect(FORMATS.filter(fast).length).toBeGreaterThan(20);
  });

  it("the sign is put back apart from the magnitude where overflow keeps x's sign and zero and NaN keep it or ignore it; not where overflow gives an unsigned NaN", () => {
    const apart = (name: string, changes: Partial<ResolvedFormat> = {}) => fusedRounding({ ...builtin(name), ...changes })?.signApart;
    // Saturating and to-infinity formats, a NaN-less one (NaN gives +0), unsigned zero and NaN (fnuz).
    for (const name of ["e4m3", "e5m2", "fp16", "bf16", "e2m1", "e4m3fnuz"]) expect(apart(name), name).toBe(true);
    expect(apart("e4m3", { overflow: "infinity" })).toBe(true);
    // Overflow to ∞ where the format has none gives its NaN: one for both signs in E4M3FNUZ, +0 in E2M1.
    expect(apart("e4m3fnuz", { overflow: "infinity" })).toBe(false);
    expect(apart("e2m1", { overflow: "infinity" })).toBe(false);
    // Both tails are under test below.
    expect(FORMATS.some((f) => fusedRounding(f)?.signApart === false) && FORMATS.some((f) => fusedRounding(f)?.signApart === true)).toBe(true);
  });
});

for (const format of FORMATS.filter(fast)) {
  describe(format.name, () => {
    const kernels = lowerUnscaled(format).kernels.filter((k) => k.name === "fake_quantize_elements");
    const module = { kernels };
    // The overflow variants differ only in the overflow band, which edgeInputs covers.
    const onBits16 = fusedRounding(format)?.onBits === true && fusedRounding(format)?.mantissaBits === 7;
    const everyHighHalf = (format.bits <= 8 || onBits16) && format.rounding.mode !== "stochastic" && !format.name.includes("-overflow-");
    const inputs = () => {
      const parts = [RANDOM, edgeInputs(format), SPECIALS, ...(everyHighHalf ? [highHalves(onBits16)] : [])];
      // An odd total length, so the vector loops end in a scalar tail.
      const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0) | 1);
      let at = 0;
      for (const p of parts) (all.set(p, at), (at += p.length));
      return all;
    };

    it("JS, wasm SIMD and wasm scalar equal decode(encode(x)) of the semantics", () => {
      const x = inputs();
      const want = expected(format, x);
      expect(mismatches(x, run(loadJs(module).fake_quantize_elements, x), want), "JS").toEqual([]);
      const simd = compileWasmWith(assembler, module);
      expect(simd.loops.every((l) => l.vectorized), "the element loop vectorizes").toBe(true);
      expect(mismatches(x, run(instantiateWasm(simd).kernels.fake_quantize_elements, x), want), "wasm SIMD").toEqual([]);
      expect(mismatches(x, run(instantiateWasm(compileWasmWith(assembler, module, { vectorize: false })).kernels.fake_quantize_elements, x), want), "wasm scalar").toEqual([]);
    });

    it("the IR interpreter equals the semantics", () => {
      const x = Float32Array.from([...SPECIALS, ...RANDOM.subarray(0, 2000), ...edgeInputs(format).subarray(0, 500)]);
      const values = new Float32Array(x.length);
      interpret(kernels[0], { x, values, n: x.length, seed: SEED });
      expect(mismatches(x, values, expected(format, x))).toEqual([]);
    });

    it("wasm SIMD at raw unaligned offsets, every tail length 0–7", () => {
      const set = instantiateWasm(compileWasmWith(assembler, module));
      const source = Float32Array.from([...SPECIALS, ...RANDOM.subarray(0, 64)]);
      for (let n = 0; n < 8; n++)
        for (const skew of [1, 2, 3]) {
          const x = source.subarray(skew, skew + 16 + n);
          const mark = set.heap.mark();
          const xAt = set.heap.alloc(4 * x.length + 16) + 4 * skew;
          const valuesAt = set.heap.alloc(4 * x.length + 16) + 4 * (3 - skew);
          set.heap.write(xAt, x);
          set.raw.fake_quantize_elements(xAt, valuesAt, x.length, SEED);
          const values = new Float32Array(x.length);
          set.heap.read(valuesAt, values);
          set.heap.release(mark);
          // Element i's stochastic draw is keyed by its index, so the expectation is computed for this slice.
          expect(mismatches(x, values, expected(format, x)), `n=${16 + n} skew=${skew}`).toEqual([]);
        }
    });
  });
}

describe("10^5 random float32 bit patterns through both tails of the fused path", () => {
  // The sign put back apart (saturating, to ∞, NaN-less, unsigned zero and NaN) and the select-by-sign tail (overflow to an unsigned NaN).
  const cases: readonly [string, Partial<ResolvedFormat>][] = [
    ["e4m3", {}],
    ["e2m1", {}],
    ["fp16", {}],
    ["bf16", {}],
    ["e4m3fnuz", {}],
    ["e5m2", { overflow: "infinity" }],
    ["e4m3fnuz", { overflow: "infinity" }],
    ["e2m1", { overflow: "infinity" }],
  ];
  const x = randomBitPatterns(100_000, 2026);
  for (const [name, changes] of cases) {
    const format = { ...builtin(name), ...changes };
    it(`${name}${changes.overflow === undefined ? "" : `, overflow ${changes.overflow}`}: wasm SIMD and JS equal the semantics (sign apart: ${fusedRounding(format)?.signApart})`, () => {
      const module = { kernels: lowerUnscaled(format).kernels.filter((k) => k.name === "fake_quantize_elements") };
      const want = expected(format, x);
      expect(mismatches(x, run(instantiateWasm(compileWasmWith(assembler, module)).kernels.fake_quantize_elements, x), want), "wasm SIMD").toEqual([]);
      expect(mismatches(x, run(loadJs(module).fake_quantize_elements, x), want), "JS").toEqual([]);
    });
  }
});

describe("the other formats compose encode and decode", () => {
  it("JS fake_quantize_elements equals the semantics on ties, bands, specials and random patterns", () => {
    const others = FORMATS.filter((f) => !fast(f));
    expect(others.length).toBeGreaterThan(10);
    for (const format of others) {
      const x = Float32Array.from([...SPECIALS, ...RANDOM.subarray(0, 2000), ...edgeInputs(format).filter((_, i) => i % 17 === 0)]);
      const kernel = loadJs({ kernels: lowerUnscaled(format).kernels.filter((k) => k.name === "fake_quantize_elements") }).fake_quantize_elements;
      expect(mismatches(x, run(kernel, x), expected(format, x)), format.name).toEqual([]);
    }
  });
});
