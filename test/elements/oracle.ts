/**
 * An independent rounding oracle: a format is a sorted list of its non-negative finite values
 * with their magnitude codes, built here from the standards' formulas (not from numforge's
 * decode), and x is rounded by finding its two neighbours and comparing exact rationals
 * (BigInt multiples of 2^−1074). The IEEE 754 rules are applied as the standard states them:
 * directed modes by the sign of x, ties to the even code or away from zero, round-to-odd to the
 * neighbour with the odd code, overflow by rounding in the top binade's unbounded grid.
 */
import type { Overflow, Rounding } from "../../src/dsl/resolved.ts";

/** x·2^1074 as a BigInt (exact for every finite double). */
export function exactScaled(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  const magnitude = biased === 0 ? fraction : (fraction | (1n << 52n)) << BigInt(biased - 1);
  return x < 0 ? -magnitude : magnitude;
}

export interface OracleFormat {
  /** The neighbours lo ≤ a ≤ hi of a non-negative a ≤ max (lo = hi when a is a value), with their magnitude codes. */
  neighbours(a: number): { lo: number; loCode: number; hi: number; hiCode: number };
  readonly max: number;
  readonly maxCode: number;
  /** Every non-negative finite value in order, where the format is small enough to list. */
  readonly values?: readonly number[];
  /** The step of the top binade (the grid continued past max, where overflow is decided). */
  readonly topStep: number;
  /** Code of the sign bit (0: unsigned). */
  readonly signBit: number;
  readonly negativeZero: boolean;
  readonly infinityCode: number | null;
  /** Code a NaN or an Inf becomes where the format has no Inf under "infinity". */
  readonly nanCode: number | null;
}

/** IEEE-style binary format with subnormals: e exponent bits, m mantissa bits, bias, the top exponent field reserved when `ieee`. */
export function ieeeOracle(e: number, m: number, bias: number, special: "ieee" | "all-ones" | "none"): OracleFormat {
  const values: number[] = [];
  const codes: number[] = [];
  const topField = special === "ieee" ? 2 ** e - 2 : 2 ** e - 1;
  for (let field = 0; field <= topField; field++)
    for (let mant = 0; mant < 2 ** m; mant++) {
      if (special === "all-ones" && field === topField && mant === 2 ** m - 1) continue;
      const value = field === 0 ? mant * 2 ** (1 - bias - m) : (2 ** m + mant) * 2 ** (field - bias - m);
      values.push(value);
      codes.push(field * 2 ** m + mant);
    }
  const signBit = 2 ** (e + m);
  return {
    neighbours: (a) => {
      let i = 0;
      let j = values.length - 1;
      while (j - i > 1) {
        const mid = (i + j) >> 1;
        if (values[mid] <= a) i = mid;
        else j = mid;
      }
      if (values[j] <= a) i = j;
      return values[i] === a ? { lo: a, loCode: codes[i], hi: a, hiCode: codes[i] } : { lo: values[i], loCode: codes[i], hi: values[i + 1], hiCode: codes[i + 1] };
    },
    max: values[values.length - 1],
    maxCode: codes[codes.length - 1],
    values,
    topStep: 2 ** (topField - bias - m),
    signBit,
    negativeZero: true,
    infinityCode: special === "ieee" ? (2 ** e - 1) * 2 ** m : null,
    nanCode: special === "ieee" ? (2 ** e - 1) * 2 ** m + 2 ** (m - 1) : special === "all-ones" ? 2 ** (e + m) - 1 : null,
  };
}

const f32 = new DataView(new ArrayBuffer(4));
const bitsOfF32 = (v: number) => (f32.setFloat32(0, v), f32.getUint32(0));
const f32OfBits = (b: number) => (f32.setUint32(0, b), f32.getFloat32(0));

/** IEEE binary32 for double inputs: neighbours by stepping float32 bit patterns. */
export const binary32Oracle: OracleFormat = {
  neighbours: (a) => {
    const r = Math.fround(a);
    if (r === a) return { lo: a, loCode: bitsOfF32(a), hi: a, hiCode: bitsOfF32(a) };
    const loCode = r < a ? bitsOfF32(r) : bitsOfF32(r) - 1;
    return { lo: f32OfBits(loCode), loCode, hi: f32OfBits(loCode + 1), hiCode: loCode + 1 };
  },
  max: f32OfBits(0x7f7fffff),
  maxCode: 0x7f7fffff,
  topStep: 2 ** 104,
  signBit: 0x80000000,
  negativeZero: true,
  infinityCode: 0x7f800000,
  nanCode: 0x7fc00000,
};

/** The code of x per the oracle (x finite or ±Inf, not NaN). Stochastic rounding has no oracle. */
export function oracleEncode(f: OracleFormat, x: number, rounding: Rounding, overflow: Overflow): number {
  const negative = x < 0 || Object.is(x, -0);
  const sign = negative ? f.signBit : 0;
  const a = Math.abs(x);
  const max = f.max;
  const infinity = () => (f.infinityCode ?? f.nanCode ?? f.maxCode) + sign;
  if (a === Infinity) return overflow === "saturate" ? f.maxCode + sign : infinity();
  // Neighbours lo ≤ a ≤ hi; past max, the top binade's grid continues with the next codes (unbounded exponent).
  let lo: number;
  let hi: number;
  let loCode: number;
  let hiCode: number;
  if (a > max) {
    const k = Math.floor((a - max) / f.topStep);
    [lo, hi] = [max + k * f.topStep, max + (k + 1) * f.topStep];
    [loCode, hiCode] = [f.maxCode + k, f.maxCode + k + 1];
  } else ({ lo, loCode, hi, hiCode } = f.neighbours(a));
  let pick: "lo" | "hi";
  if (lo === a) pick = "lo";
  else {
    const away = (rounding.mode === "toward-positive" && !negative) || (rounding.mode === "toward-negative" && negative);
    switch (rounding.mode) {
      case "toward-zero":
        pick = "lo";
        break;
      case "toward-positive":
      case "toward-negative":
        pick = away ? "hi" : "lo";
        break;
      case "odd":
        pick = loCode % 2 === 1 ? "lo" : "hi";
        break;
      case "nearest-even":
      case "nearest-away": {
        const d = 2n * exactScaled(a) - exactScaled(lo) - exactScaled(hi);
        pick = d < 0n ? "lo" : d > 0n ? "hi" : rounding.mode === "nearest-away" ? "hi" : loCode % 2 === 0 ? "lo" : "hi";
        break;
      }
      default:
        throw new Error(`no oracle for ${rounding.mode}`);
    }
  }
  const value = pick === "lo" ? lo : hi;
  const code = pick === "lo" ? loCode : hiCode;
  if (value > max) {
    // IEEE 754 7.4: to ±Inf under nearest and the directed mode pointing away; the others give ±max.
    const toInfinity = overflow === "infinity" && (rounding.mode === "nearest-even" || rounding.mode === "nearest-away" || (rounding.mode === "toward-positive" && !negative) || (rounding.mode === "toward-negative" && negative));
    return toInfinity ? infinity() : f.maxCode + sign;
  }
  if (value === 0) return negative && f.negativeZero ? f.signBit : 0;
  return code + sign;
}

/**
 * An integer element's code per the real line: v = x·2^fractionBits (exact), its neighbouring
 * integers ⌊v⌋ and ⌊v⌋ + 1 (signed, not magnitudes), the mode's pick among them (ties to the even
 * integer or away from zero; odd: the odd integer; directed: by direction), then + zeroPoint and
 * the clamp, as ONNX QuantizeLinear states it; the code is the two's complement of the result.
 */
export function intOracleEncode(el: { bits: number; minInt: number; maxInt: number; fractionBits: number; zeroPoint: number }, x: number, mode: Rounding["mode"]): number {
  const v = x * 2 ** el.fractionBits;
  let n: number;
  if (!Number.isFinite(v)) n = v;
  else {
    const lo = Math.floor(v);
    const hi = lo + 1;
    // v against lo + ½ as 2v against 2lo + 1: both exact (v − lo itself may round, −0.49999999999999994 + 1 does)
    const half = 2 * lo + 1;
    const side = 2 * v < half ? -1 : 2 * v > half ? 1 : 0;
    if (v === lo) n = lo;
    else {
      const awayFromZero = v < 0 ? lo : hi;
      const towardZero = v < 0 ? hi : lo;
      const even = lo % 2 === 0 ? lo : hi;
      switch (mode) {
        case "toward-zero":
          n = towardZero;
          break;
        case "toward-positive":
          n = hi;
          break;
        case "toward-negative":
          n = lo;
          break;
        case "odd":
          n = lo % 2 === 0 ? hi : lo;
          break;
        case "nearest-even":
          n = side < 0 ? lo : side > 0 ? hi : even;
          break;
        case "nearest-away":
          n = side < 0 ? lo : side > 0 ? hi : awayFromZero;
          break;
        default:
          throw new Error(`no oracle for ${mode}`);
      }
    }
  }
  const q = Math.min(Math.max(n + el.zeroPoint, el.minInt), el.maxInt);
  return q < 0 ? q + 2 ** el.bits : q;
}

/**
 * A codebook's code by a linear scan of every value (no search, no midpoints): the values at or
 * below and at or above x, distances compared as exact rationals, then the stated rules (nearest
 * with ties to the even code or the larger magnitude; toward zero to the smaller magnitude;
 * equal magnitudes by x's sign; odd: the odd code), saturating outside the table.
 */
export function tableOracleEncode(values: readonly number[], x: number, mode: Rounding["mode"]): number {
  let lo = -1;
  let hi = -1;
  values.forEach((v, i) => {
    if (v <= x && (lo < 0 || v > values[lo])) lo = i;
    if (v >= x && (hi < 0 || v < values[hi])) hi = i;
  });
  if (lo < 0) return hi;
  if (hi < 0) return lo;
  if (lo === hi) return lo;
  const negative = x < 0 || Object.is(x, -0);
  const [l, h] = [Math.abs(values[lo]), Math.abs(values[hi])];
  // Equal magnitudes (x = ±0 between −v and v): both "larger" and "smaller" are the one of x's sign.
  const ofSign = negative ? lo : hi;
  const larger = h === l ? ofSign : h > l ? hi : lo;
  const smaller = h === l ? ofSign : h > l ? lo : hi;
  switch (mode) {
    case "toward-zero":
      return smaller;
    case "toward-positive":
      return hi;
    case "toward-negative":
      return lo;
    case "odd":
      return lo % 2 === 1 ? lo : hi;
    case "nearest-even":
    case "nearest-away": {
      const below = exactScaled(x) - exactScaled(values[lo]);
      const above = exactScaled(values[hi]) - exactScaled(x);
      if (below !== above) return below < above ? lo : hi;
      return mode === "nearest-even" ? (lo % 2 === 0 ? lo : hi) : larger;
    }
    default:
      throw new Error(`no oracle for ${mode}`);
  }
}
