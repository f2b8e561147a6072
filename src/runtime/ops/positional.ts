/**
 * Positional information for attention models. Sinusoidal encodings (Vaswani et al. 2017, §3.5)
 * are constants added to the token embeddings with `add`; learned positions are an `embedding`
 * table looked up with `positionIndices`, so they are quantized and updated like any weight.
 */
import { allocLike, Tensor, type DType } from "../tensor.ts";

/** [length, dim]: PE(p, 2i) = sin(p / 10000^(2i/dim)), PE(p, 2i+1) = cos(p / 10000^(2i/dim)). */
export function sinusoidalTable(length: number, dim: number, dtype: DType = "float32"): Tensor {
  if (!Number.isInteger(length) || length < 1 || !Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`sinusoidalTable: length and dim must be positive integers, got ${length} and ${dim}`);
  }
  const data = allocLike(dtype, length * dim);
  for (let p = 0; p < length; p++) {
    for (let j = 0; j < dim; j++) {
      const angle = p / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      data[p * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return new Tensor([length, dim], data);
}

/** The first `length` rows of `table` [rows, D], repeated for each of `batch` sequences: a constant [batch, length, D]. */
export function positionsFor(table: Tensor, batch: number, length: number): Tensor {
  const [rows, dim] = table.shape;
  if (length > rows) throw new RangeError(`positions: a sequence of ${length} exceeds the ${rows} positions of the table`);
  const data = allocLike(table.dtype, batch * length * dim);
  const block = table.data.subarray(0, length * dim);
  for (let b = 0; b < batch; b++) data.set(block, b * length * dim);
  return new Tensor([batch, length, dim], data);
}

/** 0..length−1 repeated `batch` times: the indices of a learned position table for [batch, length]. */
export function positionIndices(batch: number, length: number): Int32Array {
  const idx = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) for (let t = 0; t < length; t++) idx[b * length + t] = t;
  return idx;
}
