/** Number and code formatting for human-readable output. */

/** The exact shortest decimal of a double ("-0" for negative zero). */
export function exactNumber(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

/**
 * A short rendering for tables: powers of two far from 1 as 2^k (exact), small integers and
 * short decimals as they are, anything else to 4 significant digits ("3.403e38").
 */
export function compactNumber(x: number): string {
  if (!Number.isFinite(x) || x === 0) return exactNumber(x);
  const sign = x < 0 ? "-" : "";
  const a = Math.abs(x);
  const k = Math.log2(a);
  if (Number.isInteger(k) && 2 ** k === a && (k <= -5 || k > 16)) return `${sign}2^${k}`;
  if (Number.isInteger(a) && a < 1e7) return String(x);
  const plain = String(x);
  if (plain.length <= 9 && !plain.includes("e")) return plain;
  const [mantissa, exponent] = x.toExponential(3).split("e");
  const trimmed = mantissa.replace(/\.?0+$/, "");
  const e = Number(exponent);
  return e >= -4 && e <= 6 ? String(Number(x.toPrecision(4))) : `${trimmed}e${e}`;
}

/** The power of two a value is, as " = 2^k", or "" when it is not one. */
export function powerOfTwoNote(x: number): string {
  if (!(x > 0) || !Number.isFinite(x)) return "";
  const k = Math.log2(x);
  return Number.isInteger(k) && 2 ** k === x ? ` = 2^${k}` : "";
}

/** A code in hex, padded to the format's width ("0x7f"). */
export function hexCode(code: number, bits: number): string {
  return `0x${code.toString(16).padStart(Math.ceil(bits / 4), "0")}`;
}

/** Binades to two decimals, trailing zeros dropped. */
export function binades(x: number): string {
  return String(Number(x.toFixed(2)));
}
