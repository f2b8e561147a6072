/**
 * conv2d keeps the buffers that live only inside one call (its GEMM output, the error's copies, the
 * weight-gradient im2col matrix, the quantized activation im2col reads) in reusable scratch
 * (ops/scratch.ts). Nothing may leak between calls through it: two convolutions on one tape (both
 * forwards before either backward, the second smaller, so its buffers are shorter views of what the
 * first left) give exactly the outputs and gradients of each run alone, with the quantizations of
 * several recipes around them, in float32 and float64.
 */
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import { jsKernelSource } from "../../src/runtime/backends/kernel-source.ts";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import { identityPrecision, type Precision } from "../../src/runtime/precision.ts";
import { parameter, Tensor, type FloatArray } from "../../src/runtime/tensor.ts";

const recipes = createRecipeRegistry(createRegistry());
const backend = createReferenceBackend();

function values(n: number, seed: number, wide: boolean): FloatArray {
  const out = wide ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 7.31 + i * 1.7) * 2 ** ((i % 9) - 4);
  return out;
}

/**
 * Convolutions of `inputs` (each by its own weight and bias, named per input so a recipe keys its
 * state per site) recorded on one tape — every forward before any backward — with each output's
 * gradient seeded: the gradients of every weight, bias and input, and the outputs.
 */
interface Input {
  readonly data: FloatArray;
  readonly shape: readonly number[];
  readonly site: string;
  /** Picks the layer's weights and its output's gradient seed. */
  readonly seed: number;
}

function pass(precision: Precision, inputs: readonly Input[], wide: boolean) {
  const ctx = trainContext(backend, precision);
  const layers = inputs.map(({ data, shape, site, seed }) => {
    const x = new Tensor(shape, data, true);
    const w = parameter(site, [4, 3, 3, 3], values(4 * 27, seed, wide));
    const b = parameter(`${site}.bias`, [4], values(4, seed + 1, wide));
    return { x, w, b, seed, y: conv2d(ctx, x, w, b, site, { padding: 1 }) };
  });
  // The last output is the root; the others' gradients are seeded by hand, so one backward runs every closure.
  for (const { y, seed } of layers.slice(0, -1)) y.grad = values(y.size, seed + 2, wide);
  const last = layers[layers.length - 1]!;
  ctx.tape.backward(last.y, values(last.y.size, last.seed + 2, wide));
  return layers.map(({ x, w, b, y }) => ({ x: x.grad!, w: w.grad!, b: b.grad!, y: y.data }));
}

const bits = (a: FloatArray) => Array.from(a instanceof Float64Array ? new Uint32Array(a.buffer, a.byteOffset, 2 * a.length) : new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("conv2d scratch buffers leak nothing between calls", () => {
  for (const recipe of ["fp32", "int8", "shiftquant8", "mxfp8", "s2fp8"]) {
    for (const wide of recipe === "fp32" ? [false, true] : [false]) {
      it(`${recipe}${wide ? " (float64)" : ""}: two inputs through one weight on one tape = two separate passes`, () => {
        const precision = () => (recipe === "fp32" ? identityPrecision : new RecipePrecision(Effect.runSync(recipes.get(recipe)), jsKernelSource(), 7));
        // A larger convolution, then a smaller one: the second's scratch views are shorter than the buffers the first left.
        const big: Input = { data: values(2 * 3 * 30, 3, wide), shape: [2, 3, 6, 5], site: "big", seed: 20 };
        const small: Input = { data: values(16 * 3, 4, wide), shape: [1, 3, 4, 4], site: "small", seed: 30 };
        const [sharedBig, sharedSmall] = pass(precision(), [big, small], wide);
        const [aloneBig] = pass(precision(), [big], wide);
        const [aloneSmall] = pass(precision(), [small], wide);
        for (const [shared, alone, name] of [[sharedBig!, aloneBig!, "big"], [sharedSmall!, aloneSmall!, "small"]] as const) {
          for (const key of ["y", "x", "w", "b"] as const) expect(bits(shared[key]), `${name} ${key}`).toEqual(bits(alone[key]));
        }
      });
    }
  }
});
