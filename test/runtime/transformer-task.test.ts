import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { trainContext } from "../../src/runtime/context.ts";
import { cmuDictFiles, loadCmuDict } from "../../src/runtime/data/cmudict.ts";
import { identityPrecision } from "../../src/runtime/precision.ts";
import type { ModelSettings } from "../../src/runtime/compare/settings.ts";
import { transformerFamily } from "../../src/runtime/tasks/transformer-family.ts";
import { bucketedBatches, createTransformerTask, G2P_TEST_WORDS, G2P_TRAIN_WORDS, loadG2PData } from "../../src/runtime/tasks/transformer.ts";

const files = cmuDictFiles();
const data = loadCmuDict({ seed: 0, trainSize: 70, testSize: 9, maxLetters: 6 }, files);
const small = { dModel: 8, heads: 2, ffnSize: 16, encoderLayers: 1, decoderLayers: 1 };
const backend = createReferenceBackend();

describe("the Transformer G2P task", () => {
  const task = createTransformerTask({ seed: 2, data, model: small });

  it("reports word accuracy first (primary) and PER, as fractions", () => {
    expect(task.name).toBe("transformer");
    expect(task.metrics.map((m) => [m.key, m.higherIsBetter, m.percent])).toEqual([["wordAccuracy", true, true], ["per", false, true]]);
    const evaluation = task.evaluate(backend, identityPrecision);
    expect(Object.keys(evaluation.metrics).sort()).toEqual(["per", "wordAccuracy"]);
    expect(evaluation.metrics.wordAccuracy).toBeGreaterThanOrEqual(0);
    expect(evaluation.metrics.per).toBeGreaterThan(0);
    expect(Number.isFinite(evaluation.loss) && evaluation.loss > 0).toBe(true);
  });

  it("an epoch is ⌈70 / 32⌉ batches holding each training word once, and its losses depend only on (seed, epoch)", () => {
    expect(task.batchesPerEpoch(32)).toBe(3);
    expect([...task.trainBatches(32, 5, 1)].map((b) => b.examples).sort((a, b) => a - b)).toEqual([6, 32, 32]);
    const lossesOf = (seed: number, epoch: number) => [...task.trainBatches(32, seed, epoch)].map((b) => b.loss(trainContext(backend)).data[0]);
    const first = lossesOf(5, 1);
    expect(lossesOf(5, 1)).toEqual(first);
    expect(lossesOf(5, 2)).not.toEqual(first);
    expect(lossesOf(6, 1)).not.toEqual(first);
  });

  it("bucketing: batches of similar lengths, every word once per epoch, the same for the same (seed, epoch)", () => {
    const words = loadCmuDict({ seed: 1, trainSize: 2000, testSize: 1 }, files).train;
    const batches = bucketedBatches(words, 25, 7, 0);
    expect(batches.length).toBe(80);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(bucketedBatches(words, 25, 7, 0)).toEqual(batches);
    expect(bucketedBatches(words, 25, 7, 1)).not.toEqual(batches);
    // Share of real target tokens (phonemes + EOS) in the padded batches, against the same words batched at random.
    const fill = (bs: number[][]) => {
      let real = 0;
      let padded = 0;
      for (const b of bs) {
        const lengths = b.map((i) => words[i].phonemes.length + 1);
        real += lengths.reduce((x, y) => x + y, 0);
        padded += Math.max(...lengths) * b.length;
      }
      return real / padded;
    };
    const random = Array.from({ length: 80 }, (_, i) => Array.from({ length: 25 }, (_, j) => i * 25 + j));
    expect(fill(random)).toBeLessThan(0.75);
    expect(fill(batches)).toBeGreaterThan(0.9);
  });

  it("the training loss reaches every parameter", () => {
    const [batch] = task.trainBatches(16, 0, 0);
    const ctx = trainContext(backend);
    for (const p of task.parameters()) p.grad = null;
    ctx.tape.backward(batch.loss(ctx));
    const without = task.parameters().filter((p) => p.grad === null || p.grad.every((g) => g === 0)).map((p) => p.name);
    expect(without).toEqual([]);
  });

  it("two tasks with the same seed start from the same weights; another seed differs", () => {
    const weights = (seed: number) => createTransformerTask({ seed, data, model: small }).parameters().map((p) => Array.from(p.data));
    expect(weights(2)).toEqual(task.parameters().map((p) => Array.from(p.data)));
    expect(weights(3)).not.toEqual(weights(2));
  });

  it("scale multiplies the default subset sizes; bad options are named", () => {
    expect(G2P_TRAIN_WORDS).toBe(6000);
    expect(G2P_TEST_WORDS).toBe(1000);
    const half = loadG2PData({ scale: 0.5 });
    expect([half.train.length, half.test.length]).toEqual([3000, 500]);
    expect(() => loadG2PData({ scale: 0 })).toThrow(/scale must be positive/);
    expect(() => createTransformerTask({ seed: 0, data, evalBatchSize: 0 })).toThrow(/evalBatchSize must be a positive integer/);
    expect(() => [...task.trainBatches(0, 0, 0)]).toThrow(/batch size must be a positive integer/);
  });
});

describe("the transformer model family", () => {
  const settings: ModelSettings = {
    model: "transformer", scale: 0.1, width: null, epochs: 1, batchSize: 32, stepsPerEpoch: null, optimizer: "adam", learningRate: 2e-3, data: null,
  };

  it("builds the task of a run at the settings' scale, with L1 norms when the recipe asks", () => {
    const task = transformerFamily.createTask(settings, 4, { normalization: "l1" }) as ReturnType<typeof createTransformerTask>;
    expect(task.name).toBe("transformer");
    expect([task.data.train.length, task.data.test.length]).toEqual([600, 100]);
    expect(task.model.config.norm).toBe("l1");
    expect(task.metrics).toEqual(transformerFamily.metrics);
    expect(transformerFamily.describe(settings)).toContain("600 train / 100 test words");
  });

  it("refuses --data, naming the file", () => {
    expect(() => transformerFamily.load({ ...settings, data: "words.txt" })).toThrow(/--data is not supported.*words\.txt/);
  });
});
