/**
 * A small, synchronous trainer: shuffled mini-batches, softmax cross-entropy, one optimizer
 * step per batch, test accuracy after every epoch. It reports through `onProgress` and
 * never prints; a non-finite loss ends the run with `diverged` instead of throwing.
 */
import type { Backend } from "./backend.ts";
import { evalContext, trainContext } from "./context.ts";
import { batchCount, batches } from "./data/batches.ts";
import type { Dataset, TrainTest } from "./data/dataset.ts";
import { countCorrect } from "./metrics.ts";
import type { Model } from "./models/model.ts";
import { softmaxCrossEntropy } from "./ops/loss.ts";
import type { Optimizer } from "./optim/optimizer.ts";
import type { Schedule } from "./optim/schedule.ts";
import { identityPrecision, type Precision } from "./precision.ts";

/** Everything a training run depends on; the same options and seed give the same losses. */
export interface TrainOptions {
  readonly model: Model;
  readonly data: TrainTest;
  /** Built over `model.parameters()`. */
  readonly optimizer: Optimizer;
  /** Learning rate as a function of the 0-based global step. */
  readonly schedule: Schedule;
  readonly epochs: number;
  readonly batchSize: number;
  /** Seeds the batch order of every epoch. */
  readonly seed: number;
  readonly backend: Backend;
  readonly precision?: Precision;
  readonly labelSmoothing?: number;
  /** Stop after this many steps (the epoch in progress is still evaluated). */
  readonly maxSteps?: number;
  readonly evalBatchSize?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** Reported after every step and after every epoch's evaluation. */
export type ProgressEvent =
  | { readonly kind: "step"; readonly step: number; readonly epoch: number; readonly loss: number; readonly lr: number; readonly totalSteps: number }
  | { readonly kind: "epoch"; readonly record: EpochRecord };

/** Metrics after one epoch (the test set in eval mode). */
export interface EpochRecord {
  readonly epoch: number;
  /** Steps completed so far, over all epochs. */
  readonly steps: number;
  readonly trainLoss: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
}

/** What a run produced; `diverged` is non-null when it stopped on a non-finite loss. */
export interface TrainResult {
  /** Loss of every completed step, in order. */
  readonly losses: Float64Array;
  readonly epochs: readonly EpochRecord[];
  /** The first step whose loss was NaN or ±Inf, if any; training stopped there. */
  readonly diverged: { readonly step: number; readonly loss: number } | null;
  readonly steps: number;
  readonly images: number;
  readonly elapsedMs: number;
}

/** Trains `model` in place and returns the per-step losses and per-epoch metrics. */
export function train(options: TrainOptions): TrainResult {
  const { model, data, optimizer, schedule, epochs, batchSize, seed, backend } = options;
  const precision = options.precision ?? identityPrecision;
  const perEpoch = batchCount(data.train.count, batchSize, true);
  if (perEpoch === 0) throw new RangeError(`train: batch size ${batchSize} exceeds the ${data.train.count} training samples`);
  const totalSteps = Math.min(perEpoch * epochs, options.maxSteps ?? Infinity);
  const losses = new Float64Array(totalSteps);
  const records: EpochRecord[] = [];
  const start = performance.now();
  let step = 0;
  let images = 0;
  const result = (diverged: TrainResult["diverged"]): TrainResult => ({
    losses: losses.slice(0, step), epochs: records, diverged, steps: step, images, elapsedMs: performance.now() - start,
  });

  for (let epoch = 0; epoch < epochs && step < totalSteps; epoch++) {
    let lossSum = 0;
    let epochSteps = 0;
    for (const batch of batches(data.train, batchSize, { seed, epoch, dropLast: true })) {
      if (step >= totalSteps) break;
      const ctx = trainContext(backend, precision);
      const logits = model.forward(ctx, batch.x);
      const lossT = softmaxCrossEntropy(ctx, logits, batch.labels, { labelSmoothing: options.labelSmoothing ?? 0 });
      const loss = lossT.data[0];
      if (!Number.isFinite(loss)) return result({ step, loss });
      ctx.tape.backward(lossT);
      const lr = schedule(step);
      optimizer.step(lr, precision);
      optimizer.zeroGrad();
      losses[step] = loss;
      lossSum += loss;
      epochSteps++;
      images += batch.labels.length;
      step++;
      options.onProgress?.({ kind: "step", step, epoch, loss, lr, totalSteps });
    }
    const test = evaluate(model, data.test, backend, precision, options.evalBatchSize ?? 500);
    const record: EpochRecord = {
      epoch, steps: step, trainLoss: lossSum / Math.max(1, epochSteps), testLoss: test.loss, testAccuracy: test.accuracy,
    };
    records.push(record);
    options.onProgress?.({ kind: "epoch", record });
  }
  return result(null);
}

/** Accuracy and mean cross-entropy of `model` in eval mode (running batch-norm statistics). */
export function evaluate(
  model: Model, ds: Dataset, backend: Backend, precision: Precision = identityPrecision, batchSize = 500,
): { accuracy: number; loss: number } {
  const ctx = evalContext(backend, precision);
  let correct = 0;
  let lossSum = 0;
  for (const batch of batches(ds, batchSize)) {
    const logits = model.forward(ctx, batch.x);
    correct += countCorrect(logits, batch.labels);
    lossSum += softmaxCrossEntropy(ctx, logits, batch.labels).data[0] * batch.labels.length;
  }
  return { accuracy: correct / ds.count, loss: lossSum / ds.count };
}
