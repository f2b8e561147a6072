/**
 * The numerics recorder wraps every compare run's precision, so it must be invisible to the ops:
 * the GEMM operands of a training step under a recipe whose scales run along each GEMM's K and
 * which rotates a GEMM (nvfp4), or blocks along K (mxfp8, fp8-deepseek), are bit for bit those of
 * the bare RecipePrecision, recording or not. (It once dropped quantizesAlongK and rotates, and
 * compare trained such recipes on the wrong layouts.)
 */
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import type { Backend, GemmParams } from "../../src/runtime/backend.ts";
import type { KernelBackend } from "../../src/runtime/backends/js.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { NumericsRecorder } from "../../src/runtime/numerics/recorder.ts";
import { softmaxCrossEntropy } from "../../src/runtime/ops/loss.ts";
import type { Precision } from "../../src/runtime/precision.ts";
import { Rng } from "../../src/runtime/random.ts";
import { Tensor } from "../../src/runtime/tensor.ts";

let backend: KernelBackend;
beforeAll(async () => {
  backend = await createBackend("wasm", 1);
});
const recipes = createRecipeRegistry(createRegistry());

/** Every GEMM's operands in one forward + backward step of a small ResNet (batch 16: K of the weight gradients spans blocks). */
function gemmOperands(precision: Precision): Float32Array[] {
  const calls: GemmParams[] = [];
  const spy: Backend = { name: "spy", gemm: (p) => { calls.push({ ...p, a: p.a.slice(0, p.m * p.k), b: p.b.slice(0, p.k * p.n) }); backend.gemm(p); } };
  const model = createResNet({ stemChannels: 4, stages: [{ channels: 4, blocks: 1, stride: 1 }, { channels: 8, blocks: 1, stride: 2 }], seed: 1 });
  const rng = new Rng(2);
  const n = 16;
  const x = Float32Array.from({ length: n * 28 * 28 }, () => rng.normal());
  const ctx = trainContext(spy, precision);
  ctx.tape.backward(softmaxCrossEntropy(ctx, model.forward(ctx, new Tensor([n, 1, 28, 28], x)), Uint8Array.from({ length: n }, (_, i) => i % 10)), Float32Array.of(1));
  return calls.flatMap((c) => [c.a as Float32Array, c.b as Float32Array]);
}

describe("the numerics recorder leaves every GEMM operand as the recipe makes it", () => {
  for (const name of ["nvfp4", "mxfp8", "fp8-deepseek"]) {
    it(name, () => {
      const recipe = Effect.runSync(recipes.get(name));
      const bare = gemmOperands(new RecipePrecision(recipe, backend.kernels, 5));
      for (const every of [0, 1]) {
        const recorder = new NumericsRecorder(new RecipePrecision(recipe, backend.kernels, 5), backend.kernels, every, () => 0.1);
        recorder.setStep(0);
        const wrapped = gemmOperands(recorder);
        expect(wrapped.length).toBe(bare.length);
        // Bytes, not toEqual: the operands are large and NaN-free, and a byte compare is fast.
        const differing = wrapped.flatMap((operand, i) => (Buffer.from(operand.buffer, operand.byteOffset, operand.byteLength).equals(Buffer.from(bare[i].buffer, bare[i].byteOffset, bare[i].byteLength)) ? [] : [i]));
        expect(differing, `operands that differ, recording every ${every}`).toEqual([]);
      }
    });
  }
});
