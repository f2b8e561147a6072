/** The resolved form and the metadata of block scaling. */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { TensorShape } from "../kind.ts";

/** 1-D blocks of `block` elements along the call's block axis, or fixed 2-D tiles rows × cols. */
export type BlockGeometry = { readonly block: number } | { readonly tile: readonly [number, number] };

/**
 * How a block's scale comes from its amax (see semantics.ts for the exact arithmetic):
 * floor / ceil / even — a power of two 2^E from amax and the element's max exactly (OCP MX);
 * nearest-even — float32 amax / elementMax (times the tensor scale, with a level above),
 * rounded to nearest even into the scale format; ceil-power-of-two — float32 amax / elementMax
 * rounded up to a power of two.
 */
export type BlockScaleRounding = "floor" | "ceil" | "even" | "nearest-even" | "ceil-power-of-two";

export interface BlockScaling {
  readonly kind: "block";
  readonly granularity: BlockGeometry;
  /** The scale format, its rounding fixed to nearest-even (what the scales are encoded with). */
  readonly scaleFormat: ResolvedFormat;
  readonly scaleRounding: BlockScaleRounding;
  /** A float32 scale per tensor above the block scales (NVFP4), or null. */
  readonly tensorScale: { readonly format: "fp32" } | null;
}

export interface BlockMeta {
  readonly kind: "block";
  /** The matrix the codes were quantized as. */
  readonly shape: TensorShape;
  /** The tile every scale covers, [rows, cols] (a 1-D block along axis 1 is [1, B]). */
  readonly tile: readonly [number, number];
  /** One scale-format code per tile, tiles in row-major order. */
  readonly scaleCodes: Uint8Array | Uint16Array | Uint32Array;
  /** The per-tensor scale S (1 without a level above the blocks). */
  readonly tensorScale: number;
}
