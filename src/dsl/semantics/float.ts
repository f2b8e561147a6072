/**
 * Exact conversion between doubles and sign/exponent/mantissa codes, for any ResolvedFloat.
 * One rounding from the exact input: the quantum of the input's binade is found from its
 * exponent, the input is divided by it exactly and rounded to an integer.
 */
import type { ResolvedFloat, ResolvedFormat, Overflow, Rounding } from "../resolved.ts";
import { floorLog2, signBit } from "./bits.ts";
import { overflowsToInfinity, roundToInteger } from "./rounding.ts";
import { nanInputCode } from "./nan-input.ts";

/** The value of a code (NaN for NaN codes, ±Infinity for infinity codes). */
export function decodeFloat(el: ResolvedFloat, code: number): number {
  const m = el.mantissaBits;
  const signWeight = el.signed ? 2 ** (el.bits - 1) : 2 ** el.bits;
  const negative = el.signed && code >= signWeight;
  const magnitude = negative ? code - signWeight : code;
  if (el.nan === "negative-zero" && negative && magnitude === 0) return Number.NaN;
  const field = Math.floor(magnitude / 2 ** m);
  const mantissa = magnitude % 2 ** m;
  const exponentAllOnes = 2 ** el.exponentBits - 1;
  let value: number;
  if (el.nan === "ieee" && field === exponentAllOnes) value = mantissa === 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  else if (el.nan === "all-ones" && magnitude === 2 ** (el.exponentBits + m) - 1) value = Number.NaN;
  else if (field === 0 && el.zero) value = el.subnormals ? mantissa * 2 ** (el.minNormalExponent - m) : 0;
  else value = 2 ** (field - el.bias) * (1 + mantissa / 2 ** m);
  return negative ? -value : value;
}

/** The code of x under the format's (or the given) rounding and overflow. */
export function encodeFloat(format: ResolvedFormat, x: number, rounding: Rounding, overflow: Overflow, random: number | undefined): number {
  const el = format.element as ResolvedFloat;
  const codes = format.codes;
  const negative = signBit(x) === 1;
  if (Number.isNaN(x) || (negative && !el.signed && x !== 0)) return nanCode(format, negative);
  const signWeight = negative ? 2 ** (el.bits - 1) : 0;
  const a = Math.abs(x);
  if (a === Number.POSITIVE_INFINITY) {
    // ±Inf is exact: only "saturate" changes it.
    if (overflow === "saturate") return codes.maxFinite + signWeight;
    return (negative ? codes.negativeInfinity : codes.positiveInfinity) ?? nanCode(format, negative);
  }
  if (a === 0) return zeroCode(format, negative);

  const m = el.mantissaBits;
  const e = floorLog2(a);
  // Below the normal range the grid is the subnormal one, or {0, minNormal} without subnormals.
  const quantumExponent = e >= el.minNormalExponent ? e - m : el.subnormals ? el.minNormalExponent - m : el.minNormalExponent;
  // Without mantissa bits, n ∈ {1, 2} steps the exponent field, whose last bit decides ties; below
  // the normal range n ∈ {0, 1} is the code itself.
  const parityOffset = m === 0 && e >= el.minNormalExponent ? e + el.bias - 1 : 0;
  let n = roundToInteger(a * 2 ** -quantumExponent, rounding, random, parityOffset, negative);
  if (n === 0 && !el.zero) n = 1;
  if (n === 0) return zeroCode(format, negative);
  const value = n * 2 ** quantumExponent;
  if (value > format.maxFinite) {
    // IEEE: a mode that rounds this value toward zero never produces an infinity from a finite input.
    if (overflow !== "infinity" || !overflowsToInfinity(rounding.mode, negative)) return codes.maxFinite + signWeight;
    return (negative ? codes.negativeInfinity : codes.positiveInfinity) ?? nanCode(format, negative);
  }
  const valueExponent = floorLog2(value);
  const magnitude =
    valueExponent >= el.minNormalExponent
      ? (valueExponent + el.bias) * 2 ** m + (value * 2 ** (m - valueExponent) - 2 ** m)
      : value * 2 ** (m - el.minNormalExponent);
  return magnitude + signWeight;
}

function nanCode(format: ResolvedFormat, negative: boolean): number {
  const code = negative ? format.codes.negativeNan : format.codes.nan;
  return code ?? nanInputCode(format);
}

function zeroCode(format: ResolvedFormat, negative: boolean): number {
  const { negativeZero, positiveZero } = format.codes;
  if (negative && negativeZero !== null) return negativeZero;
  if (positiveZero !== null) return positiveZero;
  // A format without zero rounds ±0 up to its smallest magnitude, code 0 (E8M0), keeping the sign
  // where it has one — as it does for every other input below that magnitude.
  const el = format.element as ResolvedFloat;
  return negative && el.signed ? 2 ** (el.bits - 1) : 0;
}
