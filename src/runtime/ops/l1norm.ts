/**
 * L1 normalization (Wu et al. 2018, "L1-norm batch normalization"; ShiftQuant, arXiv 2411.10948):
 * batch and layer normalization whose scale statistic is s = √(π/2)·mean|x − μ|, the mean absolute
 * deviation times √(π/2). For Gaussian data E|x − μ| = σ·√(2/π), so s estimates the standard
 * deviation, while the statistic needs no squares or square roots — what low-precision training
 * wants. As in Wu et al., ε is added to the scale: y = γ·(x − μ)/(s + ε) + β.
 *
 * Gradient (batch statistics, per normalized group of m elements, h = γ·∂L/∂y, x̂ = (x − μ)/(s + ε)):
 *   ∂L/∂x_j = (h_j − mean(h) − √(π/2)·mean(h·x̂)·(sign(x_j − μ) − mean(sign(x − μ)))) / (s + ε)
 * (sign(0) = 0, the subgradient at the kink).
 */
import { recording, type Ctx } from "../context.ts";
import { expectSameDType, gradOf, Tensor, zerosLike, type FloatArray } from "../tensor.ts";
import type { BatchNormState } from "./batchnorm.ts";

/** √(π/2): the mean absolute deviation of a Gaussian times this is its standard deviation. */
export const L1_SCALE = Math.sqrt(Math.PI / 2);

/** Elements of one normalized group: `count` runs of `run` consecutive elements, `stride` apart, from `start`. */
interface Group {
  readonly start: number;
  readonly count: number;
  readonly run: number;
  readonly stride: number;
}

function forGroup(g: Group, visit: (i: number, k: number) => void): void {
  for (let r = 0, k = 0; r < g.count; r++) for (let i = g.start + r * g.stride, e = i + g.run; i < e; i++, k++) visit(i, k);
}

/** Mean and √(π/2)·mean absolute deviation of a group. */
function l1Statistics(x: FloatArray, g: Group): { mean: number; scale: number } {
  const m = g.count * g.run;
  let sum = 0;
  forGroup(g, (i) => (sum += x[i]));
  const mean = sum / m;
  let abs = 0;
  forGroup(g, (i) => (abs += Math.abs(x[i] - mean)));
  return { mean, scale: (L1_SCALE * abs) / m };
}

/**
 * Adds the input gradient of one group normalized with its own statistics to dx (see the file
 * comment); `h(i, k)` is γ·∂L/∂y of element i (the k-th of the group).
 */
function addGroupGradient(dx: FloatArray, x: FloatArray, g: Group, mean: number, inv: number, h: (i: number, k: number) => number): void {
  const m = g.count * g.run;
  let sumH = 0;
  let sumHX = 0;
  let sumSign = 0;
  forGroup(g, (i, k) => {
    const hi = h(i, k);
    sumH += hi;
    sumHX += hi * (x[i] - mean) * inv;
    sumSign += Math.sign(x[i] - mean);
  });
  const meanH = sumH / m;
  const slope = (L1_SCALE * sumHX) / m;
  const meanSign = sumSign / m;
  forGroup(g, (i, k) => (dx[i] += inv * (h(i, k) - meanH - slope * (Math.sign(x[i] - mean) - meanSign))));
}

/**
 * batchNorm (ops/batchnorm.ts) with the L1 scale: per channel of [N, C, ...], train mode
 * normalizes with the batch mean and s = √(π/2)·mean|x − μ|; the running averages keep the mean
 * and, in `runningVar`, the variance the L1 scale estimates, s²·m/(m − 1) (unbiased as batchNorm's,
 * for Gaussian data), so eval mode divides by √runningVar + ε.
 */
export function l1BatchNorm(ctx: Ctx, x: Tensor, gamma: Tensor, beta: Tensor, state: BatchNormState, site = "l1BatchNorm"): Tensor {
  if (x.shape.length < 2) throw new RangeError(`l1BatchNorm ${site}: input must be [N, C, ...], got [${x.shape.join(", ")}]`);
  const [n, c] = x.shape;
  if (gamma.size !== c || beta.size !== c || state.runningMean.length !== c) {
    throw new RangeError(`l1BatchNorm ${site}: ${c} channels but gamma/beta/state have ${gamma.size}/${beta.size}/${state.runningMean.length}`);
  }
  expectSameDType(`l1BatchNorm ${site}`, x, gamma, beta);
  const s = x.size / (n * c);
  const m = n * s;
  if (ctx.training && m < 2) throw new RangeError(`l1BatchNorm ${site}: train mode needs more than one value per channel`);
  const xd = x.data;
  const channel = (ci: number): Group => ({ start: ci * s, count: n, run: s, stride: c * s });
  const mean = new Float64Array(c);
  const inv = new Float64Array(c);
  for (let ci = 0; ci < c; ci++) {
    if (ctx.training) {
      const stats = l1Statistics(xd, channel(ci));
      mean[ci] = stats.mean;
      inv[ci] = 1 / (stats.scale + state.eps);
      const mom = state.momentum;
      state.runningMean[ci] = (1 - mom) * state.runningMean[ci] + mom * stats.mean;
      state.runningVar[ci] = (1 - mom) * state.runningVar[ci] + mom * ((stats.scale * stats.scale * m) / (m - 1));
    } else {
      mean[ci] = state.runningMean[ci];
      inv[ci] = 1 / (Math.sqrt(state.runningVar[ci]) + state.eps);
    }
  }
  const y = zerosLike(xd);
  const gd = gamma.data;
  const bd = beta.data;
  for (let ci = 0; ci < c; ci++) {
    const scale = gd[ci] * inv[ci];
    const shift = bd[ci] - mean[ci] * scale;
    forGroup(channel(ci), (i) => (y[i] = xd[i] * scale + shift));
  }
  const rec = recording(ctx, x, gamma, beta);
  const out = new Tensor(x.shape, y, rec);
  if (!rec) return out;
  const batchStats = ctx.training;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const dx = x.requiresGrad ? gradOf(x) : null;
    const dGamma = gamma.requiresGrad ? gradOf(gamma) : null;
    const dBeta = beta.requiresGrad ? gradOf(beta) : null;
    for (let ci = 0; ci < c; ci++) {
      const group = channel(ci);
      const mu = mean[ci];
      const is = inv[ci];
      if (dGamma || dBeta) {
        let sumG = 0;
        let sumGX = 0;
        forGroup(group, (i) => {
          sumG += g[i];
          sumGX += g[i] * (xd[i] - mu) * is;
        });
        if (dGamma) dGamma[ci] += sumGX;
        if (dBeta) dBeta[ci] += sumG;
      }
      if (!dx) continue;
      const gc = gd[ci];
      if (batchStats) addGroupGradient(dx, xd, group, mu, is, (i) => gc * g[i]);
      else forGroup(group, (i) => (dx[i] += gc * is * g[i]));
    }
  });
  return out;
}

/** layerNorm (ops/layernorm.ts) with the L1 scale: x [..., D] → γ·(x − μ_row)/(s_row + ε) + β, s_row = √(π/2)·mean|x − μ_row|. */
export function l1LayerNorm(ctx: Ctx, x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5, site = "l1LayerNorm"): Tensor {
  const d = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || gamma.size !== d || beta.size !== d) {
    throw new RangeError(`l1LayerNorm ${site}: input [${x.shape.join(", ")}] needs gamma and beta of ${d}, got ${gamma.size} and ${beta.size}`);
  }
  expectSameDType(`l1LayerNorm ${site}`, x, gamma, beta);
  const rows = x.size / d;
  const xd = x.data;
  const gd = gamma.data;
  const bd = beta.data;
  const row = (r: number): Group => ({ start: r * d, count: 1, run: d, stride: d });
  const mean = new Float64Array(rows);
  const inv = new Float64Array(rows);
  const y = zerosLike(xd);
  for (let r = 0; r < rows; r++) {
    const stats = l1Statistics(xd, row(r));
    mean[r] = stats.mean;
    inv[r] = 1 / (stats.scale + eps);
    const o = r * d;
    for (let j = 0; j < d; j++) y[o + j] = (xd[o + j] - stats.mean) * inv[r] * gd[j] + bd[j];
  }
  const rec = recording(ctx, x, gamma, beta);
  const out = new Tensor(x.shape, y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const dx = x.requiresGrad ? gradOf(x) : null;
    const dGamma = gamma.requiresGrad ? gradOf(gamma) : null;
    const dBeta = beta.requiresGrad ? gradOf(beta) : null;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      for (let j = 0; j < d; j++) {
        if (dGamma) dGamma[j] += g[o + j] * (xd[o + j] - mean[r]) * inv[r];
        if (dBeta) dBeta[j] += g[o + j];
      }
      if (dx) addGroupGradient(dx, xd, row(r), mean[r], inv[r], (i, k) => g[i] * gd[k]);
    }
  });
  return out;
}
