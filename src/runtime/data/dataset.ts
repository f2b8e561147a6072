/** An in-memory labelled image set: normalized float32 samples, one label byte each. */
import { DataError } from "./data-error.ts";

/** `count` samples of `sampleShape`, with labels in 0..classes-1. */
export interface Dataset {
  /** count × sampleShape values, sample-major. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
  /** e.g. [1, 28, 28] (C, H, W). */
  readonly sampleShape: readonly number[];
  readonly classes: number;
}

/** A disjoint training and test set. */
export interface TrainTest {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** The samples at `indices`, in that order. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const per = ds.images.length / ds.count;
  const images = new Float32Array(indices.length * per);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < ds.count)) throw new RangeError(`subset: index ${j} outside 0..${ds.count - 1}`);
    images.set(ds.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = ds.labels[j];
  }
  return { images, labels, count: indices.length, sampleShape: ds.sampleShape, classes: ds.classes };
}

/**
 * Refuses a split that cannot train or be scored: training that drops its last partial batch needs
 * at least one whole batch, and an empty test set makes every metric 0/0. `source` names the data.
 */
export function checkTrainTest(data: TrainTest, batchSize: number, source: string): void {
  if (data.train.count < batchSize)
    throw new DataError(source, null, `${data.train.count} training samples, fewer than one batch of ${batchSize}; use --batch-size ${Math.max(1, data.train.count)} or less, or more data`);
  if (data.test.count === 0) throw new DataError(source, null, "no test samples: the test set must have at least one");
}
