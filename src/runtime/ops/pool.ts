/** Spatial pooling over NCHW: max, average (padding counted in the divisor), global average. */
import { recording, type Ctx } from "../context.ts";
import { expectRank, gradOf, Tensor, zerosLike, type FloatArray } from "../tensor.ts";
import { convGeometry, type ConvGeometry } from "./im2col.ts";

/** A square window; stride defaults to the window, padding to 0 (at most half the window). */
export interface PoolOptions {
  readonly kernel: number;
  /** Defaults to the kernel size. */
  readonly stride?: number;
  readonly padding?: number;
}

function poolGeometry(op: string, x: Tensor, o: PoolOptions): ConvGeometry {
  expectRank(op, x, 4);
  if ((o.padding ?? 0) * 2 > o.kernel) throw new RangeError(`${op}: padding ${o.padding} exceeds half the kernel ${o.kernel}`);
  return convGeometry(op, x.shape, o.kernel, o.kernel, o.stride ?? o.kernel, o.padding ?? 0);
}

/** Max over each window (padding never wins); the gradient goes to the first maximal entry. */
export function maxPool2d(ctx: Ctx, x: Tensor, options: PoolOptions): Tensor {
  const g = poolGeometry("maxPool2d", x, options);
  const { n, c, h, w, kh, kw, stride, padding, oh, ow } = g;
  const xd = x.data;
  const y = zerosLike(xd, n * c * oh * ow);
  const argmax = new Int32Array(y.length);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let yo = 0; yo < oh; yo++) {
      const y0 = yo * stride - padding;
      const yLo = Math.max(0, y0), yHi = Math.min(h, y0 + kh);
      for (let xo = 0; xo < ow; xo++, o++) {
        const x0 = xo * stride - padding;
        const xLo = Math.max(0, x0), xHi = Math.min(w, x0 + kw);
        let best = -Infinity;
        let at = base + yLo * w + xLo;
        for (let yi = yLo; yi < yHi; yi++) {
          for (let xi = xLo; xi < xHi; xi++) {
            const idx = base + yi * w + xi;
            const v = xd[idx];
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = idx;
              if (Number.isNaN(v)) break;
            }
          }
        }
        y[o] = best;
        argmax[o] = at;
      }
    }
  }
  const rec = recording(ctx, x);
  const out = new Tensor([n, c, oh, ow], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const gy = out.grad;
    if (gy === null) return;
    const dx = gradOf(x);
    for (let i = 0; i < gy.length; i++) dx[argmax[i]] += gy[i];
  });
  return out;
}

/** Mean over each window, dividing by kernel² even where it overlaps padding (count_include_pad). */
export function avgPool2d(ctx: Ctx, x: Tensor, options: PoolOptions): Tensor {
  const g = poolGeometry("avgPool2d", x, options);
  const { n, c, h, w, kh, kw, stride, padding, oh, ow } = g;
  const xd = x.data;
  const y = zerosLike(xd, n * c * oh * ow);
  const inv = 1 / (kh * kw);
  // forward: y[o] = inv·Σ window; backward: every window entry gets inv·gy[o]
  const windows = (src: FloatArray, dst: FloatArray, gather: boolean): void => {
    let o = 0;
    for (let plane = 0; plane < n * c; plane++) {
      const base = plane * h * w;
      for (let yo = 0; yo < oh; yo++) {
        const y0 = yo * stride - padding;
        const yLo = Math.max(0, y0), yHi = Math.min(h, y0 + kh);
        for (let xo = 0; xo < ow; xo++, o++) {
          const x0 = xo * stride - padding;
          const xLo = Math.max(0, x0), xHi = Math.min(w, x0 + kw);
          if (gather) {
            let acc = 0;
            for (let yi = yLo; yi < yHi; yi++) for (let i = base + yi * w + xLo, e = base + yi * w + xHi; i < e; i++) acc += src[i];
            dst[o] = acc * inv;
          } else {
            const v = src[o] * inv;
            for (let yi = yLo; yi < yHi; yi++) for (let i = base + yi * w + xLo, e = base + yi * w + xHi; i < e; i++) dst[i] += v;
          }
        }
      }
    }
  };
  windows(xd, y, true);
  const rec = recording(ctx, x);
  const out = new Tensor([n, c, oh, ow], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const gy = out.grad;
    if (gy === null) return;
    windows(gy, gradOf(x), false);
  });
  return out;
}

/** [N, C, H, W] → [N, C]: the mean over each channel's plane. */
export function globalAvgPool(ctx: Ctx, x: Tensor): Tensor {
  expectRank("globalAvgPool", x, 4);
  const [n, c, h, w] = x.shape;
  const s = h * w;
  const xd = x.data;
  const y = zerosLike(xd, n * c);
  for (let p = 0; p < n * c; p++) {
    let sum = 0;
    for (let j = p * s, e = j + s; j < e; j++) sum += xd[j];
    y[p] = sum / s;
  }
  const rec = recording(ctx, x);
  const out = new Tensor([n, c], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const gy = out.grad;
    if (gy === null) return;
    const dx = gradOf(x);
    for (let p = 0; p < n * c; p++) {
      const v = gy[p] / s;
      for (let j = p * s, e = j + s; j < e; j++) dx[j] += v;
    }
  });
  return out;
}
