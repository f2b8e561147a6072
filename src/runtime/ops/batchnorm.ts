/**
 * Batch normalization over axis 1 of [N, C, ...] (BatchNorm1d on [N, C], BatchNorm2d on NCHW).
 * Train mode normalizes with the batch mean and biased variance and updates running averages
 * (unbiased variance, as in PyTorch); eval mode normalizes with the running statistics.
 */
import { recording, type Ctx } from "../context.ts";
import { expectSameDType, gradOf, Tensor, zerosLike, type FloatArray } from "../tensor.ts";

/** Running statistics of one batch-norm layer; updated in place in train mode. */
export interface BatchNormState {
  readonly runningMean: Float64Array;
  readonly runningVar: Float64Array;
  /** Weight of the new batch in the running averages (PyTorch convention, 0.1 typical). */
  readonly momentum: number;
  readonly eps: number;
}

/** Fresh running statistics: mean 0, variance 1. */
export function batchNormState(channels: number, momentum = 0.1, eps = 1e-5): BatchNormState {
  return { runningMean: new Float64Array(channels), runningVar: new Float64Array(channels).fill(1), momentum, eps };
}

/** y = gamma·(x − μ)/√(σ² + eps) + beta per channel; gamma, beta [C]. */
export function batchNorm(ctx: Ctx, x: Tensor, gamma: Tensor, beta: Tensor, state: BatchNormState, site = "batchNorm"): Tensor {
  if (x.shape.length < 2) throw new RangeError(`batchNorm ${site}: input must be [N, C, ...], got [${x.shape.join(", ")}]`);
  const [n, c] = x.shape;
  if (gamma.size !== c || beta.size !== c || state.runningMean.length !== c) {
    throw new RangeError(`batchNorm ${site}: ${c} channels but gamma/beta/state have ${gamma.size}/${beta.size}/${state.runningMean.length}`);
  }
  expectSameDType(`batchNorm ${site}`, x, gamma, beta);
  const s = x.size / (n * c);
  const m = n * s;
  if (ctx.training && m < 2) throw new RangeError(`batchNorm ${site}: train mode needs more than one value per channel`);
  const xd = x.data;
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  if (ctx.training) {
    for (let ci = 0; ci < c; ci++) {
      let sum = 0;
      for (let ni = 0; ni < n; ni++) for (let j = (ni * c + ci) * s, e = j + s; j < e; j++) sum += xd[j];
      const mu = sum / m;
      let sq = 0;
      for (let ni = 0; ni < n; ni++) {
        for (let j = (ni * c + ci) * s, e = j + s; j < e; j++) {
          const d = xd[j] - mu;
          sq += d * d;
        }
      }
      const variance = sq / m;
      mean[ci] = mu;
      invStd[ci] = 1 / Math.sqrt(variance + state.eps);
      const mom = state.momentum;
      state.runningMean[ci] = (1 - mom) * state.runningMean[ci] + mom * mu;
      state.runningVar[ci] = (1 - mom) * state.runningVar[ci] + mom * (sq / (m - 1));
    }
  } else {
    for (let ci = 0; ci < c; ci++) {
      mean[ci] = state.runningMean[ci];
      invStd[ci] = 1 / Math.sqrt(state.runningVar[ci] + state.eps);
    }
  }
  const y = zerosLike(xd);
  const gd = gamma.data;
  const bd = beta.data;
  for (let ci = 0; ci < c; ci++) {
    const scale = gd[ci] * invStd[ci];
    const shift = bd[ci] - mean[ci] * scale;
    for (let ni = 0; ni < n; ni++) for (let j = (ni * c + ci) * s, e = j + s; j < e; j++) y[j] = xd[j] * scale + shift;
  }
  const rec = recording(ctx, x, gamma, beta);
  const out = new Tensor(x.shape, y, rec);
  if (!rec) return out;
  const batchStats = ctx.training;
  ctx.tape!.record(() => {
    if (out.grad === null) return;
    backward(out.grad, xd, n, c, s, mean, invStd, gd, batchStats, x, gamma, beta);
  });
  return out;
}

function backward(
  g: FloatArray, xd: FloatArray, n: number, c: number, s: number, mean: Float64Array, invStd: Float64Array,
  gd: FloatArray, batchStats: boolean, x: Tensor, gamma: Tensor, beta: Tensor,
): void {
  const m = n * s;
  const dx = x.requiresGrad ? gradOf(x) : null;
  const dGamma = gamma.requiresGrad ? gradOf(gamma) : null;
  const dBeta = beta.requiresGrad ? gradOf(beta) : null;
  for (let ci = 0; ci < c; ci++) {
    const mu = mean[ci];
    const is = invStd[ci];
    let sumG = 0;
    let sumGX = 0;
    for (let ni = 0; ni < n; ni++) {
      for (let j = (ni * c + ci) * s, e = j + s; j < e; j++) {
        sumG += g[j];
        sumGX += g[j] * (xd[j] - mu) * is;
      }
    }
    if (dGamma) dGamma[ci] += sumGX;
    if (dBeta) dBeta[ci] += sumG;
    if (!dx) continue;
    const k = gd[ci] * is;
    if (batchStats) {
      // dx = γ/σ · (g − mean(g) − x̂·mean(g·x̂)): the batch statistics depend on x too.
      const meanG = sumG / m;
      const meanGX = sumGX / m;
      for (let ni = 0; ni < n; ni++) {
        for (let j = (ni * c + ci) * s, e = j + s; j < e; j++) dx[j] += k * (g[j] - meanG - (xd[j] - mu) * is * meanGX);
      }
    } else {
      for (let ni = 0; ni < n; ni++) for (let j = (ni * c + ci) * s, e = j + s; j < e; j++) dx[j] += k * g[j];
    }
  }
}
