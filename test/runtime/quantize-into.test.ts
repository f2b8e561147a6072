/**
 * RecipePrecision.quantizeInto(role, from, into, …) — what quantizedView uses for an op's scratch
 * copy, so that the plan reads `from` where it writes `into` instead of a copy of `from` first —
 * must give the bits of `into.set(from)` then `quantize(into)` and leave `from` as it was: for
 * every shipped recipe, every GEMM operand and the other roles, on row, column and grouped
 * layouts and none, on wasm (one thread and two) and JS. The two precisions run the same calls
 * in the same order, so stochastic draws and delayed-scaling state match.
 */
import * as Effect from "effect/Effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry, recipeNames } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import { jsKernelSource, wasmKernelSource, type KernelSource } from "../../src/runtime/backends/kernel-source.ts";
import { columnChannels, groupedColumnChannels, quantizedView, rowChannels, type ChannelLayout, type GemmPass, type Precision, type TensorRole } from "../../src/runtime/precision.ts";
import { planTensor } from "../support/inputs.ts";

const recipes = createRecipeRegistry(createRegistry());
let wasm: KernelSource;
let wasmThreads: KernelSource;
let js: KernelSource;
beforeAll(async () => {
  js = jsKernelSource();
  wasm = await wasmKernelSource();
  wasmThreads = await wasmKernelSource(2);
});
afterAll(() => wasmThreads?.close());

const bits = (t: Float32Array) => new Uint32Array(t.buffer, t.byteOffset, t.length);

/** got's bits equal want's (the first difference named; a deep equality of 10^5 numbers costs more than the quantizations). */
function expectSameBits(got: Uint32Array, want: Uint32Array, label: string): void {
  expect(got.length, label).toBe(want.length);
  const at = got.findIndex((b, i) => b !== want[i]);
  expect(at < 0 ? "same" : `element ${at}: 0x${got[at].toString(16)}, want 0x${want[at].toString(16)}`, label).toBe("same");
}

const CALLS: readonly { role: TensorRole; pass?: GemmPass }[] = [
  { role: "activation", pass: "forward" },
  { role: "weight", pass: "forward" },
  { role: "weight", pass: "inputGradient" },
  { role: "error", pass: "inputGradient" },
  { role: "activation", pass: "weightGradient" },
  { role: "error", pass: "weightGradient" },
  { role: "weightGradient" },
  { role: "optimizerState" },
];

type Shape = { rows: number; cols: number; layouts: readonly (ChannelLayout | undefined)[] };
/** 40 × 36 (ragged blocks of 16 and 32, a lane count no block divides) under every layout kind. */
const SMALL: Shape = { rows: 40, cols: 36, layouts: [undefined, rowChannels(40, 36), columnChannels(40, 36), groupedColumnChannels(2, 20, 36)] };
/** Enough elements for the threaded runner to split the plans it may split (on the two-thread source only). */
const LARGE: Shape = { rows: 300, cols: 256, layouts: [rowChannels(300, 256), columnChannels(300, 256)] };

/** The tensor quantized at a shape and step, made once (planTensor is slow against the quantizations here). */
const inputs = new Map<string, Float32Array>();
function input(rows: number, cols: number, step: number): Float32Array {
  const key = `${rows}×${cols}#${step}`;
  let x = inputs.get(key);
  if (x === undefined) inputs.set(key, (x = planTensor(rows * cols, rows + cols + step, 0.03)));
  return x;
}

describe("quantizeInto = copy, then quantize in place", () => {
  for (const name of recipeNames()) {
    it(name, () => {
      const recipe = Effect.runSync(recipes.get(name));
      for (const source of [wasm, wasmThreads, js]) {
        const into = new RecipePrecision(recipe, source, 5);
        const inPlace = new RecipePrecision(recipe, source, 5);
        for (const step of [0, 1]) {
          into.setStep(step);
          inPlace.setStep(step);
          for (const { rows, cols, layouts } of source.threads > 1 ? [SMALL, LARGE] : [SMALL])
            for (const layout of layouts)
              for (const { role, pass } of CALLS) {
                if (layout !== undefined && pass === undefined) continue;
                const label = `${source.target} threads ${source.threads} step ${step} ${role} ${pass ?? ""} ${rows}×${cols} ${JSON.stringify(layout ?? null)}`;
                const from = input(rows, cols, step);
                const kept = bits(from).slice();
                const got = new Float32Array(from.length).fill(Number.NaN);
                into.quantizeInto(role, from, got, "layer", pass, layout);
                const want = from.slice();
                inPlace.quantize(role, want, "layer", pass, layout);
                expectSameBits(bits(got), bits(want), label);
                expectSameBits(bits(from), kept, `${label}: from unchanged`);
              }
        }
      }
    });
  }

  it("quantizedView copies and quantizes in place for a precision without quantizeInto (a wrapper)", () => {
    const recipe = new RecipePrecision(Effect.runSync(recipes.get("mxfp8")), js, 5);
    const calls: string[] = [];
    const wrapper: Precision = {
      name: "wrapper",
      active: (role, site, pass) => recipe.active(role, site, pass),
      quantize: (role, t, site, pass, layout) => {
        calls.push("quantize");
        recipe.quantize(role, t, site, pass, layout);
      },
      quantizesAlongK: (role, site, pass) => recipe.quantizesAlongK(role, site, pass),
      rotates: (site, pass) => recipe.rotates(site, pass),
      quantizesColumnsInPlace: (role, site, pass) => recipe.quantizesColumnsInPlace(role, site, pass),
      differs: (role, site, a, b, la, lb) => recipe.differs(role, site, a, b, la, lb),
    };
    const data = planTensor(64, 3, 0.03);
    const viaWrapper = quantizedView(wrapper, "activation", data, "layer", "forward", rowChannels(2, 32), new Float32Array(64));
    const direct = quantizedView(recipe, "activation", data, "layer", "forward", rowChannels(2, 32), new Float32Array(64));
    expect(calls).toEqual(["quantize"]);
    expectSameBits(bits(viaWrapper as Float32Array), bits(direct as Float32Array), "wrapper");
    // Without a scratch array: a fresh one either way, data untouched.
    const kept = bits(data).slice();
    const fresh = quantizedView(recipe, "activation", data, "layer", "forward", rowChannels(2, 32)) as Float32Array;
    const freshViaWrapper = quantizedView(wrapper, "activation", data, "layer", "forward", rowChannels(2, 32)) as Float32Array;
    expect(fresh === data || freshViaWrapper === data).toBe(false);
    expectSameBits(bits(fresh), bits(direct as Float32Array), "fresh");
    expectSameBits(bits(freshViaWrapper), bits(direct as Float32Array), "fresh via wrapper");
    expectSameBits(bits(data), kept, "data unchanged");
  });
});
