/** Scale metadata each scaling kind returns with its codes, and the state delayed scaling keeps. */

/** The metadata each scaling kind returns with its codes (src/scaling/registry.ts). */
export type { ScaleMeta } from "../../../scaling/registry.ts";

/** Delayed-scaling state: the amax of each past step (one entry per channel), oldest first. */
export interface ScalingState {
  readonly amaxHistory: readonly Float32Array[];
}

/** How a flat tensor is split: `channels` leading-axis slices of equal length. */
export interface TensorLayout {
  readonly length: number;
  readonly channels: number;
}
