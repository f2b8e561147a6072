/**
 * WGSL spellings of IR names and constants. WGSL has no f64 and evaluates const-expressions at
 * shader creation, rejecting NaN, infinities and out-of-range integers there, so every constant
 * is emitted exactly: integers as typed literals (−2^31 via bitcast), f32 as its bits XORed with
 * a zero the shader reads from its uniforms. That keeps f32 constants out of const-expressions
 * (NaN and ±∞ are fine) and, as important, out of sight of the driver's optimizer: WGSL has no
 * `precise`, and Mesa, given a constant, rewrites x + 0 → x (losing −0 → +0), x·0 → 0, and
 * reassociates (x + c1) + c2 — none of which the IR allows.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Prefix of every IR name in WGSL: keeps clear of WGSL keywords and of the renderer's own `nf_` names. */
const IR_PREFIX = "v_";
/** The u32 zero read from the uniforms (the runner always passes 0) that f32 constants are XORed with. */
export const OPAQUE_ZERO = "nf_opaque_zero";

/** The WGSL identifier of an IR name (throws unless the name is a plain identifier). */
export function wgslName(name: string): string {
  if (typeof name !== "string" || !IDENTIFIER.test(name)) throw new Error(`refusing to emit ${JSON.stringify(name)} as a WGSL identifier`);
  return `${IR_PREFIX}${name}`;
}

const scratch = new DataView(new ArrayBuffer(4));

/** The binary32 bits of a number (which must already be a float32 value). */
export function f32Bits(value: number): number {
  if (typeof value !== "number") throw new Error(`refusing to emit ${JSON.stringify(value)} as a number`);
  scratch.setFloat32(0, value);
  if (!Number.isNaN(value) && scratch.getFloat32(0) !== value) throw new Error(`${value} is not a float32 value`);
  return scratch.getUint32(0);
}

const hex = (bits: number) => `0x${(bits >>> 0).toString(16)}u`;

/** An f32 expression with exactly the value's bits (any NaN becomes the quiet NaN 0x7fc00000), opaque to the compiler. */
export function f32Literal(value: number): string {
  const bits = Number.isNaN(value) ? 0x7fc00000 : f32Bits(value);
  return `bitcast<f32>(${hex(bits)} ^ ${OPAQUE_ZERO})`;
}

/** An i32 literal (negative ones parenthesized: "-" before "-5i" would lex as "--"; −2^31 has no literal form). */
export function i32Literal(value: number): string {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new Error(`${value} is not an i32`);
  return value === -(2 ** 31) ? `bitcast<i32>(${hex(0x80000000)})` : value < 0 ? `(${value}i)` : `${value}i`;
}

/** A u32 literal. */
export function u32Literal(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 32) throw new Error(`${value} is not a u32`);
  return `${value}u`;
}
