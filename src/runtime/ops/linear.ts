/** Fully connected layer y = x·Wᵀ + b over the last axis; both GEMMs of it go through the backend. */
import { recording, type Ctx } from "../context.ts";
import { columnChannels, operandFor, quantizedView, rowChannels } from "../precision.ts";
import { expectSameDType, gradOf, Tensor, zerosLike, type FloatArray } from "../tensor.ts";
import { addWeightGradient } from "./common.ts";

/**
 * x [..., in], w [out, in], b [out] or null → [..., out]. Weights and activations are
 * quantized before the forward GEMM, the output gradient ("error") before both backward
 * GEMMs, and the weight gradients after; `site` names the layer for the recipe. Each GEMM
 * operand's scaling channels run along the axis that GEMM does not sum (Precision.quantize):
 * forward x by rows, W by output rows; input gradient g by rows, W by input columns; weight
 * gradient g by output columns, x by input columns.
 */
export function linear(ctx: Ctx, x: Tensor, w: Tensor, b: Tensor | null, site: string): Tensor {
  if (w.shape.length !== 2) throw new RangeError(`linear ${site}: weight must be [out, in], got [${w.shape.join(", ")}]`);
  const [outF, inF] = w.shape;
  const last = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || last !== inF) {
    throw new RangeError(`linear ${site}: input [${x.shape.join(", ")}] does not end in ${inF} features`);
  }
  if (b !== null && (b.shape.length !== 1 || b.shape[0] !== outF)) {
    throw new RangeError(`linear ${site}: bias must be [${outF}], got [${b.shape.join(", ")}]`);
  }
  expectSameDType(`linear ${site}`, ...(b ? [x, w, b] : [x, w]));
  const rows = x.size / inF;
  const { backend, precision } = ctx;
  const xLayout = rowChannels(rows, inF);
  const wLayout = rowChannels(outF, inF);
  const xq = quantizedView(precision, "activation", x.data, site, "forward", xLayout);
  const wq = quantizedView(precision, "weight", w.data, site, "forward", wLayout);
  const y = zerosLike(x.data, rows * outF);
  backend.gemm({ a: xq, b: wq, c: y, m: rows, n: outF, k: inF, transA: false, transB: true, alpha: 1, beta: 0, pass: "forward" });
  if (b !== null) {
    const bd = b.data;
    for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < outF; j++, o++) y[o] += bd[j];
  }
  const rec = recording(ctx, x, w, b);
  const out = new Tensor([...x.shape.slice(0, -1), outF], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    if (out.grad === null) return;
    const gLayout = rowChannels(rows, outF);
    const g = quantizedView(precision, "error", out.grad, site, "inputGradient", gLayout);
    if (x.requiresGrad) {
      const wi = operandFor(precision, "weight", w.data, wq, site, "forward", "inputGradient", { first: wLayout, pass: columnChannels(outF, inF) });
      backend.gemm({ a: g, b: wi, c: gradOf(x), m: rows, n: inF, k: outF, transA: false, transB: false, alpha: 1, beta: 1, pass: "inputGradient" });
    }
    if (w.requiresGrad) {
      const gw = operandFor(precision, "error", out.grad, g, site, "inputGradient", "weightGradient", { first: gLayout, pass: columnChannels(rows, outF) });
      const xw = operandFor(precision, "activation", x.data, xq, site, "forward", "weightGradient", { first: xLayout, pass: columnChannels(rows, inF) });
      addWeightGradient(precision, w, site, (dst, beta) =>
        backend.gemm({ a: gw, b: xw, c: dst, m: outF, n: inF, k: rows, transA: true, transB: false, alpha: 1, beta, pass: "weightGradient" }));
    }
    if (b !== null && b.requiresGrad) {
      // A rotated error serves its GEMM only; the bias then sums the error as it came.
      const gb = precision.rotates(site, "inputGradient") ? out.grad : g;
      addWeightGradient(precision, b, `${site}.bias`, (dst, beta) => columnSums(gb, rows, outF, dst, beta));
    }
  });
  return out;
}

/** dst[j] = beta·dst[j] + Σ_r g[r, j]. */
function columnSums(g: FloatArray, rows: number, cols: number, dst: FloatArray, beta: 0 | 1): void {
  if (beta === 0) dst.fill(0);
  for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < cols; j++, o++) dst[j] += g[o];
}
