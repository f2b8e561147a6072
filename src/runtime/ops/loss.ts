/** Softmax cross-entropy over class logits, mean over the batch (or a weighted mean over rows), with optional label smoothing. */
import { recording, type Ctx } from "../context.ts";
import { expectRank, gradOf, Tensor, zerosLike } from "../tensor.ts";

/** Options of softmaxCrossEntropy. */
export interface CrossEntropyOptions {
  /** ε: the target is (1 − ε)·onehot + ε/C (Szegedy et al. 2016). Default 0. */
  readonly labelSmoothing?: number;
  /**
   * One non-negative weight per row: the loss is Σ_r w_r·ℓ_r / Σ_r w_r instead of the plain
   * mean. A weight of 0 drops the row (the padding positions of a batch of sequences); its
   * label must still be a valid class.
   */
  readonly rowWeights?: ArrayLike<number>;
}

/**
 * logits [N, C], labels N class indices → scalar mean over the batch (weighted by `rowWeights`
 * when given) of −Σ_c q_c·log softmax_c. Computed in double with the max subtracted, so large
 * logits do not overflow.
 */
export function softmaxCrossEntropy(ctx: Ctx, logits: Tensor, labels: ArrayLike<number>, options: CrossEntropyOptions = {}): Tensor {
  expectRank("softmaxCrossEntropy", logits, 2);
  const [n, c] = logits.shape;
  if (labels.length !== n) throw new RangeError(`softmaxCrossEntropy: ${n} rows of logits but ${labels.length} labels`);
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new RangeError(`softmaxCrossEntropy: label smoothing must be in [0, 1), got ${eps}`);
  const weights = rowWeightsOf(options.rowWeights, n);
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
    total += weights === null ? loss : weights.values[r] * loss;
  }
  const denominator = weights === null ? n : weights.total;
  const y = zerosLike(ld, 1);
  y[0] = total / denominator;
  const rec = recording(ctx, logits);
  const out = new Tensor([], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const d = gradOf(logits);
    const k = g[0] / denominator;
    for (let r = 0; r < n; r++) {
      const label = labels[r];
      const kr = weights === null ? k : k * weights.values[r];
      if (weights !== null && weights.values[r] === 0) continue;
      for (let j = 0, o = r * c; j < c; j++, o++) d[o] += kr * (probs[o] - (j === label ? on : off));
    }
  });
  return out;
}

/** The validated row weights and their sum, or null for the plain mean. */
function rowWeightsOf(weights: ArrayLike<number> | undefined, n: number): { values: ArrayLike<number>; total: number } | null {
  if (weights === undefined) return null;
  if (weights.length !== n) throw new RangeError(`softmaxCrossEntropy: ${n} rows of logits but ${weights.length} row weights`);
  let total = 0;
  for (let r = 0; r < n; r++) {
    const w = weights[r];
    if (!(w >= 0 && Number.isFinite(w))) throw new RangeError(`softmaxCrossEntropy: row weight ${w} at row ${r} is not a finite non-negative number`);
    total += w;
  }
  if (!(total > 0)) throw new RangeError("softmaxCrossEntropy: the row weights sum to 0, so no row counts");
  return { values: weights, total };
}

/**
 * Binary cross-entropy on logits x with targets t ∈ [0, 1] (any shapes holding the same number
 * of values) → scalar mean over the elements of −t·log σ(x) − (1 − t)·log(1 − σ(x)). Computed as
 * max(x, 0) − x·t + log1p(exp(−|x|)), which neither overflows nor loses the tail for large |x|;
 * the gradient is (σ(x) − t) / N with σ evaluated on the side where exp cannot overflow.
 */
export function binaryCrossEntropyWithLogits(ctx: Ctx, logits: Tensor, targets: ArrayLike<number>): Tensor {
  const n = logits.size;
  if (targets.length !== n) throw new RangeError(`binaryCrossEntropyWithLogits: ${n} logits but ${targets.length} targets`);
  if (n === 0) throw new RangeError("binaryCrossEntropyWithLogits: no logits to average over");
  const x = logits.data;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    if (!(t >= 0 && t <= 1)) throw new RangeError(`binaryCrossEntropyWithLogits: target ${t} at position ${i} is not in [0, 1]`);
    const v = x[i];
    total += Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v)));
  }
  const y = zerosLike(x, 1);
  y[0] = total / n;
  const rec = recording(ctx, logits);
  const out = new Tensor([], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const d = gradOf(logits);
    const k = g[0] / n;
    for (let i = 0; i < n; i++) d[i] += k * (sigmoid(x[i]) - targets[i]);
  });
  return out;
}

/** 1 / (1 + e^−v), through e^v / (1 + e^v) for negative v so exp never overflows. */
function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}
