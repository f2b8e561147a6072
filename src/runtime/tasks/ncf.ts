/**
 * The NCF task (He et al. 2017): NeuMF on implicit feedback, trained with binary cross-entropy
 * on every training interaction plus 4 sampled negatives per epoch, evaluated by leave-one-out:
 * each user's latest item ranked among 99 sampled negatives, HR@10 and NDCG@10 averaged over
 * users. The data are the seeded generator's (data/implicit-generator.ts) unless `data` names a
 * MovieLens ratings.dat or u.data. The evaluation loss is the same binary cross-entropy over
 * the ranked candidates (the test item labelled 1, its negatives 0), averaged over all of them.
 */
import type { Backend } from "../backend.ts";
import { evalContext, type Ctx } from "../context.ts";
import { generateImplicitFeedback, type ImplicitGeneratorOptions } from "../data/implicit-generator.ts";
import type { ImplicitFeedback } from "../data/implicit.ts";
import { epochExamples, leaveOneOut, NCF_TEST_NEGATIVES, NCF_TRAIN_NEGATIVES, type LeaveOneOut } from "../data/leave-one-out.ts";
import { loadMovieLens } from "../data/movielens.ts";
import { rankingMetrics } from "../metrics/ranking.ts";
import { createNeuMf, type NeuMf, type NeuMfConfig } from "../models/ncf.ts";
import { binaryCrossEntropyWithLogits } from "../ops/loss.ts";
import type { Precision } from "../precision.ts";
import { widthFactor } from "../compare/settings.ts";
import { dataCache } from "./data-cache.ts";
import type { ModelFamily } from "./families.ts";
import type { Evaluation, MetricInfo, Task, TrainBatch } from "./task.ts";

/** The cut-off of HR@K and NDCG@K, as in the paper's tables. */
const K = 10;

/** Where the interactions come from and how they are split; the same options give the same split. */
export interface NcfDataOptions {
  /** Path to a MovieLens ratings.dat (ML-1M) or u.data (ML-100K); default: generated data. */
  readonly data?: string;
  /** Size of the generated data (users and items × scale); ignored with `data`. Default 1. */
  readonly scale?: number;
  /** Further generator settings (rank, sharpness, Zipf exponent, interactions per user). */
  readonly generator?: Omit<ImplicitGeneratorOptions, "seed" | "scale">;
  /**
   * Seeds the generator and the test negatives. Kept apart from the run seed so that every run
   * of a comparison (every recipe, every seed) ranks the same test items against the same
   * negatives. Default 0.
   */
  readonly dataSeed?: number;
  /** Sampled negatives ranked against each test item; default 99. */
  readonly testNegatives?: number;
}

/** What an NCF task is built from. */
export interface NcfTaskOptions extends NcfDataOptions {
  /** Seeds the model's initialization (the training negatives and order come from `trainBatches`' seed). */
  readonly seed: number;
  /** An already built split (a caller that runs many tasks loads the data once); overrides the data options. */
  readonly split?: LeaveOneOut;
  readonly model?: Partial<Omit<NeuMfConfig, "users" | "items" | "seed">>;
  /** Sampled negatives per training positive per epoch; default 4. */
  readonly trainNegatives?: number;
  /** Users scored per evaluation batch (each with its 1 + testNegatives candidates); default 256. */
  readonly evalBatchUsers?: number;
}

/** The NCF task, with its split and model exposed for tests and reports. */
export interface NcfTask extends Task {
  readonly data: ImplicitFeedback;
  readonly split: LeaveOneOut;
  readonly model: NeuMf;
}

export const NCF_METRICS: readonly MetricInfo[] = [
  { key: "hr10", label: "HR@10 %", higherIsBetter: true, percent: true },
  { key: "ndcg10", label: "NDCG@10 %", higherIsBetter: true, percent: true },
];

/** The interactions the options name, split leave-one-out with test negatives from `dataSeed`. */
export function ncfSplit(options: NcfDataOptions = {}): LeaveOneOut {
  const dataSeed = options.dataSeed ?? 0;
  const data = options.data !== undefined
    ? loadMovieLens(options.data)
    : generateImplicitFeedback({ ...options.generator, seed: dataSeed, scale: options.scale }).data;
  return leaveOneOut(data, dataSeed, options.testNegatives ?? NCF_TEST_NEGATIVES);
}

/** A freshly initialized NeuMF over the split of `options` (built here unless `options.split` is given). */
export function createNcfTask(options: NcfTaskOptions): NcfTask {
  const split = options.split ?? ncfSplit(options);
  const { data } = split;
  const model = createNeuMf({ ...options.model, users: data.users, items: data.items, seed: options.seed });
  const trainNegatives = options.trainNegatives ?? NCF_TRAIN_NEGATIVES;
  const examplesPerEpoch = split.trainItems.length * (1 + trainNegatives);
  const evalBatchUsers = options.evalBatchUsers ?? 256;
  if (!Number.isInteger(evalBatchUsers) || evalBatchUsers < 1) throw new RangeError(`ncf: evalBatchUsers must be a positive integer, got ${evalBatchUsers}`);
  const candidates = testCandidates(split);

  return {
    name: "ncf",
    data,
    split,
    model,
    metrics: NCF_METRICS,
    parameters: () => model.parameters(),
    batchesPerEpoch: (batchSize) => Math.ceil(examplesPerEpoch / checkBatchSize(batchSize)),
    *trainBatches(batchSize, runSeed, epoch): Generator<TrainBatch> {
      checkBatchSize(batchSize);
      const ex = epochExamples(split, trainNegatives, runSeed, epoch);
      for (let start = 0; start < ex.labels.length; start += batchSize) {
        const end = Math.min(start + batchSize, ex.labels.length);
        const users = ex.users.subarray(start, end), items = ex.items.subarray(start, end), labels = ex.labels.subarray(start, end);
        yield { examples: end - start, loss: (ctx: Ctx) => binaryCrossEntropyWithLogits(ctx, model.forward(ctx, users, items), labels) };
      }
    },
    evaluate(backend: Backend, precision: Precision): Evaluation {
      const ctx = evalContext(backend, precision);
      const per = 1 + split.negativesPerUser;
      const scores = new Float64Array(candidates.users.length);
      let lossSum = 0;
      for (let u = 0; u < data.users; u += evalBatchUsers) {
        const start = u * per, end = Math.min(u + evalBatchUsers, data.users) * per;
        const logits = model.forward(ctx, candidates.users.subarray(start, end), candidates.items.subarray(start, end));
        scores.set(logits.data, start);
        lossSum += binaryCrossEntropyWithLogits(ctx, logits, candidates.labels.subarray(start, end)).data[0] * (end - start);
      }
      const { hitRatio, ndcg } = rankingMetrics(scores, per, K);
      return { loss: lossSum / scores.length, metrics: { hr10: hitRatio, ndcg10: ndcg } };
    },
  };
}

/** Every user's test item followed by its negatives, as the (user, item, label) rows evaluation scores. */
function testCandidates(split: LeaveOneOut): { users: Int32Array; items: Int32Array; labels: Float32Array } {
  const per = 1 + split.negativesPerUser;
  const n = split.testItems.length * per;
  const users = new Int32Array(n), items = new Int32Array(n), labels = new Float32Array(n);
  for (let u = 0; u < split.testItems.length; u++) {
    const o = u * per;
    users.fill(u, o, o + per);
    items[o] = split.testItems[u];
    labels[o] = 1;
    items.set(split.testNegatives.subarray(u * split.negativesPerUser, (u + 1) * split.negativesPerUser), o + 1);
  }
  return { users, items, labels };
}

function checkBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`ncf: batch size must be a positive integer, got ${batchSize}`);
  return batchSize;
}

const splits = dataCache((key: string) => {
  const { data, scale } = JSON.parse(key) as { data: string | null; scale: number };
  return ncfSplit(data === null ? { scale } : { data });
});

/**
 * NCF as a model family of `numforge compare`: the split is built once per process and shared by
 * every run (the same test negatives for every recipe and seed); `scale` multiplies the generated
 * users and items, and its whole factor the model's. NeuMF has no normalization layers, so a recipe's L1
 * normalization changes nothing here.
 */
export const ncfFamily: ModelFamily = {
  name: "ncf",
  description: "NeuMF (GMF + MLP towers) on implicit feedback, leave-one-out with 99 sampled negatives; metrics: HR@10, NDCG@10",
  dataHelp: "a MovieLens ratings.dat (ML-1M) or u.data (ML-100K) file (default: generated data with planted low-rank preferences and popularity skew)",
  defaults: { epochs: 5, batchSize: 256, optimizer: "adam", learningRate: { adam: 5e-3, sgd: 0.05 }, width: null },
  metrics: NCF_METRICS,
  describe(settings) {
    const split = splits(JSON.stringify({ data: settings.data, scale: settings.scale }));
    const source = settings.data === null ? `generated implicit feedback (data seed 0, scale ${settings.scale})` : `MovieLens ratings in ${settings.data}`;
    const w = widthFactor(settings);
    return `ncf (NeuMF, ${8 * w} GMF factors, MLP [${[32, 16, 8].map((x) => x * w).join(", ")}]) on ${source}: ${split.data.users} users, ${split.data.items} items`;
  },
  load(settings) {
    splits(JSON.stringify({ data: settings.data, scale: settings.scale }));
  },
  createTask(settings, seed) {
    const split = splits(JSON.stringify({ data: settings.data, scale: settings.scale }));
    const w = widthFactor(settings);
    return createNcfTask({ seed, split, model: { factors: 8 * w, mlpLayers: [32 * w, 16 * w, 8 * w] } });
  },
};
