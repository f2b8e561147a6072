/** What NaN encodes to in a format without NaN, per the spec's `nanInput`. */
import type { ResolvedFormat } from "../resolved.ts";

/** The code a NaN input gets when the format has no NaN code. */
export function nanInputCode(format: ResolvedFormat): number {
  switch (format.nanInput) {
    case "max":
      return format.codes.maxFinite;
    case "min":
      return format.codes.minFinite;
    case "zero":
    case null:
      return format.codes.positiveZero ?? 0;
  }
}
