/** The resolved form and the metadata of amax scaling. */

export type AmaxHistory = { readonly mode: "current" } | { readonly mode: "delayed"; readonly length: number };

export interface AmaxScaling {
  readonly kind: "amax";
  readonly granularity: "tensor" | "channel";
  readonly history: AmaxHistory;
  readonly margin: number;
  readonly scale: "fp32" | "power-of-two";
}

export interface AmaxMeta {
  readonly kind: "amax";
  /** Multiplier applied before encoding, one per channel (one for a tensor). */
  readonly scale: Float32Array;
  /** float32(1/scale), applied after decoding. */
  readonly scaleInv: Float32Array;
  /** The amax each scale was computed from. */
  readonly amax: Float32Array;
}
