/**
 * Image classification as a Task: a model mapping a batch of samples to class logits, softmax
 * cross-entropy (optionally label-smoothed) for training, test accuracy and loss in eval mode.
 * The ResNet on MNIST digits is this task; so is any classifier over a Dataset.
 */
import type { Backend } from "../backend.ts";
import { evalContext } from "../context.ts";
import { augmentRng, randomTranslate } from "../data/augment.ts";
import { batchCount, batches } from "../data/batches.ts";
import type { Dataset, TrainTest } from "../data/dataset.ts";
import { countCorrect } from "../metrics.ts";
import type { Model } from "../models/model.ts";
import type { BatchNormState } from "../ops/batchnorm.ts";
import { softmaxCrossEntropy } from "../ops/loss.ts";
import { identityPrecision, type Precision } from "../precision.ts";
import type { Evaluation, MetricInfo, Task } from "./task.ts";

/** The metric of a classification task. */
export const ACCURACY: MetricInfo = { key: "accuracy", label: "test acc %", higherIsBetter: true, percent: true };

/** A classifier and its data. */
export interface ClassificationOptions {
  readonly name: string;
  readonly model: Model & { batchNormStates?(): ReadonlyMap<string, BatchNormState> };
  readonly data: TrainTest;
  readonly labelSmoothing?: number;
  readonly evalBatchSize?: number;
  /** Training images ([C, H, W] samples) randomly translated by up to this many pixels per axis (0: none). */
  readonly augmentShift?: number;
}

/** The classification task over `options.data`; batches drop a final partial batch (sound batch-norm statistics). */
export function classificationTask(options: ClassificationOptions): Task {
  const { model, data } = options;
  const smoothing = options.labelSmoothing ?? 0;
  const shift = options.augmentShift ?? 0;
  return {
    name: options.name,
    parameters: () => model.parameters(),
    normStates: model.batchNormStates === undefined ? undefined : () => model.batchNormStates!(),
    metrics: [ACCURACY],
    batchesPerEpoch: (batchSize) => batchCount(data.train.count, batchSize, true),
    *trainBatches(batchSize, seed, epoch) {
      let index = 0;
      for (const batch of batches(data.train, batchSize, { seed, epoch, dropLast: true })) {
        if (shift > 0) randomTranslate(batch.x, shift, augmentRng(seed, epoch, index));
        index++;
        yield {
          examples: batch.labels.length,
          loss: (ctx) => softmaxCrossEntropy(ctx, model.forward(ctx, batch.x), batch.labels, { labelSmoothing: smoothing }),
        };
      }
    },
    evaluate: (backend, precision) => evaluateClassifier(model, data.test, backend, precision, options.evalBatchSize ?? 500),
  };
}

/** Accuracy and mean cross-entropy of `model` on `ds` in eval mode (running batch-norm statistics). */
export function evaluateClassifier(model: Model, ds: Dataset, backend: Backend, precision: Precision = identityPrecision, batchSize = 500): Evaluation {
  const ctx = evalContext(backend, precision);
  let correct = 0;
  let lossSum = 0;
  for (const batch of batches(ds, batchSize)) {
    const logits = model.forward(ctx, batch.x);
    correct += countCorrect(logits, batch.labels);
    lossSum += softmaxCrossEntropy(ctx, logits, batch.labels).data[0] * batch.labels.length;
  }
  return { loss: lossSum / ds.count, metrics: { accuracy: correct / ds.count } };
}
