import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { RecipePrecision } from "../../src/recipes/precision.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { SequenceScore } from "../../src/runtime/metrics/sequence.ts";
import { adam } from "../../src/runtime/optim/adam.ts";
import { identityPrecision, type Precision } from "../../src/runtime/precision.ts";
import { createTransformerTask, loadG2PData } from "../../src/runtime/tasks/transformer.ts";

const backend = await createBackend();
const data = loadG2PData({ trainSize: 1000, testSize: 100, maxLetters: 5 });
const STEPS = 150;

/** A tiny Transformer (D 32, one layer each side) trained for STEPS batches of 32 words with Adam. */
function trainTiny(precision: Precision) {
  const task = createTransformerTask({ seed: 1, data, model: { dModel: 32, heads: 2, ffnSize: 64, encoderLayers: 1, decoderLayers: 1 } });
  const untrained = task.evaluate(backend, identityPrecision);
  const optimizer = adam(task.parameters());
  let step = 0;
  for (let epoch = 0; step < STEPS; epoch++) {
    for (const batch of task.trainBatches(32, 1, epoch)) {
      if (step === STEPS) break;
      const ctx = trainContext(backend, precision);
      const loss = batch.loss(ctx);
      expect(Number.isFinite(loss.data[0])).toBe(true);
      ctx.tape.backward(loss);
      optimizer.step(3e-3, precision);
      optimizer.zeroGrad();
      step++;
    }
  }
  return { untrained, trained: task.evaluate(backend, precision) };
}

/**
 * Chance, made concrete: knowing each test word's phoneme count, write the training set's most
 * frequent phoneme that many times. Its PER is 1 − (the share of that phoneme), about 0.9; its
 * word accuracy is 0 (no test word is one phoneme repeated).
 */
function majorityBaseline() {
  const counts = new Map<string, number>();
  for (const e of data.train) for (const p of e.phonemes) counts.set(p, (counts.get(p) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  const score = new SequenceScore();
  const id = (p: string) => data.phonemes.ids.get(p)!;
  for (const e of data.test) score.add(e.phonemes.map(() => id(top)), e.phonemes.map(id));
  return { per: score.phonemeErrorRate, wordAccuracy: score.wordAccuracy };
}

describe("a tiny Transformer learns grapheme-to-phoneme conversion in 150 steps", () => {
  const chance = majorityBaseline();

  it("the chance baseline is what it claims", () => {
    expect(chance.per).toBeGreaterThan(0.8);
    expect(chance.wordAccuracy).toBeLessThan(0.02);
  });

  for (const recipe of ["fp32", "s2fp8"]) {
    it(`under ${recipe}: PER under half of chance, word accuracy above 10%`, () => {
      const precision = recipe === "fp32"
        ? identityPrecision
        : new RecipePrecision(Effect.runSync(createRecipeRegistry(createRegistry()).get(recipe)), backend.kernels, 0);
      const { untrained, trained } = trainTiny(precision);
      expect(untrained.metrics.wordAccuracy).toBe(0);
      expect(untrained.metrics.per).toBeGreaterThan(chance.per);
      expect(trained.metrics.per).toBeLessThan(chance.per / 2);
      expect(trained.metrics.wordAccuracy).toBeGreaterThan(0.1);
      expect(trained.loss).toBeLessThan(untrained.loss / 1.5);
    });
  }
});
