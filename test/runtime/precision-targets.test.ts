/**
 * RecipePrecision quantizes in place through its kernel source's plan runner: on the wasm kernels
 * with every buffer resident in the module's heap, on the JS kernels through runPlan. Both give the
 * same bits, and the same delayed-scaling state, for every shipped recipe, every role and GEMM,
 * channel layouts by rows and by columns (a gathered copy) and none, stochastic rounding over
 * several steps, tensors with NaN, ±∞ and zeros of odd lengths, in float32 and float64.
 */
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { createRecipeRegistry, recipeNames } from "../../src/recipes/load.ts";
import { RecipePrecision, type PrecisionState } from "../../src/recipes/precision.ts";
import { jsKernelSource, wasmKernelSource, type KernelSource } from "../../src/runtime/backends/kernel-source.ts";
import { columnChannels, rowChannels, type ChannelLayout, type GemmPass, type TensorRole } from "../../src/runtime/precision.ts";
import type { FloatArray } from "../../src/runtime/tensor.ts";

const recipes = createRecipeRegistry(createRegistry());
const ROWS = 6;
const COLS = 35;

let wasm: KernelSource;
beforeAll(async () => {
  wasm = await wasmKernelSource();
});

/** Log-uniform magnitudes with NaN, ±∞ and zeros. */
function tensor(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const u = counterRandom(seed, i) / 2 ** 32;
    if (u < 0.06) return [0, -0, Number.NaN, Infinity, -Infinity, 0][i % 6];
    return (counterRandom(seed + 1, i) & 1 ? -1 : 1) * 2 ** ((counterRandom(seed + 2, i) / 2 ** 32 - 0.5) * 24);
  });
}

/** Bits of every element (float64 arrays by their two words). */
const bits = (t: FloatArray) => Array.from(t instanceof Float32Array ? new Uint32Array(t.buffer, t.byteOffset, t.length) : new Uint32Array(t.buffer, t.byteOffset, 2 * t.length));
const stateWords = (state: PrecisionState) => Object.fromEntries(Object.entries(state).map(([key, buffers]) => [key, Object.fromEntries(Object.entries(buffers).map(([name, b]) => [name, Array.from(b)]))]));

/** Every quantization a training step makes: role, GEMM and the operand's channel layout. */
const CALLS: readonly { role: TensorRole; pass?: GemmPass; layout?: ChannelLayout }[] = [
  { role: "weight", pass: "forward", layout: rowChannels(ROWS, COLS) },
  { role: "weight", pass: "inputGradient", layout: columnChannels(ROWS, COLS) },
  { role: "activation", pass: "forward", layout: rowChannels(ROWS, COLS) },
  { role: "activation", pass: "weightGradient", layout: columnChannels(ROWS, COLS) },
  { role: "error", pass: "inputGradient", layout: rowChannels(ROWS, COLS) },
  { role: "error", pass: "weightGradient", layout: columnChannels(ROWS, COLS) },
  { role: "weightGradient" },
  { role: "optimizerState" },
  { role: "master" },
];

describe("RecipePrecision: wasm (resident, in place) = JS", () => {
  for (const name of recipeNames()) {
    it(name, () => {
      const recipe = Effect.runSync(recipes.get(name));
      const on = (source: KernelSource) => new RecipePrecision(recipe, source, 11);
      const [viaWasm, viaJs] = [on(wasm), on(jsKernelSource())];
      let changed = 0;
      for (let step = 0; step < 3; step++) {
        viaWasm.setStep(step);
        viaJs.setStep(step);
        CALLS.forEach(({ role, pass, layout }, k) => {
          if (!viaJs.active(role, "layer", pass)) return;
          const x = tensor(ROWS * COLS, 1000 * step + k);
          for (const t of [x, Float64Array.from(x)]) {
            const [a, b] = [t.slice(), t.slice()];
            viaWasm.quantize(role, a, "layer", pass, layout);
            viaJs.quantize(role, b, "layer", pass, layout);
            expect(bits(a), `${role} ${pass ?? ""} step ${step} ${t.constructor.name}`).toEqual(bits(b));
            if (bits(a).some((w, i) => w !== bits(t)[i])) changed++;
          }
        });
      }
      expect(stateWords(viaWasm.state())).toEqual(stateWords(viaJs.state()));
      // Recipes that quantize anything were seen to change values (so the comparison is not vacuous).
      if (CALLS.some(({ role, pass }) => viaJs.active(role, "layer", pass))) expect(changed).toBeGreaterThan(0);
    });
  }
});
