/**
 * The JS element kernels (encode_elements / decode_elements) of every built-in format against
 * the semantics, bit for bit: every code, ≥ 10^5 random float32 bit patterns, ties, overflow and
 * underflow bands, stochastic rounding with the same seed; and the IR interpreter against the JS.
 */
import { describe, expect, it } from "vitest";
import { decodeF32Bits, encode } from "../../src/dsl/semantics/scalar.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { codeArray } from "../../src/dsl/semantics/codes.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../../src/codegen/lower/elementwise.ts";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { acceptsStochastic, builtin, builtinNames } from "../support/formats.ts";
import { edgeInputs, randomBitPatterns } from "../support/inputs.ts";

const RANDOM_INPUTS = randomBitPatterns(100_000, 2024);
const SEED = 12345;

function check(format: ResolvedFormat, label: string) {
  const encodeKernel = lowerEncodeElements(format);
  const decodeKernel = lowerDecodeElements(format);
  const js = loadJs({ kernels: [encodeKernel, decodeKernel] });
  const stochastic = format.rounding.mode === "stochastic";
  const encodeMismatches = (x: Float32Array) => {
    const codes = codeArray(format.bits, x.length);
    js.encode_elements(x, codes, x.length, SEED);
    const bad: string[] = [];
    for (let i = 0; i < x.length; i++) {
      const want = encode(format, x[i], { random: stochastic ? counterRandom(SEED, i) : undefined });
      if (codes[i] !== want) bad.push(`${label}: x=${x[i]} → ${codes[i]}, semantics ${want}`);
    }
    return { bad, codes };
  };
  describe(label, () => {
    it("encodes 10^5 random float32 bit patterns exactly as the semantics", () => {
      expect(encodeMismatches(RANDOM_INPUTS).bad.slice(0, 5)).toEqual([]);
    });
    it("encodes ties, overflow and underflow bands exactly as the semantics", () => {
      const inputs = edgeInputs(format);
      expect(inputs.length).toBeGreaterThan(20);
      expect(encodeMismatches(inputs).bad.slice(0, 5)).toEqual([]);
    });
    it("decodes codes to the semantics' float32 bits", () => {
      const count = format.bits <= 16 ? format.codeCount : 1 << 16;
      const codes = codeArray(format.bits, count);
      for (let i = 0; i < count; i++) codes[i] = format.bits <= 16 ? i : counterRandom(77, i);
      const out = new Float32Array(count);
      js.decode_elements(codes, out, count);
      const bits = new Uint32Array(out.buffer);
      const bad: string[] = [];
      for (let i = 0; i < count; i++) if (bits[i] !== decodeF32Bits(format, codes[i])) bad.push(`code ${codes[i]}: ${bits[i].toString(16)} vs ${decodeF32Bits(format, codes[i]).toString(16)}`);
      expect(bad.slice(0, 5)).toEqual([]);
    });
    it("the IR interpreter computes the same codes and values as the rendered JS", () => {
      const x = RANDOM_INPUTS.subarray(0, 1500);
      const viaJs = encodeMismatches(x).codes;
      const viaIr = codeArray(format.bits, x.length);
      interpret(encodeKernel, { x, codes: viaIr, n: x.length, seed: SEED });
      expect([...viaIr]).toEqual([...viaJs]);
      const outJs = new Float32Array(x.length);
      const outIr = new Float32Array(x.length);
      js.decode_elements(viaJs, outJs, x.length);
      interpret(decodeKernel, { codes: viaJs, out: outIr, n: x.length });
      expect([...new Uint32Array(outIr.buffer)]).toEqual([...new Uint32Array(outJs.buffer)]);
    });
  });
}

for (const name of builtinNames) {
  const format = builtin(name);
  check(format, name);
  if (acceptsStochastic(format)) check({ ...format, rounding: { mode: "stochastic", bits: 11 } }, `${name} (stochastic, 11 bits)`);
}
