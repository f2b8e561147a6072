/** Softmax cross-entropy over class logits, mean over the batch, with optional label smoothing. */
import { recording, type Ctx } from "../context.ts";
import { expectRank, gradOf, Tensor, zerosLike } from "../tensor.ts";

/** Options of softmaxCrossEntropy. */
export interface CrossEntropyOptions {
  /** ε: the target is (1 − ε)·onehot + ε/C (Szegedy et al. 2016). Default 0. */
  readonly labelSmoothing?: number;
}

/**
 * logits [N, C], labels N class indices → scalar mean over the batch of −Σ_c q_c·log softmax_c.
 * Computed in double with the max subtracted, so large logits do not overflow.
 */
export function softmaxCrossEntropy(ctx: Ctx, logits: Tensor, labels: ArrayLike<number>, options: CrossEntropyOptions = {}): Tensor {
  expectRank("softmaxCrossEntropy", logits, 2);
  const [n, c] = logits.shape;
  if (labels.length !== n) throw new RangeError(`softmaxCrossEntropy: ${n} rows of logits but ${labels.length} labels`);
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new RangeError(`softmaxCrossEntropy: label smoothing must be in [0, 1), got ${eps}`);
  const ld = logits.data;
  const probs = new Float64Array(n * c);
  const off = eps / c;
  const on = 1 - eps + off;
  let total = 0;
  for (let r = 0; r < n; r++) {
    const label = labels[r];
    if (!Number.isInteger(label) || label < 0 || label >= c) {
      throw new RangeError(`softmaxCrossEntropy: label ${label} at row ${r} is not a class in 0..${c - 1}`);
    }
    const o = r * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) if (ld[o + j] > max) max = ld[o + j];
    let z = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(ld[o + j] - max);
      probs[o + j] = e;
      z += e;
    }
    const logZ = Math.log(z) + max;
    let loss = 0;
    for (let j = 0; j < c; j++) {
      probs[o + j] /= z;
      const q = j === label ? on : off;
      if (q !== 0) loss -= q * (ld[o + j] - logZ);
    }
    total += loss;
  }
  const y = zerosLike(ld, 1);
  y[0] = total / n;
  const rec = recording(ctx, logits);
  const out = new Tensor([], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const d = gradOf(logits);
    const k = g[0] / n;
    for (let r = 0; r < n; r++) {
      const label = labels[r];
      for (let j = 0, o = r * c; j < c; j++, o++) d[o] += k * (probs[o] - (j === label ? on : off));
    }
  });
  return out;
}
