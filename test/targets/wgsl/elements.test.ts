/**
 * WGSL element kernels (encode_elements / decode_elements) of every built-in format run on a
 * real WebGPU device, bit-identical to the semantics and to the JS target: in one dispatch each,
 * 10^5 random float32 bit patterns plus the format's ties and overflow/underflow bands, with
 * nearest and stochastic rounding (the same counter-based draws); every code of a ≤ 16-bit
 * format (2^16 random codes otherwise); and tails of odd lengths at the ends of packed words.
 */
import { describe, expect, it } from "vitest";
import { lowerDecodeElements, lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { codeArray } from "../../../src/dsl/semantics/codes.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";
import { decodeF32Bits, encode } from "../../../src/dsl/semantics/scalar.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { compileWgsl } from "../../../src/targets/wgsl/compile.ts";
import { instantiateWgsl, type WgslKernelSet } from "../../../src/targets/wgsl/runner.ts";
import { acceptsStochastic, builtin, builtinNames } from "../../support/formats.ts";
import { edgeInputs, randomBitPatterns } from "../../support/inputs.ts";
import { useWgslDevice } from "./gpu.ts";

const device = useWgslDevice();
const RANDOM_INPUTS = randomBitPatterns(100_000, 2024);
const SEED = 12345;
const bitsOf = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

function mismatches(what: (i: number) => string, got: ArrayLike<number>, want: ArrayLike<number>): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) if (got[i] !== want[i]) bad.push(`${what(i)} → ${got[i]}, want ${want[i]}`);
  if (got.length !== want.length) bad.push(`length ${got.length}, want ${want.length}`);
  return bad;
}

function check(format: ResolvedFormat, label: string) {
  const stochastic = format.rounding.mode === "stochastic";
  const module = { kernels: [lowerEncodeElements(format), lowerDecodeElements(format)] };
  const js = loadJs(module);
  let set: Promise<WgslKernelSet> | undefined;
  const wgsl = async () => (await (set ??= device().then((d) => instantiateWgsl(compileWgsl(module), d)))).kernels;
  const encodeWith = async (x: Float32Array) => {
    const codes = codeArray(format.bits, x.length);
    await (await wgsl()).encode_elements(x, codes, x.length, SEED);
    return codes;
  };
  const semantics = (x: Float32Array) => Array.from(x, (v, i) => encode(format, v, { random: stochastic ? counterRandom(SEED, i) : undefined }));

  describe(label, () => {
    it("encodes 10^5 random bit patterns, ties and bands (one dispatch) as the semantics and the JS target", async () => {
      const edges = edgeInputs(format);
      expect(edges.length).toBeGreaterThan(20);
      const x = new Float32Array(RANDOM_INPUTS.length + edges.length);
      x.set(RANDOM_INPUTS);
      x.set(edges, RANDOM_INPUTS.length);
      const got = await encodeWith(x);
      const viaJs = codeArray(format.bits, x.length);
      js.encode_elements(x, viaJs, x.length, SEED);
      expect(mismatches((i) => `x=${x[i]} (#${i})`, got, semantics(x))).toEqual([]);
      expect(mismatches((i) => `x=${x[i]} (#${i})`, got, viaJs)).toEqual([]);
    });

    it("decodes every code (or 2^16 random codes) to the semantics' float32 bits, as the JS target", async () => {
      const count = format.bits <= 16 ? format.codeCount : 1 << 16;
      const codes = codeArray(format.bits, count);
      for (let i = 0; i < count; i++) codes[i] = format.bits <= 16 ? i : counterRandom(77, i);
      const out = new Float32Array(count);
      await (await wgsl()).decode_elements(codes, out, count);
      const viaJs = new Float32Array(count);
      js.decode_elements(codes, viaJs, count);
      expect(mismatches((i) => `code ${codes[i]}`, bitsOf(out), Array.from(codes, (c) => decodeF32Bits(format, c)))).toEqual([]);
      expect(mismatches((i) => `code ${codes[i]}`, bitsOf(out), bitsOf(viaJs))).toEqual([]);
    });

    it("writes exactly n codes: tails of 0–9 elements at odd offsets leave the words' other codes alone", async () => {
      const kernels = await wgsl();
      for (const start of [1, 3]) {
        for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 9]) {
          const x = RANDOM_INPUTS.subarray(start * 997, start * 997 + n);
          const backing = codeArray(format.bits, n + 2 * start).fill(0x5a);
          const codes = backing.subarray(start, start + n);
          await kernels.encode_elements(x, codes, n, SEED);
          expect(mismatches((i) => `x=${x[i]}`, codes, semantics(x))).toEqual([]);
          expect([...backing.subarray(0, start), ...backing.subarray(start + n)].every((c) => c === 0x5a)).toBe(true);
          const out = new Float32Array(n + 2 * start).fill(-7);
          await kernels.decode_elements(codes, out.subarray(start, start + n), n);
          expect(Array.from(bitsOf(out.subarray(start, start + n)))).toEqual(Array.from(codes, (c) => decodeF32Bits(format, c)));
          expect([...out.subarray(0, start), ...out.subarray(start + n)].every((v) => v === -7)).toBe(true);
        }
      }
    });
  });
}

it("covers every built-in format", () => expect(builtinNames.length).toBeGreaterThan(20));
for (const name of builtinNames) {
  const format = builtin(name);
  check(format, name);
  if (acceptsStochastic(format)) check({ ...format, rounding: { mode: "stochastic", bits: 11 } }, `${name} (stochastic, 11 bits)`);
}
