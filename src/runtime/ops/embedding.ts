/**
 * Embedding look-up: rows of a table gathered by index. The looked-up rows are weights seen by
 * the model, so they are quantized with the recipe's weight format at `site` (the S2FP8 paper
 * quantizes embeddings like any other tensor); the gradient is quantized as an error, scattered
 * back into the table's rows and handed to the recipe as a weight gradient.
 */
import { recording, type Ctx } from "../context.ts";
import { Tensor, zerosLike, type FloatArray } from "../tensor.ts";
import { addWeightGradient } from "./common.ts";
import { columnChannels, quantizedView } from "../precision.ts";

/**
 * table [V, D], indices (any length L, values in 0..V−1) → [...shape, D] where `shape`
 * defaults to [L]. Repeated indices accumulate their gradients.
 */
export function embedding(ctx: Ctx, table: Tensor, indices: ArrayLike<number>, site: string, shape: readonly number[] = [indices.length]): Tensor {
  if (table.shape.length !== 2) throw new RangeError(`embedding ${site}: table must be [rows, dim], got [${table.shape.join(", ")}]`);
  const [rows, dim] = table.shape;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== indices.length) throw new RangeError(`embedding ${site}: shape [${shape.join(", ")}] does not hold ${indices.length} indices`);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= rows) throw new RangeError(`embedding ${site}: index ${r} at position ${i} is not a row in 0..${rows - 1}`);
  }
  const { precision } = ctx;
  const y = zerosLike(table.data, indices.length * dim);
  // As a GEMM, the look-up is one-hot [L, V] · table [V, D]: K runs along the table's rows. A
  // format blocked along K quantizes the whole table in that layout (D lanes × V); the one-hot
  // operand is never stored, so a rotation is not applied (it must turn both operands).
  const alongK = precision.quantizesAlongK("weight", site, "forward");
  const td = alongK ? table.data.slice() : table.data;
  if (alongK) precision.quantize("weight", td, site, "forward", { ...columnChannels(rows, dim), unrotated: true });
  for (let i = 0; i < indices.length; i++) y.set(td.subarray(indices[i] * dim, (indices[i] + 1) * dim), i * dim);
  // Quantizing the gathered rows equals quantizing the rows they came from for elementwise
  // formats; formats scaled per tensor or channel see the rows this batch uses.
  if (!alongK && precision.active("weight", site, "forward")) precision.quantize("weight", y, site, "forward");
  const rec = recording(ctx, table);
  const out = new Tensor([...shape, dim], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    if (out.grad === null) return;
    // The gradient GEMM one-hotᵀ · g sums over the L positions: D lanes × L for a format blocked along K.
    const gLayout = precision.quantizesAlongK("error", site, "weightGradient") ? { ...columnChannels(indices.length, dim), unrotated: true as const } : undefined;
    const g = quantizedView(precision, "error", out.grad, site, "weightGradient", gLayout);
    addWeightGradient(precision, table, site, (dst: FloatArray, beta) => {
      if (beta === 0) dst.fill(0);
      for (let i = 0; i < indices.length; i++) {
        const o = indices[i] * dim;
        for (let j = 0, s = i * dim; j < dim; j++, s++) dst[o + j] += g[s];
      }
    });
  });
  return out;
}
