/** Mini-batches over a Dataset, shuffled by a seed and the epoch number. */
import { permutation, Rng } from "../random.ts";
import { allocLike, Tensor, type DType } from "../tensor.ts";
import type { Dataset } from "./dataset.ts";

/** One mini-batch: the inputs as a tensor and their labels. */
export interface Batch {
  /** [B, ...sampleShape]. */
  readonly x: Tensor;
  readonly labels: Uint8Array;
}

/** Order, size policy and dtype of the batches. */
export interface BatchOptions {
  /** Seed and epoch pick the order: the same pair gives the same batches. Without a seed, no shuffle. */
  readonly seed?: number;
  readonly epoch?: number;
  /** Skip a final batch smaller than the batch size (keeps batch-norm statistics sound). */
  readonly dropLast?: boolean;
  readonly dtype?: DType;
}

/** The order in which an epoch visits the samples. */
export function epochOrder(count: number, seed: number | undefined, epoch: number): Int32Array {
  if (seed === undefined) return Int32Array.from({ length: count }, (_, i) => i);
  return permutation(count, new Rng(seed).fork(`epoch ${epoch}`));
}

/** Number of batches `batches` yields. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** The batches of one epoch, in the order `epochOrder(seed, epoch)` gives; each is a fresh copy. */
export function* batches(ds: Dataset, batchSize: number, options: BatchOptions = {}): Generator<Batch> {
  if (!(batchSize >= 1) || !Number.isInteger(batchSize)) throw new RangeError(`batches: batch size must be a positive integer, got ${batchSize}`);
  const order = epochOrder(ds.count, options.seed, options.epoch ?? 0);
  const per = ds.images.length / ds.count;
  const n = batchCount(ds.count, batchSize, options.dropLast);
  for (let b = 0; b < n; b++) {
    const start = b * batchSize;
    const size = Math.min(batchSize, ds.count - start);
    const x = allocLike(options.dtype ?? "float32", size * per);
    const labels = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const j = order[start + i];
      x.set(ds.images.subarray(j * per, (j + 1) * per), i * per);
      labels[i] = ds.labels[j];
    }
    yield { x: new Tensor([size, ...ds.sampleShape], x), labels };
  }
}
