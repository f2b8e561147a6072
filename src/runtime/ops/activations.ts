/** Pointwise activations: ReLU and GELU (tanh approximation, as in BERT / GPT-2). */
import { recording, type Ctx } from "../context.ts";
import { gradOf, Tensor, zerosLike } from "../tensor.ts";

/** max(x, 0); the gradient at exactly 0 is taken as 0. */
export function relu(ctx: Ctx, x: Tensor): Tensor {
  const xd = x.data;
  const y = zerosLike(xd);
  for (let i = 0; i < xd.length; i++) y[i] = xd[i] > 0 ? xd[i] : 0;
  const rec = recording(ctx, x);
  const out = new Tensor(x.shape, y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const dx = gradOf(x);
    for (let i = 0; i < dx.length; i++) if (y[i] > 0) dx[i] += g[i];
  });
  return out;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(ctx: Ctx, x: Tensor): Tensor {
  const xd = x.data;
  const y = zerosLike(xd);
  for (let i = 0; i < xd.length; i++) {
    const v = xd[i];
    y[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v)));
  }
  const rec = recording(ctx, x);
  const out = new Tensor(x.shape, y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const dx = gradOf(x);
    for (let i = 0; i < dx.length; i++) {
      const v = xd[i];
      const t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v));
      const dInner = SQRT_2_OVER_PI * (1 + 3 * GELU_C * v * v);
      dx[i] += g[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dInner);
    }
  });
  return out;
}
