/** MNIST pixel normalization: x ↦ (x − mean)/std with the usual training-set statistics. */

/** Mean and standard deviation of MNIST training pixels scaled to [0, 1] (the usual 0.1307 / 0.3081). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** Normalizes pixels in [0, 1] in place. */
export function normalizeUnit(pixels: Float32Array): void {
  const inv = 1 / MNIST_STD;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i] - MNIST_MEAN) * inv;
}

/** uint8 pixels (0–255) → normalized float32. */
export function normalizeBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  normalizeUnit(out);
  return out;
}
