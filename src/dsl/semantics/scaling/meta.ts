/** Scale metadata each scaling kind returns with its codes, and the state delayed scaling keeps. */

/** Per-tensor (or per-channel) metadata needed to decode the codes. */
export type ScaleMeta =
  | { readonly kind: "none" }
  | {
      readonly kind: "amax";
      /** Multiplier applied before encoding, one per channel (one for a tensor). */
      readonly scale: Float32Array;
      /** float32(1/scale), applied after decoding. */
      readonly scaleInv: Float32Array;
      /** The amax each scale was computed from. */
      readonly amax: Float32Array;
    }
  | { readonly kind: "block"; readonly blockSize: number; readonly scaleCodes: Uint8Array | Uint16Array | Uint32Array }
  | { readonly kind: "shift-squeeze"; readonly alpha: number; readonly beta: number }
  | { readonly kind: "shift-groups"; readonly channelGroup: Uint8Array; readonly groupExponent: Int32Array };

/** Delayed-scaling state: the amax of each past step (one entry per channel), oldest first. */
export interface ScalingState {
  readonly amaxHistory: readonly Float32Array[];
}

/** How a flat tensor is split: `channels` leading-axis slices of equal length. */
export interface TensorLayout {
  readonly length: number;
  readonly channels: number;
}
