/**
 * conv2d's forward GEMM operand blocked along K (C·KH·KW) is quantized either where the im2col
 * matrix lies (1-D blocks down its columns, when the precision says it can:
 * Precision.quantizesColumnsInPlace) or on the windows built as rows (im2row) and multiplied
 * transposed. Both layouts must give the same outputs and gradients bit for bit, for every recipe
 * that blocks the forward activation along K, on the JS and wasm GEMMs.
 */
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry, recipeNames } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import { jsKernelSource } from "../../src/runtime/backends/kernel-source.ts";
import type { KernelBackend } from "../../src/runtime/backends/js.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { conv2d } from "../../src/runtime/ops/conv2d.ts";
import type { Precision } from "../../src/runtime/precision.ts";
import { parameter, Tensor, type FloatArray } from "../../src/runtime/tensor.ts";

const recipes = createRecipeRegistry(createRegistry());
const backends: KernelBackend[] = [];
beforeAll(async () => {
  backends.push(await createBackend("js"), await createBackend("wasm"));
});

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 3.1 + i * 0.77) * 2 ** ((i % 11) - 5));
}

/** The precision with the in-place column layout refused: conv2d then builds the windows as rows. */
function rowsOnly(p: Precision): Precision {
  return new Proxy(p, { get: (target, key) => (key === "quantizesColumnsInPlace" ? () => false : Reflect.get(target, key, target)) });
}

function run(backend: KernelBackend, precision: Precision): FloatArray[] {
  const ctx = trainContext(backend, precision);
  const x = new Tensor([3, 5, 7, 6], values(3 * 5 * 42, 1), true);
  const w = parameter("conv", [8, 5, 3, 3], values(8 * 45, 2));
  const b = parameter("conv.bias", [8], values(8, 3));
  const y = conv2d(ctx, x, w, b, "conv", { padding: 1 });
  ctx.tape.backward(y, values(y.size, 4));
  return [y.data, x.grad!, w.grad!, b.grad!];
}

const bits = (a: FloatArray) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("conv2d: windows as columns quantized in place = windows as rows", () => {
  const along = recipeNames().filter((name) => {
    const p = new RecipePrecision(Effect.runSync(recipes.get(name)), jsKernelSource(), 0);
    return p.quantizesAlongK("activation", "conv", "forward");
  });
  it("covers the recipes that block the forward activation along K, in place where they can", () => {
    expect(along).toEqual(expect.arrayContaining(["mxfp8", "mxfp4", "nvfp4", "fp8-deepseek"]));
  });
  for (const name of along) {
    it(name, () => {
      const recipe = Effect.runSync(recipes.get(name));
      for (const backend of backends) {
        const inPlace = new RecipePrecision(recipe, backend.kernels, 5);
        const [a, b] = [run(backend, inPlace), run(backend, rowsOnly(new RecipePrecision(recipe, backend.kernels, 5)))];
        for (let i = 0; i < a.length; i++) expect(bits(a[i]!), `${backend.name} ${["y", "dx", "dw", "db"][i]}`).toEqual(bits(b[i]!));
      }
    });
  }
});
