/** Seeded parameter initialization; each parameter draws from its own stream, keyed by its name. */
import { Rng } from "../random.ts";
import { allocLike, numel, parameter, type DType, type Tensor } from "../tensor.ts";

/** N(0, std²) entries drawn from the parameter's own stream (keyed by its name). */
export function normal(name: string, shape: readonly number[], std: number, seed: number, dtype: DType): Tensor {
  const rng = new Rng(seed).fork(name);
  const data = allocLike(dtype, numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
  return parameter(name, shape, data);
}

/** He / Kaiming normal (He et al. 2015): N(0, 2/fanIn), for layers followed by ReLU. fanIn = shape[1]·kernel area. */
export function heNormal(name: string, shape: readonly number[], seed: number, dtype: DType): Tensor {
  return normal(name, shape, Math.sqrt(2 / numel(shape.slice(1))), seed, dtype);
}

/** U(−1/√fanIn, 1/√fanIn): PyTorch's default for a linear layer, used for the classifier head. */
export function uniformFanIn(name: string, shape: readonly number[], seed: number, dtype: DType): Tensor {
  const bound = 1 / Math.sqrt(numel(shape.slice(1)));
  const rng = new Rng(seed).fork(name);
  const data = allocLike(dtype, numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * bound;
  return parameter(name, shape, data);
}

/** A parameter filled with one value (BN gamma 1, beta 0, biases 0). */
export function filled(name: string, shape: readonly number[], value: number, dtype: DType): Tensor {
  const data = allocLike(dtype, numel(shape));
  data.fill(value);
  return parameter(name, shape, data);
}
