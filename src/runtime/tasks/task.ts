/**
 * A training task: one model family with its data, its loss and its evaluation (the papers'
 * three: image classification with a ResNet, grapheme-to-phoneme with a Transformer, implicit-
 * feedback recommendation with NCF). The session and `numforge compare` drive any task through
 * this interface only, so a new model family is a new file under src/runtime/tasks.
 */
import type { Backend } from "../backend.ts";
import type { Ctx } from "../context.ts";
import type { BatchNormState } from "../ops/batchnorm.ts";
import type { Precision } from "../precision.ts";
import type { Tensor } from "../tensor.ts";

/** How a task's metric is read and compared. */
export interface MetricInfo {
  /** Key in `Evaluation.metrics`, e.g. "accuracy", "wordAccuracy", "hr10". */
  readonly key: string;
  /** Column heading, e.g. "test acc %", "PER %", "HR@10 %". */
  readonly label: string;
  /** false for error rates (phoneme error rate): a lower value is the better one. */
  readonly higherIsBetter: boolean;
  /** Reports show the value × 100 (a fraction in results.json, a percentage in tables). */
  readonly percent: boolean;
}

/** What an evaluation on the test split measured; `metrics` has every key of `Task.metrics`. */
export interface Evaluation {
  /** Mean loss on the test split (the training loss, eval mode). */
  readonly loss: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** One training step's worth of data. */
export interface TrainBatch {
  /** Examples in the batch (images, words, user–item pairs), for throughput figures. */
  readonly examples: number;
  /** The scalar training loss of this batch, recorded on `ctx.tape`. */
  loss(ctx: Ctx): Tensor;
}

/** A model family, its data and its evaluation, built for one seed. */
export interface Task {
  /** The `--model` name: "resnet", "transformer", "ncf". */
  readonly name: string;
  /** Every trainable tensor, in a stable order, each with a unique name (optimizer state and checkpoints key on it). */
  parameters(): Tensor[];
  /** Running statistics of normalization layers, by site (saved in checkpoints). */
  normStates?(): ReadonlyMap<string, BatchNormState>;
  /** The metrics `evaluate` reports; the first is the one reports rank formats by. */
  readonly metrics: readonly MetricInfo[];
  /** Number of batches `trainBatches` yields per epoch. */
  batchesPerEpoch(batchSize: number): number;
  /** The batches of epoch `epoch`: the same (seed, epoch) gives the same batches (resumed runs rely on it). */
  trainBatches(batchSize: number, seed: number, epoch: number): Iterable<TrainBatch>;
  /** Evaluates in eval mode (no tape, running statistics) on the test split. */
  evaluate(backend: Backend, precision: Precision): Evaluation;
}
