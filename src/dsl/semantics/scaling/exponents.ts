/** Exact power-of-two arithmetic on positive finite doubles, shared by the scaling kinds. */
import { floorLog2 } from "../bits.ts";

/** x / 2^⌊log2 x⌋, in [1, 2). */
export function significand(x: number): number {
  return x * 2 ** -floorLog2(x);
}

/** The smallest k with a ≤ limit·2^k (exact). */
export function ceilExponentRatio(a: number, limit: number): number {
  return floorLog2(a) - floorLog2(limit) + (significand(a) > significand(limit) ? 1 : 0);
}

/** The largest k with limit / a ≥ 2^k, i.e. a·2^k ≤ limit (exact). */
export function floorExponentRatio(limit: number, a: number): number {
  return floorLog2(limit) - floorLog2(a) - (significand(a) > significand(limit) ? 1 : 0);
}

/** max |x| over the finite entries of x[start, end) (0 when there are none). */
export function finiteAmax(x: Float32Array, start: number, end: number): number {
  let amax = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(x[i]);
    if (a > amax && a !== Number.POSITIVE_INFINITY) amax = a;
  }
  return amax;
}
