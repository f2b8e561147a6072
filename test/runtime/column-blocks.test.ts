/**
 * A 1-D block format on a column layout (lanes = the columns of a rows × cols matrix, K = rows) is
 * quantized where the matrix lies, with blocks down the columns (the plan's block axis 0), instead
 * of on a lane-major copy scattered back; so is a per-channel format with a plan for channels as
 * columns (ShiftQuant's fakeQuantizeColumns, stochastic errors included). Both must give the same
 * bits: here the in-place result is compared with that copy's, made by hand (gather, quantize
 * lanes × K, scatter), for every shipped recipe's operands, with rows that are not a multiple of
 * the block, on wasm (one thread and two: the columns plan must not be cut by rows) and JS.
 */
import * as Effect from "effect/Effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry, recipeNames } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import { jsKernelSource, wasmKernelSource, type KernelSource } from "../../src/runtime/backends/kernel-source.ts";
import { columnChannels, gatherChannels, rowChannels, scatterChannels, type GemmPass, type TensorRole } from "../../src/runtime/precision.ts";
import { planTensor } from "../support/inputs.ts";

const recipes = createRecipeRegistry(createRegistry());
let wasm: KernelSource;
let wasmThreads: KernelSource;
beforeAll(async () => {
  wasm = await wasmKernelSource();
  wasmThreads = await wasmKernelSource(2);
});
afterAll(() => wasmThreads?.close());

const bits = (t: Float32Array) => Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length));

/** The GEMM operands a training step quantizes by columns (conv2d's and linear's input-gradient and weight-gradient GEMMs). */
const OPERANDS: readonly { role: TensorRole; pass: GemmPass }[] = [
  { role: "weight", pass: "inputGradient" },
  { role: "error", pass: "inputGradient" },
  { role: "activation", pass: "weightGradient" },
  { role: "error", pass: "weightGradient" },
];

/**
 * `inPlace` quantizing a rows × cols matrix by columns (lanes = columns) gives the bits `byHand`
 * gives on its lane-major copy (gathered, quantized lanes × rows, scattered back).
 */
function expectInPlaceIsCopy(inPlace: RecipePrecision, byHand: RecipePrecision, role: TensorRole, pass: GemmPass, rows: number, cols: number, label: string): void {
  const layout = columnChannels(rows, cols);
  const x = planTensor(rows * cols, rows + cols, 0.03);
  const got = x.slice();
  inPlace.quantize(role, got, "layer", pass, layout);
  const lanes = gatherChannels(x, layout, "test");
  byHand.quantize(role, lanes, "layer", pass, rowChannels(cols, rows));
  const want = new Float32Array(x.length);
  scatterChannels(lanes, layout, want);
  expect(bits(got), `${label} ${role} ${pass} ${rows}×${cols}`).toEqual(bits(want));
}

/** Recipes with a block-scaled GEMM operand (per-tensor formats ignore layouts: nothing to compare). */
const blockRecipes = recipeNames().filter((name) => {
  const precision = new RecipePrecision(Effect.runSync(recipes.get(name)), jsKernelSource(), 0);
  return OPERANDS.some(({ role, pass }) => precision.formatOf(role, "layer", pass)?.scaling.kind === "block");
});

describe("column layouts of 1-D block formats: in place = the lane-major copy", () => {
  it("covers the block recipes", () => expect(blockRecipes).toEqual(expect.arrayContaining(["mxfp8", "mxfp4", "nvfp4", "fp8-deepseek"])));
  for (const name of blockRecipes) {
    it(name, () => {
      const recipe = Effect.runSync(recipes.get(name));
      for (const source of [wasm, jsKernelSource()]) {
        const inPlace = new RecipePrecision(recipe, source, 3);
        const byHand = new RecipePrecision(recipe, source, 3);
        // 45 and 70 rows: a ragged last block for blocks of 16, 32 and 128; 1 row: no column to move.
        for (const [rows, cols] of [[45, 37], [70, 9], [1, 20]] as const)
          for (const { role, pass } of OPERANDS)
            if (inPlace.formatOf(role, "layer", pass)?.scaling.kind === "block") expectInPlaceIsCopy(inPlace, byHand, role, pass, rows, cols, source.target);
      }
    });
  }
});

/** Recipes with a GEMM operand whose format has a plan for channels as columns. */
const columnPlanRecipes = recipeNames().filter((name) => {
  const precision = new RecipePrecision(Effect.runSync(recipes.get(name)), jsKernelSource(), 0);
  return OPERANDS.some(({ role, pass }) => {
    const format = precision.formatOf(role, "layer", pass);
    return format !== null && jsKernelSource().load(format).compiled.plans.fakeQuantizeColumns !== undefined;
  });
});

describe("column layouts of per-channel formats with a columns plan: in place = the lane-major copy", () => {
  it("covers the ShiftQuant recipes", () => expect(columnPlanRecipes).toEqual(expect.arrayContaining(["shiftquant4", "shiftquant6", "shiftquant8"])));
  for (const name of columnPlanRecipes) {
    it(name, () => {
      const recipe = Effect.runSync(recipes.get(name));
      for (const source of [wasm, wasmThreads, jsKernelSource()]) {
        const inPlace = new RecipePrecision(recipe, source, 3);
        const byHand = new RecipePrecision(recipe, source, 3);
        // 300 × 250: enough elements for the threaded runner to split a plan it may split.
        for (const [rows, cols] of [[300, 250], [45, 37], [1, 20], [20, 1]] as const)
          for (const { role, pass } of OPERANDS) expectInPlaceIsCopy(inPlace, byHand, role, pass, rows, cols, `${source.target} threads ${source.threads}`);
      }
    });
  }
});
