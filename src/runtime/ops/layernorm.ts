/** Layer normalization over the last axis, with per-feature gamma and beta. */
import { recording, type Ctx } from "../context.ts";
import { expectSameDType, gradOf, Tensor, zerosLike } from "../tensor.ts";

/** x [..., D], gamma [D], beta [D] → (x − μ_row)/√(σ²_row + eps)·gamma + beta (biased σ²). */
export function layerNorm(ctx: Ctx, x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5, site = "layerNorm"): Tensor {
  const d = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || gamma.size !== d || beta.size !== d) {
    throw new RangeError(`layerNorm ${site}: input [${x.shape.join(", ")}] needs gamma and beta of ${d}, got ${gamma.size} and ${beta.size}`);
  }
  expectSameDType(`layerNorm ${site}`, x, gamma, beta);
  const rows = x.size / d;
  const xd = x.data;
  const gd = gamma.data;
  const bd = beta.data;
  const mean = new Float64Array(rows);
  const invStd = new Float64Array(rows);
  const y = zerosLike(xd);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let sum = 0;
    for (let j = 0; j < d; j++) sum += xd[o + j];
    const mu = sum / d;
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const t = xd[o + j] - mu;
      sq += t * t;
    }
    const is = 1 / Math.sqrt(sq / d + eps);
    mean[r] = mu;
    invStd[r] = is;
    for (let j = 0; j < d; j++) y[o + j] = (xd[o + j] - mu) * is * gd[j] + bd[j];
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
      const mu = mean[r];
      const is = invStd[r];
      let sumDh = 0;
      let sumDhX = 0;
      for (let j = 0; j < d; j++) {
        const xh = (xd[o + j] - mu) * is;
        const dh = g[o + j] * gd[j];
        sumDh += dh;
        sumDhX += dh * xh;
        if (dGamma) dGamma[j] += g[o + j] * xh;
        if (dBeta) dBeta[j] += g[o + j];
      }
      if (!dx) continue;
      const meanDh = sumDh / d;
      const meanDhX = sumDhX / d;
      for (let j = 0; j < d; j++) {
        const xh = (xd[o + j] - mu) * is;
        dx[o + j] += is * (g[o + j] * gd[j] - meanDh - xh * meanDhX);
      }
    }
  });
  return out;
}
