/**
 * The quantization hook of the runtime (DESIGN "A recipe"): every GEMM operand and every
 * tensor-role boundary passes through `Precision.quantize`, which fake-quantizes in place.
 * Recipes (later) bind formats to roles and sites; the identity here is full precision.
 */
import type { FloatArray } from "./tensor.ts";

/** The tensor roles a recipe binds formats to. */
export type TensorRole = "weight" | "activation" | "error" | "weightGradient" | "optimizerState" | "master";

/** A precision recipe as seen by the runtime: which roles at which sites get fake-quantized, and how. */
export interface Precision {
  readonly name: string;
  /**
   * Whether `quantize(role, …, site)` may change any value. Ops copy an operand before
   * quantizing it only when this is true, so the identity costs nothing.
   */
  active(role: TensorRole, site: string): boolean;
  /**
   * Fake-quantize `t` in place: round every element to the format bound to `role` at `site`
   * (a layer name such as "stage1.block0.conv1"), leaving it in the array's own dtype.
   */
  quantize(role: TensorRole, t: FloatArray, site: string): void;
}

/** Full precision: no role is quantized. */
export const identityPrecision: Precision = {
  name: "identity",
  active: () => false,
  quantize: () => {},
};

/**
 * A copy of `data` quantized for `role` at `site`, or `data` itself when the precision
 * leaves that role alone (the caller must then not write to the result).
 */
export function quantizedView(precision: Precision, role: TensorRole, data: FloatArray, site: string): FloatArray {
  if (!precision.active(role, site)) return data;
  const copy = data.slice();
  precision.quantize(role, copy, site);
  return copy;
}
