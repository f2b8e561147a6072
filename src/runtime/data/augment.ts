/**
 * Training-time augmentation of image batches: each sample moved by a random whole-pixel
 * translation of at most `maxShift` pixels along each axis, the uncovered border filled with
 * zeros (MNIST's background). The classic augmentation for digits: a translated digit is still the
 * same digit, and with 8,000 training images the model sees more of them. The draw depends only
 * on (seed, epoch, batch index), so a resumed run augments exactly as an uninterrupted one.
 */
import { Rng } from "../random.ts";
import type { Tensor } from "../tensor.ts";

/** Translates every sample of `x` ([B, C, H, W]) in place by its own (dy, dx) in [−maxShift, maxShift]². */
export function randomTranslate(x: Tensor, maxShift: number, rng: Rng): void {
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new RangeError(`randomTranslate: maxShift must be a non-negative integer, got ${maxShift}`);
  if (x.shape.length !== 4) throw new RangeError(`randomTranslate: expects [B, C, H, W], got [${x.shape.join(", ")}]`);
  if (maxShift === 0) return;
  const [batch, channels, height, width] = x.shape;
  const plane = height * width;
  const copy = new Float32Array(plane);
  const span = 2 * maxShift + 1;
  for (let b = 0; b < batch; b++) {
    const dy = (rng.nextU32() % span) - maxShift;
    const dx = (rng.nextU32() % span) - maxShift;
    for (let c = 0; c < channels; c++) {
      const view = x.data.subarray((b * channels + c) * plane, (b * channels + c + 1) * plane);
      copy.set(view);
      translatePlane(copy, view, height, width, dy, dx);
    }
  }
}

/** out[y][x] = source[y − dy][x − dx] where that lies inside the plane, else 0. */
function translatePlane(source: Float32Array, out: Float32Array | Float64Array, height: number, width: number, dy: number, dx: number): void {
  out.fill(0);
  const x0 = Math.max(0, dx);
  const x1 = Math.min(width, width + dx);
  for (let y = Math.max(0, dy); y < Math.min(height, height + dy); y++) {
    const from = (y - dy) * width - dx;
    out.set(source.subarray(from + x0, from + x1), y * width + x0);
  }
}

/** The generator of one training batch's translations. */
export function augmentRng(seed: number, epoch: number, batchIndex: number): Rng {
  return new Rng(seed).fork(`augment epoch ${epoch} batch ${batchIndex}`);
}
