/**
 * The quantization hook of the runtime (DESIGN "A recipe"): every GEMM operand and every
 * tensor-role boundary passes through `Precision.quantize`, which fake-quantizes in place.
 * Recipes (later) bind formats to roles and sites; the identity here is full precision.
 */
import type { FloatArray } from "./tensor.ts";

/** The tensor roles a recipe binds formats to. */
export type TensorRole = "weight" | "activation" | "error" | "weightGradient" | "optimizerState" | "master";

/**
 * The GEMM an operand is quantized for: a layer's forward GEMM (weights × activations), its
 * input-gradient GEMM (errors × weights) and its weight-gradient GEMM (errors × activations).
 */
export type GemmPass = "forward" | "inputGradient" | "weightGradient";

/** A precision recipe as seen by the runtime: which roles at which sites get fake-quantized, and how. */
export interface Precision {
  readonly name: string;
  /**
   * Whether `quantize(role, …, site)` may change any value. Ops copy an operand before
   * quantizing it only when this is true, so the identity costs nothing.
   */
  active(role: TensorRole, site: string, pass?: GemmPass): boolean;
  /**
   * Fake-quantize `t` in place: round every element to the format bound to `role` at `site`
   * (a layer name such as "stage1.block0.conv1"), leaving it in the array's own dtype. `pass`
   * names the GEMM a GEMM operand is for (absent for optimizer state, master weights, weight gradients).
   */
  quantize(role: TensorRole, t: FloatArray, site: string, pass?: GemmPass): void;
  /**
   * Optional: whether `role` at `site` is bound to different formats in the GEMMs `a` and `b`.
   * When absent or false, an op quantizes an operand once (for the first GEMM that uses it) and
   * reuses it in the other.
   */
  differs?(role: TensorRole, site: string, a: GemmPass, b: GemmPass): boolean;
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
export function quantizedView(precision: Precision, role: TensorRole, data: FloatArray, site: string, pass?: GemmPass): FloatArray {
  if (!precision.active(role, site, pass)) return data;
  const copy = data.slice();
  precision.quantize(role, copy, site, pass);
  return copy;
}

/**
 * The operand of GEMM `pass`: `quantized` (already made for GEMM `first`) when the recipe binds
 * the same format in both, else a fresh quantized copy of `data` for `pass`.
 */
export function operandFor(
  precision: Precision, role: TensorRole, data: FloatArray, quantized: FloatArray, site: string, first: GemmPass, pass: GemmPass,
): FloatArray {
  return precision.differs?.(role, site, first, pass) === true ? quantizedView(precision, role, data, site, pass) : quantized;
}
