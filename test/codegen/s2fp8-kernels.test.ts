/**
 * The S2FP8 kernels as restructured for speed, against the semantics bit for bit, on the JS target
 * and in wasm SIMD: exp2f (its scaling by two normal powers, its small-integer conversions) over
 * its whole range and its edges; the unsqueeze, whose log2 of a format value comes from a table,
 * for every code under several (α, β) and several element formats; and the statistics (a
 * branch-free log2 sum) and α, β of tensors full of zeros, NaNs, infinities and subnormals, at
 * lengths around the 256-element chunk.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { i32, kernel, load, ref } from "../../src/codegen/ir/build.ts";
import { lowerExp2f, lowerLog2f } from "../../src/codegen/lower/elementary.ts";
import { lowerFormat } from "../../src/codegen/lower/plans.ts";
import { N, reads, writes } from "../../src/codegen/lower/scaling/common.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { f32Bits, fromF32Bits } from "../../src/dsl/semantics/bits.ts";
import { exp2f, log2f } from "../../src/dsl/semantics/elementary.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { decode } from "../../src/dsl/semantics/scalar.ts";
import { fakeQuantize } from "../../src/dsl/semantics/tensor.ts";
import { shiftSqueezeParameters, unsqueeze } from "../../src/scaling/shift-squeeze/semantics.ts";
import { runPlan, type PlanKernel } from "../../src/package-runtime/run-plan.js";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { builtin } from "../support/formats.ts";
import { randomBitPatterns } from "../support/inputs.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

/** JS and wasm SIMD kernels of a module, callable positionally. */
function targets(module: { kernels: ReturnType<typeof kernel>[] }): [string, Kernels][] {
  const simd = compileWasmWith(assembler, module);
  expect(simd.simd).toBe(true);
  return [["JS", loadJs(module) as unknown as Kernels], ["wasm SIMD", instantiateWasm(simd).kernels as unknown as Kernels]];
}

/** Bits of each value, every NaN as one word (NaN payloads are not part of these definitions). */
const words = (x: ArrayLike<number>) => Array.from(x, (v) => (Number.isNaN(v) ? -1 : f32Bits(v)));

/** Indices where two word lists differ, with both words (at most 5). */
function differences(got: number[], want: number[], input: (i: number) => number): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) if (got[i] !== want[i]) bad.push(`#${i} (${input(i)}): ${got[i].toString(16)}, want ${want[i].toString(16)}`);
  return bad;
}

/** S2FP8 scaling over another element format. */
const shiftSqueezed = (element: string): ResolvedFormat => ({ ...builtin(element), name: `${element}-s2`, scaling: { kind: "shift-squeeze", targetMaxLog2: 15 } });

describe("exp2f lowering", () => {
  it("equals the semantics over [−160, 130] in steps of 2^−6, one ulp around every range edge, and 2·10^4 random bit patterns", () => {
    const edges = [-151, -150, -126.5, -126, -125, -64, -25, -1, -(2 ** -25), -(2 ** -26), 0, 2 ** -30, 1, 127, 127.99999, 128, 129];
    const around = edges.flatMap((e) => [e, fromF32Bits(f32Bits(e) + 1), fromF32Bits(f32Bits(e) - 1)]);
    const sweep = Array.from({ length: 290 * 64 + 1 }, (_, i) => -160 + i / 64);
    const y = Float32Array.from([...sweep, ...around, ...randomBitPatterns(20_000, 5), Number.NaN, Infinity, -Infinity, 0, -0]);
    const exp2 = kernel("exp2", [reads("x", "f32"), writes("values", "f32"), N], (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("values", i, lowerExp2f(body, load("f32", "x", i)))));
    const want = words(Array.from(y, exp2f));
    for (const [target, kernels] of targets({ kernels: [exp2] })) {
      const values = new Float32Array(y.length);
      kernels.exp2(y, values, y.length);
      expect(differences(words(values), want, (i) => y[i]), target).toEqual([]);
    }
  });
});

describe("log2f lowering", () => {
  it("equals the semantics on every float32 subnormal edge, powers of two, 2·10^4 random bit patterns and the specials", () => {
    const edges = [1, 2, 3, 0x3fffff, 0x400000, 0x7ffffe, 0x7fffff, 0x800000, 0x800001, 0x3f800000, 0x3f7fffff, 0x7f7fffff];
    const powers = Array.from({ length: 277 }, (_, k) => 2 ** (k - 149));
    const x = Float32Array.from([...edges.map(fromF32Bits), ...powers, ...randomBitPatterns(20_000, 9), 0, -0, Infinity, -Infinity, Number.NaN, -1, -(2 ** -140)]);
    const log2 = kernel("log2", [reads("x", "f32"), writes("values", "f32"), N], (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("values", i, lowerLog2f(body, load("f32", "x", i)))));
    const want = words(Array.from(x, log2f));
    for (const [target, kernels] of targets({ kernels: [log2] })) {
      const values = new Float32Array(x.length);
      kernels.log2(x, values, x.length);
      expect(differences(words(values), want, (i) => x[i]), target).toEqual([]);
    }
  });
});

describe("unsqueeze through the format-value log2 table", () => {
  for (const element of ["e5m2", "e4m3", "e3m2", "e2m3", "e4m3fnuz"]) {
    it(`${element}: every code, decoded and unsqueezed, equals the semantics under several (α, β)`, () => {
      const format = shiftSqueezed(element);
      const { kernels, plans } = lowerFormat(format);
      const codes = Uint8Array.from({ length: 2 ** format.bits }, (_, c) => c);
      for (const [target, run] of targets({ kernels: [...kernels] }))
        for (const [alpha, beta] of [[1, 0], [0.37, -2.5], [2.75, 11], [15 / 64, -0.125], [1.5, -40]]) {
          const a = Math.fround(alpha);
          const b = Math.fround(beta);
          const result = runPlan(plans.decode, run, { codes, alpha_beta: Float32Array.of(a, b) });
          const want = words(Array.from(codes, (c) => unsqueeze(decode(format, c), a, b)));
          expect(differences(words(result.outputs.values), want, (i) => i), `${target} α=${a} β=${b}`).toEqual([]);
        }
    });
  }
});

describe("statistics and fake quantization of tensors full of specials", () => {
  /** Zeros, ±0, NaN, ±∞, float32 subnormals and ordinary values in a random order. */
  function specialTensor(n: number, seed: number): Float32Array {
    return Float32Array.from({ length: n }, (_, i) => {
      const u = counterRandom(seed, i) / 2 ** 32;
      const sign = counterRandom(seed + 1, i) & 1 ? -1 : 1;
      if (u < 0.3) return sign * 0;
      if (u < 0.35) return [Number.NaN, Infinity, -Infinity][i % 3];
      if (u < 0.45) return sign * fromF32Bits(1 + (counterRandom(seed + 2, i) & 0x7fffff));
      return sign * 2 ** ((counterRandom(seed + 3, i) / 2 ** 32 - 0.5) * 60);
    });
  }

  it("α, β from the encode plan's statistics and the fake-quantized values equal the semantics (JS and wasm SIMD)", () => {
    const format = builtin("s2fp8");
    const { kernels, plans } = lowerFormat(format);
    const runs = targets({ kernels: [...kernels] });
    // Around the chunk and the group of 4 chunks the wasm statistics take at once (one per lane).
    for (const n of [1, 7, 255, 256, 257, 1000, 1023, 1024, 1025, 2048 + 7, 4099])
      for (const seed of [1, 2]) {
        const x = specialTensor(n, 17 * n + seed);
        const { alpha, beta } = shiftSqueezeParameters(x, 15);
        for (const [target, run] of runs) {
          const encoded = runPlan(plans.encode, run, { x });
          expect(words(encoded.meta.alpha_beta), `${target} n=${n} α, β`).toEqual(words([alpha, beta]));
          const fake = runPlan(plans.fakeQuantize, run, { x });
          const want = words(runPlan(plans.decode, runs[0][1], { codes: encoded.outputs.codes, alpha_beta: encoded.meta.alpha_beta }).outputs.values);
          expect(differences(words(fake.outputs.values), want, (i) => x[i]), `${target} n=${n} fake = decode(encode)`).toEqual([]);
        }
      }
  });

  it("10^5 random bit patterns and mixed specials: α, β and the fake-quantized values equal the semantics (JS and wasm SIMD)", () => {
    const format = builtin("s2fp8");
    const { kernels, plans } = lowerFormat(format);
    const runs = targets({ kernels: [...kernels] });
    // Random bits span every binade (most draws are huge or tiny): the statistics and the squeeze see all of them.
    const bits = randomBitPatterns(100_000, 23);
    const mixed = specialTensor(100_003, 29);
    const count0 = Float32Array.from({ length: 3000 }, (_, i) => [0, -0, Number.NaN, Infinity, -Infinity][i % 5]);
    // The least subnormal (log2 −149, the lowest counted) among entries not counted, and one larger value.
    const least = Float32Array.from({ length: 2051 }, (_, i) => [fromF32Bits(1), 0, Infinity, Number.NaN, -fromF32Bits(1), -0, 3][i % 7]);
    for (const [label, x] of [["random bits", Float32Array.from(bits)], ["specials", mixed], ["no counted entry", count0], ["least subnormals", least]] as const) {
      const want = fakeQuantize(format, x);
      const { alpha, beta } = shiftSqueezeParameters(x, 15);
      for (const [target, run] of runs) {
        const fake = runPlan(plans.fakeQuantize, run, { x });
        expect(words(fake.meta.alpha_beta), `${target} ${label} α, β`).toEqual(words([alpha, beta]));
        expect(differences(words(fake.outputs.values), words(want.values), (i) => x[i]), `${target} ${label}`).toEqual([]);
      }
    }
  });
});
