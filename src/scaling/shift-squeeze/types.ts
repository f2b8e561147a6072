/** The resolved form and the metadata of S2FP8's shift-squeeze scaling. */

export interface ShiftSqueezeScaling {
  readonly kind: "shift-squeeze";
  readonly targetMaxLog2: number;
}

export interface ShiftSqueezeMeta {
  readonly kind: "shift-squeeze";
  readonly alpha: number;
  readonly beta: number;
}
