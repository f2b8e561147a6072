/**
 * The checks every format's wasm element kernels must pass, shared by the per-kind test files:
 * bit-identical to the semantics and to the JS target on 10^5 random float32 bit patterns,
 * ties and bands, every code, stochastic rounding with the same seed, and on every tail length
 * 0–7 at unaligned positions, both through the copying API and at raw unaligned byte offsets.
 */
import { describe, expect, it } from "vitest";
import { decodeF32Bits, encode } from "../../../src/dsl/semantics/scalar.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";
import { codeArray } from "../../../src/dsl/semantics/codes.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import type { WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm, type WasmKernelSet } from "../../../src/targets/wasm/load.ts";
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { edgeInputs, randomBitPatterns } from "../../support/inputs.ts";

const RANDOM_INPUTS = randomBitPatterns(100_000, 2024);
const SEED = 12345;
const bitsOf = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** Whether the format's element kernels lower at all (posit lowering may still be in progress). */
export function lowers(format: ResolvedFormat): boolean {
  try {
    lowerEncodeElements(format);
    lowerDecodeElements(format);
    return true;
  } catch {
    return false;
  }
}

/** Registers the checks for one format (with the assembler created by the test file). */
export function checkWasmElementKernels(format: ResolvedFormat, label: string, assembler: () => WasmAssembler): void {
  const stochastic = format.rounding.mode === "stochastic";
  const module = { kernels: [lowerEncodeElements(format), lowerDecodeElements(format)] };
  const js = loadJs(module);
  let cached: { simd: WasmKernelSet; scalar: WasmKernelSet } | undefined;
  const wasm = () => {
    cached ??= {
      simd: instantiateWasm(compileWasmWith(assembler(), module)),
      scalar: instantiateWasm(compileWasmWith(assembler(), module, { vectorize: false })),
    };
    return cached;
  };
  const want = (x: Float32Array) =>
    Array.from(x, (v, i) => encode(format, v, { random: stochastic ? counterRandom(SEED, i) : undefined }));
  const encodeWith = (set: WasmKernelSet, x: Float32Array) => {
    const codes = codeArray(format.bits, x.length);
    set.kernels.encode_elements(x, codes, x.length, SEED);
    return codes;
  };
  const mismatches = (x: Float32Array, got: ArrayLike<number>, expected: readonly number[]) => {
    const bad: string[] = [];
    for (let i = 0; i < x.length && bad.length < 5; i++) if (got[i] !== expected[i]) bad.push(`x=${x[i]} (#${i}) → ${got[i]}, want ${expected[i]}`);
    return bad;
  };

  describe(label, () => {
    it("encodes 10^5 random float32 bit patterns as the semantics and the JS target (SIMD and scalar)", () => {
      const expected = want(RANDOM_INPUTS);
      const viaJs = codeArray(format.bits, RANDOM_INPUTS.length);
      js.encode_elements(RANDOM_INPUTS, viaJs, RANDOM_INPUTS.length, SEED);
      expect(mismatches(RANDOM_INPUTS, viaJs, expected)).toEqual([]);
      expect(mismatches(RANDOM_INPUTS, encodeWith(wasm().simd, RANDOM_INPUTS), expected)).toEqual([]);
      expect(mismatches(RANDOM_INPUTS, encodeWith(wasm().scalar, RANDOM_INPUTS), expected)).toEqual([]);
    });

    it("encodes ties, overflow and underflow bands as the semantics", () => {
      const inputs = edgeInputs(format);
      expect(inputs.length).toBeGreaterThan(20);
      expect(mismatches(inputs, encodeWith(wasm().simd, inputs), want(inputs))).toEqual([]);
    });

    it("decodes every code (or 2^16 random codes) to the semantics' float32 bits, as the JS target", () => {
      const count = format.bits <= 16 ? format.codeCount : 1 << 16;
      const codes = codeArray(format.bits, count);
      for (let i = 0; i < count; i++) codes[i] = format.bits <= 16 ? i : counterRandom(77, i);
      const expected = Array.from(codes, (c) => decodeF32Bits(format, c));
      const viaJs = new Float32Array(count);
      js.decode_elements(codes, viaJs, count);
      for (const set of [wasm().simd, wasm().scalar]) {
        const out = new Float32Array(count);
        set.kernels.decode_elements(codes, out, count);
        const bits = bitsOf(out);
        const bad: string[] = [];
        for (let i = 0; i < count && bad.length < 5; i++) if (bits[i] !== expected[i]) bad.push(`code ${codes[i]}: ${bits[i].toString(16)} vs ${expected[i].toString(16)}`);
        expect(bad).toEqual([]);
        expect(Array.from(bits)).toEqual(Array.from(bitsOf(viaJs)));
      }
    });

    it("handles tails of 0–7 elements on views at odd element offsets", () => {
      const { simd } = wasm();
      for (const start of [1, 3, 6]) {
        for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 9, 14, 35]) {
          const x = RANDOM_INPUTS.subarray(start * 997, start * 997 + n);
          const backing = codeArray(format.bits, n + 2 * start).fill(0x5a);
          const codes = backing.subarray(start, start + n);
          simd.kernels.encode_elements(x, codes, n, SEED);
          expect(mismatches(x, codes, want(x))).toEqual([]);
          expect([...backing.subarray(0, start), ...backing.subarray(start + n)].every((c) => c === 0x5a)).toBe(true);

          const outBacking = new Float32Array(n + 2 * start).fill(-7);
          simd.kernels.decode_elements(codes, outBacking.subarray(start, start + n), n);
          const decoded = bitsOf(outBacking.subarray(start, start + n));
          expect(Array.from(decoded)).toEqual(Array.from(codes, (c) => decodeF32Bits(format, c)));
          expect([...outBacking.subarray(0, start), ...outBacking.subarray(start + n)].every((v) => v === -7)).toBe(true);
        }
      }
    });

    it("runs at unaligned byte offsets in wasm memory through the raw API, touching nothing around", () => {
      const { simd } = wasm();
      const heap = simd.heap;
      const codeBytes = format.bits <= 8 ? 1 : format.bits <= 16 ? 2 : 4;
      for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 13]) {
        const mark = heap.mark();
        const region = heap.alloc(64 + 8 * n);
        const xAt = region + 4; // 4-aligned, not 16-aligned
        const codesAt = region + 8 + 4 * n + codeBytes; // one element past a 16-aligned-or-not boundary
        const outAt = region + 12 + 4 * n + codeBytes * (n + 2);
        new Uint8Array(heap.memory.buffer, region, 64 + 8 * n).fill(0xa5);
        const x = RANDOM_INPUTS.slice(4242, 4242 + n);
        heap.write(xAt, x);
        simd.raw.encode_elements(xAt, codesAt, n, SEED);
        simd.raw.decode_elements(codesAt, outAt, n);
        const codes = codeArray(format.bits, n);
        heap.read(codesAt, codes);
        expect(mismatches(x, codes, want(x))).toEqual([]);
        const out = new Float32Array(n);
        heap.read(outAt, out);
        expect(Array.from(bitsOf(out))).toEqual(Array.from(codes, (c) => decodeF32Bits(format, c)));
        const bytes = new Uint8Array(heap.memory.buffer, region, 64 + 8 * n);
        const inside = (b: number) => (b >= xAt && b < xAt + 4 * n) || (b >= codesAt && b < codesAt + codeBytes * n) || (b >= outAt && b < outAt + 4 * n);
        const touched = [...bytes.keys()].filter((k) => !inside(region + k) && bytes[k] !== 0xa5);
        expect(touched).toEqual([]);
        heap.release(mark);
      }
    });
  });
}
