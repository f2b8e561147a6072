/**
 * Block scaling along either axis and in 2-D tiles (NVFP4, DeepSeek-V3's fp8 tiles, OCP MX):
 * - the semantics equal an independent float32 implementation of the stated formulas
 *   (test/fixtures/reference/block_scaling_sample.json.gz) on every value;
 * - the kernels equal the semantics bit for bit — JS and the IR interpreter directly, wasm and
 *   WGSL through JS — on odd shapes: one row, one column, partial tiles, all-zero tiles and
 *   tensors, NaN / ±Inf, values in the element's subnormal range and far below it.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import type { Kernel } from "../../src/codegen/ir/nodes.ts";
import { lowerFormat } from "../../src/codegen/lower/plans.ts";
import { buffersFromMeta, metaFromBuffers } from "../../src/codegen/meta.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { dequantize, fakeQuantize, quantize } from "../../src/dsl/semantics/tensor.ts";
import { runPlan, type BufferArray, type PlanKernel, type RunCall } from "../../src/package-runtime/run-plan.js";
import type { BlockAxis } from "../../src/scaling/kind.ts";
import type { BlockScaling } from "../../src/scaling/block/types.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { compileWgsl } from "../../src/targets/wgsl/compile.ts";
import { instantiateWgsl, runPlanWgsl } from "../../src/targets/wgsl/runner.ts";
import { builtin } from "../support/formats.ts";
import { resolveSpec, type WrittenSpec } from "../fuzz/resolve-spec.ts";
import { resultWords } from "../support/plans.ts";
import { useWgslDevice } from "../targets/wgsl/gpu.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const bits = (x: number) => ((F32[0] = x), U32[0]);
/** Float32 words, every NaN one word: targets may differ in a NaN's payload only. */
const words = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? -1 : bits(v)));

// ---------------------------------------------------------------------------------------------
// The independent implementation's values

interface SampleCase {
  readonly format: string;
  readonly shape: readonly [number, number];
  readonly blockAxis?: BlockAxis;
  readonly inputs: readonly (number | string)[];
  readonly expect: readonly (number | string)[];
}

const value = (v: number | string): number => (typeof v === "number" ? v : v === "-0" ? -0 : Number(v));

function sampleCases(): readonly SampleCase[] {
  const path = new URL("../fixtures/reference/block_scaling_sample.json.gz", import.meta.url);
  const file = JSON.parse(gunzipSync(readFileSync(path)).toString("utf8")) as { count: number; cases: SampleCase[] };
  if (file.cases.length !== file.count) throw new Error(`${path.pathname}: count ${file.count}, ${file.cases.length} cases`);
  return file.cases;
}

describe("semantics = an independent float32 implementation (numpy + ml_dtypes) of the stated formulas", () => {
  const cases = sampleCases();
  it("covers NVFP4 along both axes, the fp32 and power-of-two 1×128 tiles and 128×128 blocks", () => {
    expect(new Set(cases.map((c) => `${c.format} ${c.blockAxis ?? "tile"}`))).toEqual(
      new Set(["nvfp4 0", "nvfp4 1", "fp8-block1x128 1", "fp8-block1x128-pow2 1", "fp8-block128x128 tile"]),
    );
  });
  for (const [k, c] of cases.entries())
    it(`${c.format} ${c.shape.join("×")} axis ${c.blockAxis ?? "-"} (case ${k})`, () => {
      const x = Float32Array.from(c.inputs, value);
      const { values } = fakeQuantize(builtin(c.format), x, { channels: c.shape[0], blockAxis: c.blockAxis ?? 1 });
      const want = Float32Array.from(c.expect, value);
      const wantWords = words(want);
      const wrong = words(values).flatMap((w, i) => (w === wantWords[i] ? [] : [i]));
      expect(wrong.slice(0, 5).map((i) => ({ i, x: x[i], got: values[i], want: want[i] })), `${wrong.length} of ${x.length} differ`).toEqual([]);
    });
});

// ---------------------------------------------------------------------------------------------
// Kernels = semantics

/** Small-tile variants, so partial tiles and many tiles appear in small tensors. */
function variant(name: string, label: string, scaling: Partial<BlockScaling>): ResolvedFormat {
  const f = builtin(name);
  if (f.scaling.kind !== "block") throw new Error(`${name} is not block-scaled`);
  return { ...f, name: `${name}-${label}`, scaling: { ...f.scaling, ...scaling } };
}

const FORMATS: readonly ResolvedFormat[] = [
  builtin("nvfp4"),
  builtin("fp8-block1x128"),
  builtin("fp8-block1x128-pow2"),
  builtin("fp8-block128x128"),
  builtin("mxfp8"),
  builtin("mxfp4"),
  variant("nvfp4", "block5", { granularity: { block: 5 } }),
  variant("fp8-block1x128", "block3", { granularity: { block: 3 } }),
  variant("fp8-block1x128-pow2", "tile2x3", { granularity: { tile: [2, 3] } }),
  variant("fp8-block128x128", "tile4x7", { granularity: { tile: [4, 7] } }),
  variant("mxfp6", "tile3x2", { granularity: { tile: [3, 2] } }),
  variant("mxint8", "block4", { granularity: { block: 4 } }),
  variant("fp8-block1x128", "block200", { granularity: { block: 200 } }), // past the unrolled [B, 1] statistics: the per-tile kernel takes both axes
  { ...variant("nvfp4", "block7-sr", { granularity: { block: 7 } }), rounding: { mode: "stochastic", bits: 8 } },
  // Two-level scaling over other elements and scale formats: the tile scale folded into the element's rounding (E4M3: NaN stays NaN; an E5M2 scale), and not (an fp32 scale, whose range is too wide for it)
  { ...builtin("e4m3"), name: "e4m3-nvfp4-scaling", scaling: builtin("nvfp4").scaling },
  variant("nvfp4", "e5m2-scale", { scaleFormat: { ...builtin("e5m2"), rounding: { mode: "nearest-even", bits: 0 } } }),
  variant("nvfp4", "fp32-scale-block8", { granularity: { block: 8 }, scaleFormat: { ...builtin("fp32"), rounding: { mode: "nearest-even", bits: 0 } } }),
];

const SHAPES: readonly (readonly [number, number])[] = [
  [1, 1],
  [1, 37],
  [37, 1],
  [3, 20],
  [20, 3],
  [9, 130],
  [130, 9],
  [5, 67], // rows of two whole 32-blocks and 3 more: 335 elements, partial tiles, segments of 32 and 3
  [3, 64], // rows of whole 4-, 16- and 32-blocks: [1, B] tiles end to end over several rows (statistics without the division by the grid's width)
];

const uniform = (seed: number, i: number) => counterRandom(seed, i) / 2 ** 32;

/** A tensor of one kind: mixed binades, zero tiles, specials, element-subnormal and tiny values. */
function tensor(kind: string, n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const u = uniform(seed, i);
    const sign = uniform(seed + 1, i) < 0.5 ? -1 : 1;
    switch (kind) {
      case "binades":
        return sign * 2 ** ((u - 0.5) * 40);
      case "zeros":
        return i % 11 < 6 ? 0 : sign * u * 3;
      case "all-zero":
        return i % 2 === 0 ? 0 : -0;
      case "specials":
        return u < 0.08 ? [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][i % 3] : sign * u * 100;
      case "tiny":
        return sign * 2 ** (-120 - u * 29); // float32 normals near the bottom and subnormals
      default:
        return sign * (u < 0.5 ? u * 2 ** -8 : u * 500); // element-subnormal range beside large values
    }
  });
}
const KINDS = ["binades", "zeros", "all-zero", "specials", "tiny", "mixed"];

function interpreted(kernels: readonly Kernel[]): Kernels {
  return Object.fromEntries(kernels.map((k) => [k.name, (...args: (BufferArray | number)[]) => interpret(k, Object.fromEntries(k.params.map((p, i) => [p.name, args[i]])))] as const));
}

const AXES: readonly BlockAxis[] = [0, 1];

describe("JS kernels and the IR interpreter = the semantics, bit for bit", () => {
  for (const format of FORMATS)
    it(format.name, () => {
      const { kernels, plans } = lowerFormat(format);
      const targets = { js: loadJs({ kernels }) as unknown as Kernels, interpreter: interpreted(kernels) };
      const mismatches: string[] = [];
      for (const [rows, cols] of SHAPES)
        for (const blockAxis of AXES)
          for (const kind of KINDS) {
            const n = rows * cols;
            const seed = 7 * n + blockAxis;
            const x = tensor(kind, n, seed);
            const options = { channels: rows, blockAxis, seed };
            const call = { n, channels: rows, blockAxis, seed };
            const q = quantize(format, x, options);
            const values = dequantize(format, q.codes, q.meta, options);
            const fake = fakeQuantize(format, x, options).values;
            for (const [target, k] of Object.entries(targets)) {
              if (target === "interpreter" && n > 400) continue;
              const label = `${target} ${rows}×${cols} axis ${blockAxis} ${kind}`;
              const enc = runPlan(plans.encode, k, { x }, call);
              const meta = metaFromBuffers(format, enc.meta, call);
              if (meta.kind !== "block" || q.meta.kind !== "block") throw new Error("block metadata expected");
              const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
              if (!same(Array.from(enc.outputs.codes), Array.from(q.codes))) mismatches.push(`${label}: codes`);
              if (!same(Array.from(meta.scaleCodes), Array.from(q.meta.scaleCodes)) || bits(meta.tensorScale) !== bits(q.meta.tensorScale)) mismatches.push(`${label}: meta`);
              const dec = runPlan(plans.decode, k, { codes: q.codes, ...buffersFromMeta(format, q.meta) }, call);
              if (!same(words(dec.outputs.values), words(values))) mismatches.push(`${label}: decode`);
              if (!same(words(runPlan(plans.fakeQuantize, k, { x }, call).outputs.values), words(fake))) mismatches.push(`${label}: fakeQuantize`);
            }
          }
      expect(mismatches).toEqual([]);
    });
});

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});
const device = useWgslDevice();

describe("wasm and WGSL = JS on every shape and axis", () => {
  for (const format of FORMATS)
    it(format.name, async () => {
      const { kernels, plans } = lowerFormat(format);
      const js = loadJs({ kernels }) as unknown as Kernels;
      const wasm = instantiateWasm(compileWasmWith(assembler, { kernels })).kernels as unknown as Kernels;
      const gpu = await instantiateWgsl(compileWgsl({ kernels }), await device());
      for (const [rows, cols] of SHAPES)
        for (const blockAxis of AXES)
          for (const kind of ["mixed", "specials"]) {
            const n = rows * cols;
            const x = tensor(kind, n, 3 * n + blockAxis);
            const call: RunCall = { n, channels: rows, blockAxis, seed: 9 };
            const label = `${rows}×${cols} axis ${blockAxis} ${kind}`;
            for (const plan of [plans.encode, plans.fakeQuantize]) {
              const want = resultWords(runPlan(plan, js, { x }, call));
              expect(resultWords(runPlan(plan, wasm, { x }, call)), `${label} wasm`).toEqual(want);
              expect(resultWords(await runPlanWgsl(plan, gpu, { x }, call)), `${label} WGSL`).toEqual(want);
            }
            const enc = runPlan(plans.encode, js, { x }, call);
            const bindings = { codes: enc.outputs.codes, ...enc.meta };
            const want = resultWords(runPlan(plans.decode, js, bindings, call));
            expect(resultWords(runPlan(plans.decode, wasm, bindings, call)), `${label} decode wasm`).toEqual(want);
            expect(resultWords(await runPlanWgsl(plans.decode, gpu, bindings, call)), `${label} decode WGSL`).toEqual(want);
          }
    });
});

// ---------------------------------------------------------------------------------------------
// Cases the spec-space fuzz found (test/fuzz), kept here by name

describe("fuzz findings", () => {
  it("MX over an unsigned element: a tiny negative whose scaled value underflows float32 still encodes as a negative (NaN), not as 0", () => {
    const spec = {
      name: "fuzz", summary: "unsigned E2M1-like under MX",
      element: { kind: "float", signed: false, exponentBits: 2, mantissaBits: 1, infinity: false, nan: "all-ones", negativeZero: false, subnormals: false, zero: true, bias: -88 },
      rounding: "nearest-away", overflow: "saturate", scaling: { kind: "block", granularity: { block: 5 }, scale: { format: "e8m0", rounding: "ceil" } },
    } as const;
    const resolved = resolveSpec(spec as unknown as WrittenSpec);
    if (!("format" in resolved)) throw new Error(`the spec does not resolve: ${JSON.stringify(resolved)}`);
    const format = resolved.format;
    const x = Float32Array.of(2 ** 100, -(2 ** -149), 3, -5e-28, 0, -0, 1e30, -1e-40, 7, 2 ** 90);
    const q = quantize(format, x);
    const { kernels, plans } = lowerFormat(format);
    const js = loadJs({ kernels }) as unknown as Kernels;
    expect(Array.from(runPlan(plans.encode, js, { x }, { n: x.length }).outputs.codes)).toEqual(Array.from(q.codes));
    expect(words(runPlan(plans.fakeQuantize, js, { x }, { n: x.length }).outputs.values)).toEqual(words(fakeQuantize(format, x).values));
    expect(Number.isNaN(fakeQuantize(format, x).values[1])).toBe(true);
  });

  it("S2FP8-style squeeze over a float without mantissa bits lowers (one code per binade) and equals the semantics", () => {
    const spec = {
      name: "fuzz", summary: "E5M0 under shift-squeeze",
      element: { kind: "float", exponentBits: 5, mantissaBits: 0, infinity: false, nan: "all-ones", negativeZero: true, subnormals: true, bias: 15 },
      rounding: "nearest-even", overflow: "saturate", scaling: { kind: "shift-squeeze", targetMaxLog2: 8 },
    } as const;
    const resolved = resolveSpec(spec as unknown as WrittenSpec);
    if (!("format" in resolved)) throw new Error(`the spec does not resolve: ${JSON.stringify(resolved)}`);
    const format = resolved.format;
    const x = tensor("binades", 300, 4);
    const { kernels, plans } = lowerFormat(format);
    const js = loadJs({ kernels }) as unknown as Kernels;
    expect(Array.from(runPlan(plans.encode, js, { x }, { n: x.length }).outputs.codes)).toEqual(Array.from(quantize(format, x).codes));
    expect(words(runPlan(plans.fakeQuantize, js, { x }, { n: x.length }).outputs.values)).toEqual(words(fakeQuantize(format, x).values));
  });
});
