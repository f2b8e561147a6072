/** Elementwise helpers: add (the residual connection), mul, scale, and reductions to a scalar. */
import { recording, type Ctx } from "../context.ts";
import { expectSameDType, gradOf, sameShape, Tensor, zerosLike } from "../tensor.ts";

function expectSameShape(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) throw new RangeError(`${op}: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] differ`);
  expectSameDType(op, a, b);
}

/** a + b, same shape (no broadcasting): the residual add. */
export function add(ctx: Ctx, a: Tensor, b: Tensor): Tensor {
  expectSameShape("add", a, b);
  const ad = a.data, bd = b.data;
  const y = zerosLike(ad);
  for (let i = 0; i < y.length; i++) y[i] = ad[i] + bd[i];
  const rec = recording(ctx, a, b);
  const out = new Tensor(a.shape, y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    for (const t of [a, b]) {
      if (!t.requiresGrad) continue;
      const d = gradOf(t);
      for (let i = 0; i < d.length; i++) d[i] += g[i];
    }
  });
  return out;
}

/** a ⊙ b, same shape. */
export function mul(ctx: Ctx, a: Tensor, b: Tensor): Tensor {
  expectSameShape("mul", a, b);
  const ad = a.data, bd = b.data;
  const y = zerosLike(ad);
  for (let i = 0; i < y.length; i++) y[i] = ad[i] * bd[i];
  const rec = recording(ctx, a, b);
  const out = new Tensor(a.shape, y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    if (a.requiresGrad) {
      const d = gradOf(a);
      for (let i = 0; i < d.length; i++) d[i] += g[i] * bd[i];
    }
    if (b.requiresGrad) {
      const d = gradOf(b);
      for (let i = 0; i < d.length; i++) d[i] += g[i] * ad[i];
    }
  });
  return out;
}

/** s·x for a constant s. */
export function scale(ctx: Ctx, x: Tensor, s: number): Tensor {
  const xd = x.data;
  const y = zerosLike(xd);
  for (let i = 0; i < y.length; i++) y[i] = xd[i] * s;
  const rec = recording(ctx, x);
  const out = new Tensor(x.shape, y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const d = gradOf(x);
    for (let i = 0; i < d.length; i++) d[i] += g[i] * s;
  });
  return out;
}

/** Σ x over all elements → a scalar tensor of shape []. */
export function sum(ctx: Ctx, x: Tensor): Tensor {
  return reduceAll(ctx, x, 1);
}

/** Mean over all elements → a scalar tensor of shape []. */
export function mean(ctx: Ctx, x: Tensor): Tensor {
  return reduceAll(ctx, x, 1 / x.size);
}

function reduceAll(ctx: Ctx, x: Tensor, factor: number): Tensor {
  const xd = x.data;
  let s = 0;
  for (let i = 0; i < xd.length; i++) s += xd[i];
  const y = zerosLike(xd, 1);
  y[0] = s * factor;
  const rec = recording(ctx, x);
  const out = new Tensor([], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const d = gradOf(x);
    const v = g[0] * factor;
    for (let i = 0; i < d.length; i++) d[i] += v;
  });
  return out;
}
