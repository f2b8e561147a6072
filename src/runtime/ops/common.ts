/** Small helpers shared by the ops: gradient accumulation through the precision hook. */
import type { Precision } from "../precision.ts";
import { gradOf, zerosLike, type FloatArray, type Tensor } from "../tensor.ts";

/** dst[i] += src[i] for the length of dst. */
export function addInto(dst: FloatArray, src: FloatArray): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}

/**
 * Adds a weight gradient into `param.grad`. `fill(dst, beta)` writes (beta = 0) or adds
 * (beta = 1) the gradient into dst. When the recipe quantizes weight gradients at `site`,
 * the gradient is computed into a fresh buffer, quantized there, then accumulated, so the
 * quantizer sees this op's contribution alone.
 */
export function addWeightGradient(
  precision: Precision, param: Tensor, site: string, fill: (dst: FloatArray, beta: 0 | 1) => void,
): void {
  if (!precision.active("weightGradient", site)) {
    fill(gradOf(param), 1);
    return;
  }
  const tmp = zerosLike(param.data);
  fill(tmp, 0);
  precision.quantize("weightGradient", tmp, site);
  addInto(gradOf(param), tmp);
}
