/**
 * log2 and exp2 in float32, defined by a 32-entry table and a short polynomial evaluated with
 * float32 multiply and add only (no fma, no division), so every target — JS, WebAssembly, WGSL —
 * computes the same bits. Accuracy ≈ 1 ulp of float32, far below any 8-bit format's step.
 * S2FP8 uses them for its log2 statistics and its shift-and-squeeze transform.
 */
import { f32Bits, fromF32Bits } from "./bits.ts";

const f = Math.fround;
const TABLE_BITS = 5;
const TABLE_SIZE = 1 << TABLE_BITS;

/** Table constants, rounded to float32: c_j = 1 + j/32, 1/c_j, log2 c_j and 2^(j/32). */
export const ELEMENTARY_TABLES = Object.freeze({
  reciprocal: Float32Array.from({ length: TABLE_SIZE }, (_, j) => 1 / (1 + j / TABLE_SIZE)),
  log2: Float32Array.from({ length: TABLE_SIZE }, (_, j) => Math.log2(1 + j / TABLE_SIZE)),
  exp2: Float32Array.from({ length: TABLE_SIZE }, (_, j) => 2 ** (j / TABLE_SIZE)),
});

/** log2(1 + r) ≈ r·(k1 + r·(k2 + r·(k3 + r·k4))) for |r| < 1/32 (Taylor, float32 coefficients). */
export const LOG2_COEFFICIENTS = Float32Array.from([1, -1 / 2, 1 / 3, -1 / 4], (c) => c / Math.LN2);
/** 2^r ≈ 1 + r·(q1 + r·(q2 + r·(q3 + r·q4))) for 0 ≤ r < 1/32. */
export const EXP2_COEFFICIENTS = Float32Array.from([1, 2, 6, 24], (d, i) => Math.LN2 ** (i + 1) / d);

/** log2 of a positive finite float32 (−Infinity for 0, NaN for negatives and NaN). */
export function log2f(x: number): number {
  if (!(x >= 0)) return Number.NaN;
  if (x === 0) return Number.NEGATIVE_INFINITY;
  if (x === Number.POSITIVE_INFINITY) return x;
  let bits = f32Bits(x);
  let exponent = (bits >>> 23) - 127;
  if (exponent === -127) {
    // Subnormal: normalize by 2^23 (exact) and compensate.
    bits = f32Bits(f(x * 2 ** 23));
    exponent = (bits >>> 23) - 127 - 23;
  }
  const j = (bits >>> (23 - TABLE_BITS)) & (TABLE_SIZE - 1);
  const mantissa = fromF32Bits((bits & 0x7fffff) | 0x3f800000);
  const r = f(f(mantissa * ELEMENTARY_TABLES.reciprocal[j]) - 1);
  const k = LOG2_COEFFICIENTS;
  const p = f(r * f(k[0] + f(r * f(k[1] + f(r * f(k[2] + f(r * k[3])))))));
  return f(f(exponent + ELEMENTARY_TABLES.log2[j]) + p);
}

/** 2^y for a float32 y (0 below the subnormal range, Infinity from 128 up). */
export function exp2f(y: number): number {
  if (Number.isNaN(y)) return y;
  if (y >= 128) return Number.POSITIVE_INFINITY;
  if (y < -151) return 0;
  const { n, frac } = exp2fSplit(y);
  return exp2fScaled(n, frac);
}

/**
 * The integer part n and float32 fraction of y in [−151, 128) that exp2f computes 2^n·2^frac
 * from: frac = y − ⌊y⌋ rounded to float32, which for −2^−25 ≤ y < 0 rounds up to 1 (past the
 * table) and is carried into n. exp2f(y) = exp2fScaled(n, frac): it depends on y only through them.
 */
export function exp2fSplit(y: number): { n: number; frac: number } {
  const n = Math.floor(y);
  const frac = f(y - n);
  return frac === 1 ? { n: n + 1, frac: 0 } : { n, frac };
}

/** 2^frac·2^n for a float32 frac in [0, 1) and an integer n in [−151, 128] (exp2f's last steps). */
export function exp2fScaled(n: number, frac: number): number {
  const j = Math.floor(frac * TABLE_SIZE);
  const r = f(frac - j / TABLE_SIZE);
  const q = EXP2_COEFFICIENTS;
  const p = f(1 + f(r * f(q[0] + f(r * f(q[1] + f(r * f(q[2] + f(r * q[3]))))))));
  const v = f(ELEMENTARY_TABLES.exp2[j] * p);
  // 2^n is a float32 for n ≥ −126; below, scale in two steps (the first one is exact).
  return n >= -126 ? f(v * 2 ** n) : f(f(v * 2 ** (n + 64)) * 2 ** -64);
}
