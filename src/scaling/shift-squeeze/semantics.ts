/**
 * S2FP8 (Cambier et al., ICLR 2020): log2|Y| = α·log2|X| + β, with α, β chosen from the non-zero
 * finite entries so that mean(log2|Y|) = 0 and max(log2|Y|) = targetMaxLog2. All in float32 with
 * the portable log2f/exp2f; the mean sums chunks of 256 sequentially, then the chunk sums, so a
 * GPU reduction can reproduce the same bits.
 */
import { exp2f, log2f } from "../../dsl/semantics/elementary.ts";

const f = Math.fround;
/** Elements per partial sum in the log2 mean: the reduction order every target follows. */
export const SHIFT_SQUEEZE_CHUNK = 256;

/** The statistics the paper defines: mean and max of log2|x| over non-zero finite entries. */
export function log2Statistics(x: Float32Array): { mean: number; max: number; count: number } {
  let total = 0;
  let chunk = 0;
  let count = 0;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a !== 0 && a < Number.POSITIVE_INFINITY) {
      const l = log2f(a);
      chunk = f(chunk + l);
      count++;
      max = Math.max(max, l);
    }
    if ((i + 1) % SHIFT_SQUEEZE_CHUNK === 0 || i === x.length - 1) {
      total = f(total + chunk);
      chunk = 0;
    }
  }
  return { mean: count === 0 ? 0 : f(total / count), max, count };
}

/** α and β; α = 1 when there is no spread (max = mean) or no non-zero entry. */
export function shiftSqueezeParameters(x: Float32Array, targetMaxLog2: number): { alpha: number; beta: number } {
  const { mean, max, count } = log2Statistics(x);
  const alpha = count > 0 && max > mean ? f(targetMaxLog2 / f(max - mean)) : 1;
  return { alpha, beta: f(-f(alpha * mean)) };
}

/** X → Y: sign(x)·2^(α·log2|x| + β); zeros, NaN and ±Inf pass through. */
export function squeeze(x: number, alpha: number, beta: number): number {
  const a = Math.abs(x);
  if (a === 0 || !(a < Number.POSITIVE_INFINITY)) return x;
  const y = exp2f(f(f(alpha * log2f(a)) + beta));
  return x < 0 ? -y : y;
}

/** Y → X: sign(y)·2^((log2|y| − β)·(1/α)). */
export function unsqueeze(y: number, alpha: number, beta: number): number {
  const a = Math.abs(y);
  if (a === 0 || !(a < Number.POSITIVE_INFINITY)) return y;
  const x = exp2f(f(f(log2f(a) - beta) * f(1 / alpha)));
  return y < 0 ? -x : x;
}
