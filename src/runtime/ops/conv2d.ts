/** 2-D convolution over NCHW by im2col + one GEMM per pass (forward, input grad, weight grad). */
import { recording, type Ctx } from "../context.ts";
import { columnChannels, operandFor, quantizedView, rowChannels, type ChannelLayout } from "../precision.ts";
import { expectRank, expectSameDType, gradOf, Tensor, zerosLike, type FloatArray } from "../tensor.ts";
import { addWeightGradient } from "./common.ts";
import { col2im, convGeometry, im2col, im2row } from "./im2col.ts";
import { scratch } from "../scratch.ts";

/** Stride and zero padding, the same along both spatial axes (defaults 1 and 0). */
export interface Conv2dOptions {
  readonly stride?: number;
  readonly padding?: number;
}

/**
 * x [N, C, H, W], w [F, C, KH, KW], b [F] or null → [N, F, OH, OW] (cross-correlation, as in
 * every framework). Quantization sites as in `linear`: the activation is quantized before
 * im2col (so duplicated window entries do not skew tensor statistics), except where its format
 * blocks along K or the GEMM rotates its operands (Precision.quantizesAlongK): then the im2col
 * matrix is quantized, as lanes × C·KH·KW (forward: in place down its columns where the precision
 * can, else built as rows by im2row and multiplied transposed) or C·KH·KW lanes × N·OH·OW (weight gradient). Scaling channels run
 * along the axis each GEMM does not sum: W by filters (forward) or by its C·KH·KW columns (input
 * gradient), the channel-major error by columns (input gradient) or filters (weight gradient).
 * The im2col matrix's unsummed axis exists only after im2col, so x is split by a coarser axis
 * whose channels each feed whole lanes: samples N (forward: a column is one sample's window) and
 * input channels C (weight gradient: a row is one input channel's kernel offset).
 */
export function conv2d(ctx: Ctx, x: Tensor, w: Tensor, b: Tensor | null, site: string, options: Conv2dOptions = {}): Tensor {
  expectRank(`conv2d ${site}`, x, 4);
  expectRank(`conv2d ${site}`, w, 4);
  const [f, wc, kh, kw] = w.shape;
  if (x.shape[1] !== wc) throw new RangeError(`conv2d ${site}: input has ${x.shape[1]} channels, weight expects ${wc}`);
  if (b !== null && (b.shape.length !== 1 || b.shape[0] !== f)) {
    throw new RangeError(`conv2d ${site}: bias must be [${f}], got [${b.shape.join(", ")}]`);
  }
  expectSameDType(`conv2d ${site}`, ...(b ? [x, w, b] : [x, w]));
  const geo = convGeometry(`conv2d ${site}`, x.shape, kh, kw, options.stride ?? 1, options.padding ?? 0);
  const { n, oh, ow } = geo;
  const ckk = wc * kh * kw;
  const spatial = oh * ow;
  const cols = n * spatial;
  const { backend, precision } = ctx;

  const xLayout = rowChannels(n, x.size / n);
  const wLayout = rowChannels(f, ckk);
  // Blocks along K (C·KH·KW) and rotations exist only on the im2col matrix: quantize that instead.
  const xAlongK = precision.quantizesAlongK("activation", site, "forward");
  // Its lanes are the matrix's columns: quantized where it lies when the precision can (1-D blocks
  // down the columns), else the windows are built as rows (im2row), each lane in place, and the GEMM takes them transposed.
  const windowsAsRows = xAlongK && !precision.quantizesColumnsInPlace("activation", site, "forward");
  // The quantized activation is read only by im2col below: a scratch copy.
  const xq = xAlongK ? x.data : quantizedView(precision, "activation", x.data, site, "forward", xLayout, scratch("conv2d.activation", x.data, x.size, false));
  const wq = quantizedView(precision, "weight", w.data, site, "forward", wLayout);
  const colm = zerosLike(x.data, ckk * cols);
  // Where the weight gradient also quantizes the im2col matrix along its own K, colm stays raw for
  // it (the backward closure owns colm) and the forward quantizes a scratch copy: a copy costs a
  // fraction of building the matrix again.
  const rawColumnsForBackward = !windowsAsRows && xAlongK && ctx.tape !== null && w.requiresGrad && precision.quantizesAlongK("activation", site, "weightGradient");
  let colf = colm;
  if (windowsAsRows) {
    im2row(xq, geo, colm);
    precision.quantize("activation", colm, site, "forward", rowChannels(cols, ckk));
  } else {
    im2col(xq, geo, colm);
    if (rawColumnsForBackward) colf = quantizedView(precision, "activation", colm, site, "forward", columnChannels(ckk, cols), scratch("conv2d.forwardColumns", colm, colm.length, false));
    else if (xAlongK) precision.quantize("activation", colm, site, "forward", columnChannels(ckk, cols));
  }
  const yCols = scratch("conv2d.output", x.data, f * cols, true);
  backend.gemm({ a: wq, b: colf, c: yCols, m: f, n: cols, k: ckk, transA: false, transB: windowsAsRows, alpha: 1, beta: 0, pass: "forward" });
  const y = zerosLike(x.data, n * f * spatial);
  fromChannelMajor(yCols, y, n, f, spatial, b?.data ?? null);

  const rec = recording(ctx, x, w, b);
  const out = new Tensor([n, f, oh, ow], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    if (out.grad === null) return;
    // The permuted copy is ours. It and every buffer below but the gradients serve this closure only: scratch.
    const gRaw = scratch("conv2d.error", out.grad, f * cols, false);
    toChannelMajor(out.grad, gRaw, n, f, spatial);
    const gLayouts = { first: columnChannels(f, cols), pass: rowChannels(f, cols) };
    // The error as the input-gradient GEMM quantizes it: in place on the copy where the weight-gradient
    // GEMM takes the same values, else each GEMM quantizes its own scratch from the raw copy.
    const errorsDiffer = precision.differs("error", site, "inputGradient", "weightGradient", gLayouts.first, gLayouts.pass);
    let g = gRaw;
    if (errorsDiffer) g = quantizedView(precision, "error", gRaw, site, "inputGradient", gLayouts.first, scratch("conv2d.inputGradientError", gRaw, gRaw.length, false));
    else if (precision.active("error", site, "inputGradient")) precision.quantize("error", g, site, "inputGradient", gLayouts.first);
    if (w.requiresGrad) {
      const gw = errorsDiffer ? quantizedView(precision, "error", gRaw, site, "weightGradient", gLayouts.pass, scratch("conv2d.weightGradientError", gRaw, gRaw.length, false)) : g;
      // colm is the column matrix, as the forward quantized it for its own GEMM: reused only where that is this GEMM's operand.
      let colw = colm;
      const xwLayout: ChannelLayout = { outer: n, channels: wc, inner: x.size / (n * wc) };
      if (precision.quantizesAlongK("activation", site, "weightGradient")) {
        // The weight-gradient GEMM sums over N·OH·OW: each im2col row is a lane. colm is still the
        // raw matrix where the forward kept it so (quantized here in place: nothing reads it after).
        if (!rawColumnsForBackward) {
          colw = scratch("conv2d.weightGradientColumns", x.data, ckk * cols, false);
          im2col(x.data, geo, colw);
        }
        precision.quantize("activation", colw, site, "weightGradient", rowChannels(ckk, cols));
      } else if (xAlongK || precision.differs("activation", site, "forward", "weightGradient", xLayout, xwLayout)) {
        colw = scratch("conv2d.weightGradientColumns", x.data, ckk * cols, false);
        const xw = quantizedView(precision, "activation", x.data, site, "weightGradient", xwLayout, scratch("conv2d.activation", x.data, x.size, false));
        im2col(xw, geo, colw);
      }
      addWeightGradient(precision, w, site, (dst, beta) =>
        backend.gemm({ a: gw, b: colw, c: dst, m: f, n: ckk, k: cols, transA: false, transB: true, alpha: 1, beta, pass: "weightGradient" }));
    }
    if (b !== null && b.requiresGrad) {
      // A rotated error serves its GEMM only; the bias then sums the error as it came.
      const gb = precision.rotates(site, "inputGradient") ? gRaw : g;
      addWeightGradient(precision, b, `${site}.bias`, (dst, beta) => rowSums(gb, f, cols, dst, beta));
    }
    if (x.requiresGrad) {
      const dcols = scratch("conv2d.inputGradientColumns", x.data, ckk * cols, true);
      const wi = operandFor(precision, "weight", w.data, wq, site, "forward", "inputGradient", { first: wLayout, pass: columnChannels(f, ckk) });
      backend.gemm({ a: wi, b: g, c: dcols, m: ckk, n: cols, k: f, transA: true, transB: false, alpha: 1, beta: 0, pass: "inputGradient" });
      col2im(dcols, geo, gradOf(x));
    }
  });
  return out;
}

/** [F, N·S] → [N, F, S], adding bias[f] when given. */
function fromChannelMajor(src: FloatArray, dst: FloatArray, n: number, f: number, s: number, bias: FloatArray | null): void {
  for (let fi = 0; fi < f; fi++) {
    const bv = bias === null ? 0 : bias[fi];
    for (let ni = 0; ni < n; ni++) {
      const si = fi * n * s + ni * s;
      const di = (ni * f + fi) * s;
      for (let j = 0; j < s; j++) dst[di + j] = src[si + j] + bv;
    }
  }
}

/** [N, F, S] → [F, N·S]. */
function toChannelMajor(src: FloatArray, dst: FloatArray, n: number, f: number, s: number): void {
  for (let fi = 0; fi < f; fi++) {
    for (let ni = 0; ni < n; ni++) {
      const di = fi * n * s + ni * s;
      const si = (ni * f + fi) * s;
      for (let j = 0; j < s; j++) dst[di + j] = src[si + j];
    }
  }
}

/** dst[r] = beta·dst[r] + Σ_j g[r, j]. */
function rowSums(g: FloatArray, rows: number, cols: number, dst: FloatArray, beta: 0 | 1): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = r * cols, e = j + cols; j < e; j++) s += g[j];
    dst[r] = beta === 0 ? s : dst[r] + s;
  }
}
