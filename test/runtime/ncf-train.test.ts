import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { adam } from "../../src/runtime/optim/adam.ts";
import { identityPrecision, type Precision } from "../../src/runtime/precision.ts";
import { createNcfTask, ncfSplit, NCF_METRICS, type NcfTask } from "../../src/runtime/tasks/ncf.ts";

/** The fastest backend here (wasm where SIMD validates): its quantization kernels make the s2fp8 run 3× quicker than js. */
const backend = await createBackend();
/** A small generated data set: 200 users × 300 items, 20–40 interactions each. */
const split = ncfSplit({ generator: { users: 200, items: 300 } });
const BATCH = 512;

/** Adam on every batch of `epochs` epochs (run seed 0), as a session would drive the task. */
function train(task: NcfTask, precision: Precision & { setStep?(step: number): void }, epochs: number, lr: number): number[] {
  const optimizer = adam(task.parameters());
  const losses: number[] = [];
  for (let epoch = 0, step = 0; epoch < epochs; epoch++) {
    for (const batch of task.trainBatches(BATCH, 0, epoch)) {
      precision.setStep?.(step++);
      const ctx = trainContext(backend, precision);
      const loss = batch.loss(ctx);
      ctx.tape.backward(loss);
      optimizer.step(lr, precision);
      optimizer.zeroGrad();
      losses.push(loss.data[0]);
    }
  }
  return losses;
}

describe("NCF task", () => {
  it("yields batchesPerEpoch batches covering every positive and its 4 negatives, the same for the same (seed, epoch)", () => {
    const task = createNcfTask({ seed: 1, split });
    const batches = [...task.trainBatches(BATCH, 3, 0)];
    expect(batches.length).toBe(task.batchesPerEpoch(BATCH));
    expect(batches.reduce((s, b) => s + b.examples, 0)).toBe(5 * split.trainItems.length);
    const firstLoss = (seed: number, epoch: number) => [...task.trainBatches(BATCH, seed, epoch)][0].loss(trainContext(backend)).data[0];
    expect(firstLoss(3, 0)).toBe(firstLoss(3, 0));
    expect(firstLoss(3, 0)).not.toBe(firstLoss(3, 1));
    expect(task.metrics).toBe(NCF_METRICS);
    expect(() => task.batchesPerEpoch(0)).toThrow(/batch size must be a positive integer/);
  });

  it("starts near chance: HR@10 about 10%, test loss log 2", () => {
    const e = createNcfTask({ seed: 1, split }).evaluate(backend, identityPrecision);
    expect(Object.keys(e.metrics).sort()).toEqual(["hr10", "ndcg10"]);
    expect(e.metrics.hr10).toBeLessThan(0.2);
    expect(e.loss).toBeCloseTo(Math.LN2, 2);
  });

  it("learns in fp32: HR@10 and NDCG@10 far above chance (10% and 4.5%) after 3 epochs", () => {
    const task = createNcfTask({ seed: 1, split });
    const losses = train(task, identityPrecision, 3, 0.02);
    expect(losses.every(Number.isFinite)).toBe(true);
    const e = task.evaluate(backend, identityPrecision);
    expect(e.metrics.hr10).toBeGreaterThan(0.3);
    expect(e.metrics.ndcg10).toBeGreaterThan(0.15);
    expect(e.loss).toBeLessThan(0.25);
  });

  it("learns under the s2fp8 recipe (every embedding, GEMM operand and weight gradient in shifted-squeezed E5M2)", () => {
    const recipe = Effect.runSync(createRecipeRegistry(createRegistry()).get("s2fp8"));
    const precision = new RecipePrecision(recipe, backend.kernels, 0);
    const task = createNcfTask({ seed: 1, split });
    const losses = train(task, precision, 3, 0.02);
    expect(losses.every(Number.isFinite)).toBe(true);
    const e = task.evaluate(backend, precision);
    expect(e.metrics.hr10).toBeGreaterThan(0.3);
    expect(e.metrics.ndcg10).toBeGreaterThan(0.15);
    expect(task.evaluate(backend, identityPrecision).loss).not.toBe(e.loss);
  });
});
