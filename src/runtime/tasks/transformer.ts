/**
 * Grapheme-to-phoneme conversion as a Task: an encoder–decoder Transformer reads a word's
 * letters and writes its ARPAbet phonemes (CMUdict, stress removed), the S2FP8 paper's
 * Transformer column scaled down to one CPU core. Training: teacher forcing, label-smoothed
 * cross-entropy over the real target positions. Evaluation: greedy decoding of the test words,
 * scored by word accuracy (primary) and phoneme error rate.
 */
import type { Backend } from "../backend.ts";
import { evalContext } from "../context.ts";
import type { Ctx } from "../context.ts";
import { epochOrder } from "../data/batches.ts";
import { BOS, EOS, loadCmuDict, type G2PData, type G2PEntry } from "../data/cmudict.ts";
import { g2pBatch, type G2PBatch } from "../data/g2p-batch.ts";
import { SequenceScore } from "../metrics/sequence.ts";
import { greedyDecode } from "../models/greedy-decode.ts";
import { createTransformer, type Transformer, type TransformerConfig } from "../models/transformer.ts";
import type { NormKind } from "../models/transformer-layers.ts";
import { softmaxCrossEntropy } from "../ops/loss.ts";
import { reshape } from "../ops/shape.ts";
import type { Precision } from "../precision.ts";
import { permutation, Rng } from "../random.ts";
import type { Tensor } from "../tensor.ts";
import type { Evaluation, MetricInfo, Task } from "./task.ts";

/** Exact-match rate of the greedy pronunciations (primary metric). */
export const WORD_ACCURACY: MetricInfo = { key: "wordAccuracy", label: "word acc %", higherIsBetter: true, percent: true };
/** Phoneme error rate: Σ edit distances / Σ reference lengths. */
export const PHONEME_ERROR_RATE: MetricInfo = { key: "per", label: "PER %", higherIsBetter: false, percent: true };

/** Training and test words at scale 1: a few epochs train in minutes on one core. */
export const G2P_TRAIN_WORDS = 6000;
export const G2P_TEST_WORDS = 1000;

/** What a G2P task is built from; only `seed` is required. */
export interface TransformerTaskOptions {
  /** Seeds the model's initialization. */
  readonly seed: number;
  /** Multiplies the subset sizes (6,000 training and 1,000 test words at 1). Default 1. */
  readonly scale?: number;
  /** Explicit subset sizes; override `scale`. */
  readonly trainSize?: number;
  readonly testSize?: number;
  /** Seeds the train/test split; fixed (0) by default so runs with different seeds share a test set. */
  readonly splitSeed?: number;
  /** Word length bounds in letters. Defaults 2 and 12. */
  readonly minLetters?: number;
  readonly maxLetters?: number;
  /** Already loaded data (a per-process cache); it replaces scale, sizes, split seed and letter bounds. */
  readonly data?: G2PData;
  readonly norm?: NormKind;
  /** Model sizes beyond the defaults of `defaultTransformerConfig`. */
  readonly model?: Partial<Omit<TransformerConfig, "sourceVocab" | "targetVocab" | "seed" | "norm">>;
  /** ε of the label-smoothed cross-entropy, in training and in the reported test loss. Default 0.1. */
  readonly labelSmoothing?: number;
  /** Words per evaluation batch. Default 250. */
  readonly evalBatchSize?: number;
}

/** The CMUdict subsets a task built with `options` trains and evaluates on. */
export function loadG2PData(options: Pick<TransformerTaskOptions, "scale" | "trainSize" | "testSize" | "splitSeed" | "minLetters" | "maxLetters">): G2PData {
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new RangeError(`transformer task: scale must be positive, got ${scale}`);
  return loadCmuDict({
    seed: options.splitSeed ?? 0,
    trainSize: options.trainSize ?? Math.round(G2P_TRAIN_WORDS * scale),
    testSize: options.testSize ?? Math.round(G2P_TEST_WORDS * scale),
    minLetters: options.minLetters,
    maxLetters: options.maxLetters,
  });
}

/** The G2P task over CMUdict with a freshly initialized Transformer. */
export function createTransformerTask(options: TransformerTaskOptions): Task & { readonly model: Transformer; readonly data: G2PData } {
  const data = options.data ?? loadG2PData(options);
  const smoothing = options.labelSmoothing ?? 0.1;
  const evalBatchSize = options.evalBatchSize ?? 250;
  if (!Number.isInteger(evalBatchSize) || evalBatchSize < 1) throw new RangeError(`transformer task: evalBatchSize must be a positive integer, got ${evalBatchSize}`);
  const all = [...data.train, ...data.test];
  const longest = (of: (e: G2PEntry) => number) => all.reduce((m, e) => Math.max(m, of(e)), 0);
  const model = createTransformer({
    // Position tables sized to the data unless the caller chose: BOS + phonemes on the decoder side.
    maxSourceLength: longest((e) => e.word.length),
    maxTargetLength: longest((e) => e.phonemes.length) + 1,
    ...options.model,
    sourceVocab: data.letters.symbols.length,
    targetVocab: data.phonemes.symbols.length,
    norm: options.norm ?? "layer",
    seed: options.seed,
  });
  // Scores do not depend on the order of the test words; sorted by length, batches carry little padding.
  const byLength = [...data.test].sort((a, b) => lengthKey(a) - lengthKey(b));
  const testBatches = chunks(byLength, evalBatchSize).map((words) => g2pBatch(words, data.letters, data.phonemes));
  return {
    name: "transformer",
    model,
    data,
    parameters: () => model.parameters(),
    metrics: [WORD_ACCURACY, PHONEME_ERROR_RATE],
    batchesPerEpoch: (batchSize) => Math.ceil(data.train.length / checkBatchSize(batchSize)),
    *trainBatches(batchSize, seed, epoch) {
      for (const indices of bucketedBatches(data.train, checkBatchSize(batchSize), seed, epoch)) {
        const batch = g2pBatch(indices.map((i) => data.train[i]), data.letters, data.phonemes);
        yield { examples: batch.size, loss: (ctx: Ctx) => teacherForcedLoss(ctx, model, batch, smoothing) };
      }
    },
    evaluate: (backend, precision) => evaluateG2P(model, testBatches, backend, precision, smoothing),
  };
}

/** Label-smoothed cross-entropy of the decoder's predictions at every real target position (EOS included). */
export function teacherForcedLoss(ctx: Ctx, model: Transformer, batch: G2PBatch, labelSmoothing: number): Tensor {
  const { size, sourceLength, targetLength } = batch;
  const memory = model.encode(ctx, { ids: batch.source, batch: size, length: sourceLength }, batch.sourcePadding);
  const hidden = model.decode(ctx, memory, batch.sourcePadding, { ids: batch.targetIn, batch: size, length: targetLength });
  const logits = reshape(ctx, model.project(ctx, hidden), [size * targetLength, -1]);
  const weights = Float64Array.from(batch.targetPadding, (p) => 1 - p);
  return softmaxCrossEntropy(ctx, logits, batch.targetOut, { labelSmoothing, rowWeights: weights });
}

/** Token-weighted test loss (teacher forcing) and the greedy outputs' word accuracy and PER. */
export function evaluateG2P(model: Transformer, batches: readonly G2PBatch[], backend: Backend, precision: Precision, labelSmoothing: number): Evaluation {
  const ctx = evalContext(backend, precision);
  const score = new SequenceScore();
  let lossSum = 0;
  let tokens = 0;
  for (const batch of batches) {
    const real = batch.targetPadding.reduce((n, p) => n + (1 - p), 0);
    lossSum += teacherForcedLoss(ctx, model, batch, labelSmoothing).data[0] * real;
    tokens += real;
    const source = { ids: batch.source, batch: batch.size, length: batch.sourceLength };
    const hypotheses = greedyDecode(ctx, model, source, batch.sourcePadding, { bos: BOS, eos: EOS });
    hypotheses.forEach((h, i) => score.add(h, batch.references[i]));
  }
  return { loss: lossSum / tokens, metrics: { wordAccuracy: score.wordAccuracy, per: score.phonemeErrorRate } };
}

/** Batches of one bucketing pool: enough for similar lengths to meet, few enough to keep batches varied. */
const POOL_BATCHES = 16;

/**
 * The batches (indices into `words`) of one epoch: the epoch's shuffled order cut into pools of
 * POOL_BATCHES·batchSize words, each pool sorted by length and cut into batches, then all batches
 * shuffled. Batches of similar lengths carry little padding (random batches of CMUdict words are
 * about 62% real tokens); every word is still seen once per epoch, in ⌈N / batchSize⌉ batches.
 */
export function bucketedBatches(words: readonly G2PEntry[], batchSize: number, seed: number, epoch: number): number[][] {
  const order = epochOrder(words.length, seed, epoch);
  const batches: number[][] = [];
  const pool = batchSize * POOL_BATCHES;
  for (let start = 0; start < order.length; start += pool) {
    const members = Array.from(order.subarray(start, start + pool)).sort((a, b) => lengthKey(words[a]) - lengthKey(words[b]) || a - b);
    for (let i = 0; i < members.length; i += batchSize) batches.push(members.slice(i, i + batchSize));
  }
  const shuffle = permutation(batches.length, new Rng(seed).fork(`epoch ${epoch} batches`));
  return Array.from(shuffle, (i) => batches[i]);
}

/** Orders words by phoneme count, then letter count. */
function lengthKey(e: G2PEntry): number {
  return e.phonemes.length * 64 + e.word.length;
}

function checkBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`transformer task: batch size must be a positive integer, got ${batchSize}`);
  return batchSize;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
