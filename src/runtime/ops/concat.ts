/** Concatenation along the last axis (NeuMF joins its embeddings and its two towers this way). */
import { recording, type Ctx } from "../context.ts";
import { expectSameDType, gradOf, Tensor, zerosLike } from "../tensor.ts";

/**
 * Tensors [..., d_k] with equal leading dimensions → [..., Σ d_k]; each output row is the
 * inputs' rows side by side, in argument order. The gradient is split back the same way.
 */
export function concatLastAxis(ctx: Ctx, parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new RangeError("concatLastAxis: nothing to concatenate");
  expectSameDType("concatLastAxis", ...parts);
  const lead = parts[0].shape.slice(0, -1);
  for (const p of parts) {
    const pl = p.shape.slice(0, -1);
    if (p.shape.length < 1 || pl.length !== lead.length || pl.some((d, i) => d !== lead[i])) {
      throw new RangeError(`concatLastAxis: shapes [${parts.map((t) => t.shape.join(", ")).join("], [")}] differ before the last axis`);
    }
  }
  const widths = parts.map((p) => p.shape[p.shape.length - 1]);
  const width = widths.reduce((a, b) => a + b, 0);
  const rows = lead.reduce((a, b) => a * b, 1);
  const y = zerosLike(parts[0].data, rows * width);
  for (let k = 0, at = 0; k < parts.length; at += widths[k], k++) {
    const src = parts[k].data, w = widths[k];
    for (let r = 0; r < rows; r++) y.set(src.subarray(r * w, (r + 1) * w), r * width + at);
  }
  const rec = recording(ctx, ...parts);
  const out = new Tensor([...lead, width], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    for (let k = 0, at = 0; k < parts.length; at += widths[k], k++) {
      if (!parts[k].requiresGrad) continue;
      const d = gradOf(parts[k]), w = widths[k];
      for (let r = 0; r < rows; r++) for (let j = 0; j < w; j++) d[r * w + j] += g[r * width + at + j];
    }
  });
  return out;
}
