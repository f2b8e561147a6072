/** Rounding of an exact non-negative real (a double) to an integer, in every rounding mode. */
import type { Rounding } from "../resolved.ts";

/**
 * Rounds q ≥ 0 (exact, < 2^53) to an integer. Stochastic rounding keeps the top `bits` bits of
 * the fraction, t = ⌊frac·2^bits⌋, and rounds up iff t + r ≥ 2^bits with r the top `bits` bits of
 * the u32 `random`: P(up) = t/2^bits, unbiased for fractions with at most `bits` bits.
 * Ties to even pick the n whose code is even: n + parityOffset even (the offset matters only
 * when the code's last bit is not n's, as in formats with no mantissa bits); odd picks, for any
 * inexact q, the n with n + parityOffset odd. q is a magnitude: `negative` says the value is −q,
 * which the directed modes need (toward +∞ rounds a negative value's magnitude down).
 */
export function roundToInteger(q: number, rounding: Rounding, random: number | undefined, parityOffset = 0, negative = false): number {
  const floor = Math.floor(q);
  const frac = q - floor;
  if (frac === 0) return floor;
  switch (rounding.mode) {
    case "toward-zero":
      return floor;
    case "toward-positive":
      return negative ? floor : floor + 1;
    case "toward-negative":
      return negative ? floor + 1 : floor;
    case "odd":
      return (floor + parityOffset) % 2 !== 0 ? floor : floor + 1;
    case "nearest-away":
      return frac >= 0.5 ? floor + 1 : floor;
    case "nearest-even":
      return frac > 0.5 || (frac === 0.5 && (floor + parityOffset) % 2 !== 0) ? floor + 1 : floor;
    case "stochastic": {
      if (random === undefined) throw new Error("stochastic rounding needs a random draw (seed and element index)");
      const scale = 2 ** rounding.bits;
      const t = Math.floor(frac * scale);
      const r = Math.floor((random >>> 0) / 2 ** (32 - rounding.bits));
      return t + r >= scale ? floor + 1 : floor;
    }
  }
}

/**
 * Whether a finite value beyond max, rounded with `mode`, becomes ±Inf under overflow "infinity"
 * (IEEE 754 7.4): only where the mode rounds the value away from zero; toward zero, the directed
 * mode pointing back at zero and odd give ±max.
 */
export function overflowsToInfinity(mode: Rounding["mode"], negative: boolean): boolean {
  switch (mode) {
    case "toward-zero":
    case "odd":
      return false;
    case "toward-positive":
      return !negative;
    case "toward-negative":
      return negative;
    default:
      return true;
  }
}
