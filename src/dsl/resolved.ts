/**
 * ResolvedFormat: a validated spec with every derived constant computed once.
 * Everything downstream (semantics, codegen, runtime) reads these numbers and never a name.
 */

/**
 * nearest-even / nearest-away: to nearest, ties to the even code / away from zero; toward-zero,
 * toward-positive, toward-negative: directed (IEEE 754 roundTowardZero/Positive/Negative); odd:
 * an inexact value takes the neighbour whose code is odd (P3109 RoundToOdd); stochastic.
 */
export type RoundingMode = "nearest-even" | "nearest-away" | "toward-zero" | "toward-positive" | "toward-negative" | "odd" | "stochastic";

/** How a value between two neighbours is rounded; `bits` random bits when stochastic. */
export interface Rounding {
  readonly mode: RoundingMode;
  readonly bits: number;
}

/**
 * saturate: finite overflow and ±Inf give ±max; infinity: beyond max gives ±Inf (IEEE, as the
 * rounding direction says); saturate-propagate: finite overflow gives ±max, ±Inf stays ±Inf (P3109).
 */
export type Overflow = "saturate" | "infinity" | "saturate-propagate";
export type NanInput = "zero" | "max" | "min";
export type NanEncoding = "ieee" | "all-ones" | "negative-zero" | "none";

/** Sign-exponent-mantissa element; codes are sign | exponent field | mantissa field. */
export interface ResolvedFloat {
  readonly kind: "float";
  readonly bits: number;
  readonly signed: boolean;
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly bias: number;
  readonly infinity: boolean;
  readonly nan: NanEncoding;
  readonly negativeZero: boolean;
  readonly subnormals: boolean;
  readonly zero: boolean;
  /** Unbiased exponent of the smallest normal binade. */
  readonly minNormalExponent: number;
  /** Unbiased exponent of the largest finite binade. */
  readonly maxExponent: number;
  /** Largest mantissa field in the largest finite binade. */
  readonly maxMantissaAtMaxExponent: number;
}

/** Posit⟨bits, es⟩ (2022 standard layout, two's complement negatives, NaR = 1000…0). */
export interface ResolvedPosit {
  readonly kind: "posit";
  readonly bits: number;
  readonly es: number;
}

/** Integer (optionally fixed point, optionally affine): code c stands for (c − zeroPoint)·2^−fractionBits. */
export interface ResolvedInt {
  readonly kind: "int";
  readonly bits: number;
  readonly signed: boolean;
  readonly minInt: number;
  readonly maxInt: number;
  readonly fractionBits: number;
  /** Added after rounding, subtracted before decoding (asymmetric quantization); minInt ≤ zeroPoint ≤ maxInt. */
  readonly zeroPoint: number;
}

/** A codebook: code c (< values.length) stands for values[c]; values are float32s, strictly increasing. */
export interface ResolvedTable {
  readonly kind: "table";
  /** ⌈log2(values.length)⌉, at least 1. */
  readonly bits: number;
  readonly values: readonly number[];
}

export type ResolvedElement = ResolvedFloat | ResolvedPosit | ResolvedInt | ResolvedTable;

/** The resolved `scaling`: one of the registered scaling kinds' forms (src/scaling/registry.ts). */
export type { ResolvedScaling } from "../scaling/registry.ts";
import type { ResolvedScaling } from "../scaling/registry.ts";

/** Code of each special value, or null where the format has none. */
export interface SpecialCodes {
  readonly positiveZero: number | null;
  readonly negativeZero: number | null;
  readonly positiveInfinity: number | null;
  readonly negativeInfinity: number | null;
  /** The NaN produced for a NaN input with the sign bit clear (NaR for posits). */
  readonly nan: number | null;
  /** The NaN produced for a NaN input with the sign bit set. */
  readonly negativeNan: number | null;
  readonly maxFinite: number;
  readonly minFinite: number;
}

/** A frozen, fully derived format. */
export interface ResolvedFormat {
  readonly name: string;
  readonly summary: string;
  readonly element: ResolvedElement;
  readonly rounding: Rounding;
  readonly overflow: Overflow;
  readonly nanInput: NanInput | null;
  readonly scaling: ResolvedScaling;
  /** Bits per code. */
  readonly bits: number;
  /** 2^bits. */
  readonly codeCount: number;
  readonly maxFinite: number;
  /** Most negative finite value (−maxFinite for symmetric signed formats, 0 for unsigned ones). */
  readonly minFinite: number;
  /** Smallest positive normal value (for ints and posits: the smallest positive value). */
  readonly minNormal: number;
  /** Smallest positive value. */
  readonly minSubnormal: number;
  /** Gap between 1 and the next larger value (NaN if 1 is not representable). */
  readonly epsilon: number;
  /** log2(maxFinite / minSubnormal). */
  readonly dynamicRangeBinades: number;
  readonly hasNaN: boolean;
  readonly hasInfinity: boolean;
  readonly codes: SpecialCodes;
}
