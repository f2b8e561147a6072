/**
 * im2col / col2im for NCHW convolutions. The column matrix is [C·KH·KW, N·OH·OW]: row
 * (c, kh, kw), column (n, oh, ow), so a convolution is one GEMM W[F, C·KH·KW] · cols
 * (im2row writes its transpose, for W · rowsᵀ).
 */
import type { FloatArray } from "../tensor.ts";

/** Input [n, c, h, w], kernel kh×kw, stride, padding and the output size oh×ow they give. */
export interface ConvGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly stride: number;
  readonly padding: number;
  readonly oh: number;
  readonly ow: number;
}

/** Output size and geometry; throws when the kernel does not fit the padded input. */
export function convGeometry(
  site: string, [n, c, h, w]: readonly number[], kh: number, kw: number, stride: number, padding: number,
): ConvGeometry {
  if (!(stride >= 1) || !Number.isInteger(stride)) throw new RangeError(`${site}: stride must be a positive integer, got ${stride}`);
  if (!(padding >= 0) || !Number.isInteger(padding)) throw new RangeError(`${site}: padding must be a non-negative integer, got ${padding}`);
  const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * padding - kw) / stride) + 1;
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${site}: a ${kh}×${kw} window does not fit a ${h}×${w} input with padding ${padding}`);
  }
  return { n, c, h, w, kh, kw, stride, padding, oh, ow };
}

/** The output columns [lo, hi) whose input column ow·stride − padding + k lies inside [0, size). */
function validRange(k: number, size: number, out: number, stride: number, padding: number): [number, number] {
  const lo = Math.max(0, Math.ceil((padding - k) / stride));
  const hi = Math.min(out, Math.floor((size - 1 + padding - k) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Stride 1 with the output as large as the input: row (c, ki, kj) of image n is the input
 * plane shifted by (ki − p)·w + (kj − p), so it is copied in bulk and its borders fixed up.
 */
function isSameStride1(g: ConvGeometry): boolean {
  return g.stride === 1 && g.oh === g.h && g.ow === g.w;
}

/** Writes the column matrix of x (NCHW) into cols (zeros where the window hits padding). */
export function im2col(x: FloatArray, g: ConvGeometry, cols: FloatArray): void {
  if (isSameStride1(g)) {
    im2colSame(x, g, cols);
    return;
  }
  const { n, c, h, w, kh, kw, stride, padding, oh, ow } = g;
  let o = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      const [ohLo, ohHi] = validRange(ki, h, oh, stride, padding);
      for (let kj = 0; kj < kw; kj++) {
        const [owLo, owHi] = validRange(kj, w, ow, stride, padding);
        for (let ni = 0; ni < n; ni++) {
          const plane = (ni * c + ci) * h * w;
          for (let y = 0; y < oh; y++) {
            if (y < ohLo || y >= ohHi) {
              for (let xo = 0; xo < ow; xo++) cols[o++] = 0;
              continue;
            }
            const row = plane + (y * stride - padding + ki) * w - padding + kj;
            for (let xo = 0; xo < owLo; xo++) cols[o++] = 0;
            for (let xo = owLo; xo < owHi; xo++) cols[o++] = x[row + xo * stride];
            for (let xo = owHi; xo < ow; xo++) cols[o++] = 0;
          }
        }
      }
    }
  }
}

/**
 * Writes the transposed column matrix, [N·OH·OW, C·KH·KW] (row (n, oh, ow) holds that output's
 * window), into rows: a convolution quantized by windows (blocks along C·KH·KW) quantizes its
 * rows in place, where the column matrix would need a transposed copy and back.
 */
export function im2row(x: FloatArray, g: ConvGeometry, rows: FloatArray): void {
  const { n, c, h, w, kh, kw, stride, padding, oh, ow } = g;
  const ckk = c * kh * kw;
  // The output columns each kernel column kj sees inside the input (as im2col's).
  const ranges = Array.from({ length: kw }, (_, kj) => validRange(kj, w, ow, stride, padding));
  // One output row of windows (ow × C·KH·KW, a few KB) at a time, filled entry by entry of the
  // window: each pass reads an input row in order and writes one column of the block.
  for (let ni = 0; ni < n; ni++) {
    for (let y = 0; y < oh; y++) {
      const block = (ni * oh + y) * ow * ckk;
      for (let ci = 0; ci < c; ci++) {
        for (let ki = 0; ki < kh; ki++) {
          const iy = y * stride - padding + ki;
          const inside = iy >= 0 && iy < h;
          const src = ((ni * c + ci) * h + iy) * w - padding;
          for (let kj = 0; kj < kw; kj++) {
            const at = block + (ci * kh + ki) * kw + kj;
            const [lo, hi] = inside ? ranges[kj] : [ow, ow];
            for (let xo = 0; xo < lo; xo++) rows[at + xo * ckk] = 0;
            for (let xo = lo, from = src + kj; xo < hi; xo++) rows[at + xo * ckk] = x[from + xo * stride];
            for (let xo = Math.max(lo, hi); xo < ow; xo++) rows[at + xo * ckk] = 0;
          }
        }
      }
    }
  }
}

/** Adds the column matrix back into dx (NCHW): the adjoint of im2col. */
export function col2im(cols: FloatArray, g: ConvGeometry, dx: FloatArray): void {
  if (isSameStride1(g)) {
    col2imSame(cols, g, dx);
    return;
  }
  const { n, c, h, w, kh, kw, stride, padding, oh, ow } = g;
  let o = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      const [ohLo, ohHi] = validRange(ki, h, oh, stride, padding);
      for (let kj = 0; kj < kw; kj++) {
        const [owLo, owHi] = validRange(kj, w, ow, stride, padding);
        for (let ni = 0; ni < n; ni++) {
          const plane = (ni * c + ci) * h * w;
          for (let y = 0; y < oh; y++) {
            if (y < ohLo || y >= ohHi) {
              o += ow;
              continue;
            }
            const row = plane + (y * stride - padding + ki) * w - padding + kj;
            for (let xo = owLo; xo < owHi; xo++) dx[row + xo * stride] += cols[o + xo];
            o += ow;
          }
        }
      }
    }
  }
}

function im2colSame(x: FloatArray, g: ConvGeometry, cols: FloatArray): void {
  const { n, c, h, w, kh, kw, padding } = g;
  const hw = h * w;
  let o = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      const dy = ki - padding;
      const yLo = Math.max(0, -dy), yHi = Math.min(h, h - dy);
      for (let kj = 0; kj < kw; kj++) {
        const dx = kj - padding;
        const xLo = Math.max(0, -dx), xHi = Math.min(w, w - dx);
        for (let ni = 0; ni < n; ni++, o += hw) {
          const plane = (ni * c + ci) * hw;
          // Valid output rows yLo..yHi map to input rows yLo+dy..yHi+dy: one contiguous run.
          const from = plane + (yLo + dy) * w + dx;
          const start = o + yLo * w;
          const len = (yHi - yLo) * w;
          if (dx === 0) {
            cols.set(x.subarray(from, from + len), start);
          } else {
            // The run starts dx early/late and wraps across rows; the wrapped columns are zeroed below.
            const lo = Math.max(from, plane), hi = Math.min(from + len, plane + hw);
            cols.set(x.subarray(lo, hi), start + (lo - from));
            if (lo > from) cols.fill(0, start, start + (lo - from));
            if (hi < from + len) cols.fill(0, start + (hi - from), start + len);
            for (let y = yLo; y < yHi; y++) {
              const row = o + y * w;
              for (let xo = 0; xo < xLo; xo++) cols[row + xo] = 0;
              for (let xo = xHi; xo < w; xo++) cols[row + xo] = 0;
            }
          }
          cols.fill(0, o, o + yLo * w);
          cols.fill(0, o + yHi * w, o + hw);
        }
      }
    }
  }
}

function col2imSame(cols: FloatArray, g: ConvGeometry, dxOut: FloatArray): void {
  const { n, c, h, w, kh, kw, padding } = g;
  const hw = h * w;
  let o = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      const dy = ki - padding;
      const yLo = Math.max(0, -dy), yHi = Math.min(h, h - dy);
      for (let kj = 0; kj < kw; kj++) {
        const dx = kj - padding;
        const xLo = Math.max(0, -dx), xHi = Math.min(w, w - dx);
        for (let ni = 0; ni < n; ni++, o += hw) {
          const shift = (ni * c + ci) * hw + dy * w + dx - o;
          for (let y = yLo; y < yHi; y++) {
            const row = o + y * w;
            for (let i = row + xLo, e = row + xHi; i < e; i++) dxOut[i + shift] += cols[i];
          }
        }
      }
    }
  }
}
