/**
 * Tensors: a shape plus one contiguous row-major typed array. float32 is the training dtype;
 * float64 exists so gradient checks against finite differences are meaningful.
 */

/** Element type of a tensor: float32 for training, float64 for gradient checks. */
export type DType = "float32" | "float64";
/** The storage of a tensor, a gradient, or a GEMM operand. */
export type FloatArray = Float32Array | Float64Array;

/** Row-major contiguous tensor. `data.length === numel(shape)` always holds. */
export class Tensor {
  /** Accumulated gradient; allocated on first accumulation, same dtype and length as `data`. */
  grad: FloatArray | null = null;

  constructor(
    readonly shape: readonly number[],
    readonly data: FloatArray,
    /** Parameters and tensors computed from them on a recording tape carry gradients. */
    readonly requiresGrad = false,
    /** Stable name: the precision site of a parameter, the key of its optimizer state. */
    readonly name = "",
  ) {
    const n = numel(shape);
    if (data.length !== n) {
      throw new RangeError(`tensor ${name || "(unnamed)"}: shape [${shape.join(", ")}] needs ${n} elements, data has ${data.length}`);
    }
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? "float64" : "float32";
  }

  get size(): number {
    return this.data.length;
  }
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid dimension ${d} in shape [${shape.join(", ")}]`);
    n *= d;
  }
  return n;
}

/** A zero-filled array of the dtype. */
export function allocLike(dtype: DType, n: number): FloatArray {
  return dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
}

/** A zero-filled array of the same dtype as `like`. */
export function zerosLike(like: FloatArray, n = like.length): FloatArray {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** A zero tensor that does not require grad. */
export function zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return new Tensor(shape, allocLike(dtype, numel(shape)));
}

/** A tensor over a copy of `values` converted to `dtype`. */
export function tensorFrom(shape: readonly number[], values: ArrayLike<number>, dtype: DType = "float32"): Tensor {
  const data = allocLike(dtype, values.length);
  data.set(values);
  return new Tensor(shape, data);
}

/** A trainable parameter: requires grad, named for precision sites and optimizer state. */
export function parameter(name: string, shape: readonly number[], data: FloatArray): Tensor {
  return new Tensor(shape, data, true, name);
}

/** The gradient buffer of `t`, allocated zero-filled on first use. */
export function gradOf(t: Tensor): FloatArray {
  if (t.grad === null) t.grad = zerosLike(t.data);
  return t.grad;
}

/** Same data, different dtype (a copy), e.g. to run a float32 model in float64 for gradient checks. */
export function castTo(t: Tensor, dtype: DType): Tensor {
  const data = allocLike(dtype, t.size);
  data.set(t.data);
  return new Tensor(t.shape, data, t.requiresGrad, t.name);
}

/** Elementwise equality of two shapes. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws with the op name when the rank or dtype of an input is not what the op needs. */
export function expectRank(op: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) {
    throw new RangeError(`${op}: expected a rank-${rank} tensor, got shape [${t.shape.join(", ")}]`);
  }
}

/** Throws with the op name when the tensors do not share one dtype. */
export function expectSameDType(op: string, ...ts: Tensor[]): void {
  const d = ts[0].dtype;
  for (const t of ts) {
    if (t.dtype !== d) throw new TypeError(`${op}: mixed dtypes ${d} and ${t.dtype}`);
  }
}
