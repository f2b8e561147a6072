/**
 * Integer and fixed-point codes: clamp(round(x·2^fractionBits) + zeroPoint), two's complement.
 * With a scale, x is first divided by it in float32, as an FP32 pipeline (ONNX QuantizeLinear) does.
 */
import type { ResolvedInt, ResolvedFormat, Rounding } from "../resolved.ts";
import { roundToInteger } from "./rounding.ts";
import { nanInputCode } from "./nan-input.ts";

/** The integer a code stands for (two's complement for signed formats). */
export function codeToInt(el: ResolvedInt, code: number): number {
  return el.signed && code >= 2 ** (el.bits - 1) ? code - 2 ** el.bits : code;
}

/**
 * The value of a code: (int − zeroPoint)·2^−fractionBits. The one code a symmetric format never
 * produces, 100…0, decodes as its most negative integer −maxInt (as clamping it on encode would):
 * every decoded value lies in the format's range, and a GEMM or a sum over codes never sees −2^(bits−1).
 */
export function decodeInt(el: ResolvedInt, code: number, zeroPoint = el.zeroPoint): number {
  return (Math.max(codeToInt(el, code), el.minInt) - zeroPoint) * 2 ** -el.fractionBits;
}

/** The code of x (already divided by any scale) with the given rounding, zero point and clamp. */
export function encodeInt(format: ResolvedFormat, x: number, rounding: Rounding, random: number | undefined, zeroPoint = (format.element as ResolvedInt).zeroPoint): number {
  const el = format.element as ResolvedInt;
  if (Number.isNaN(x)) return nanInputCode(format);
  const v = x * 2 ** el.fractionBits;
  const limit = 2 ** 52; // beyond every clamp bound, and small enough to round exactly
  const a = Math.min(Math.abs(v), limit);
  // Ties to even and odd look at the rounded integer before the zero point is added (ONNX QuantizeLinear).
  const n = roundToInteger(a, rounding, random, 0, v < 0);
  const q = Math.min(Math.max((v < 0 ? -n : n) + zeroPoint, el.minInt), el.maxInt);
  return q < 0 ? q + 2 ** el.bits : q;
}
