/**
 * WGSL spellings of IR names and constants. WGSL has no f64 and evaluates const-expressions at
 * shader creation, rejecting NaN, infinities and out-of-range integers there, so every constant
 * is emitted exactly: integers as typed literals (−2^31 via bitcast), f32 as a decimal literal
 * only when it is a small integer (exact in any parser), otherwise as bitcast<f32>(0x…u), and
 * non-finite f32 through a runtime zero so that no const-expression ever holds them.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Prefix of every IR name in WGSL: keeps clear of WGSL keywords and of the renderer's own `nf_` names. */
const IR_PREFIX = "v_";
/** The module-scope private the renderer declares; reading it makes a value a runtime value. */
export const RUNTIME_ZERO = "nf_zero";

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

/** An f32 expression with exactly the value's bits (any NaN becomes the quiet NaN 0x7fc00000). */
export function f32Literal(value: number): string {
  if (Number.isNaN(value)) return `bitcast<f32>(${hex(0x7fc00000)} | ${RUNTIME_ZERO})`;
  const bits = f32Bits(value);
  if (!Number.isFinite(value)) return `bitcast<f32>(${hex(bits)} | ${RUNTIME_ZERO})`;
  if (Number.isInteger(value) && Math.abs(value) <= 2 ** 24 && !Object.is(value, -0)) return `${value}.0f`;
  return `bitcast<f32>(${hex(bits)})`;
}

/** An i32 literal (−2^31 has no literal form). */
export function i32Literal(value: number): string {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new Error(`${value} is not an i32`);
  return value === -(2 ** 31) ? `bitcast<i32>(${hex(0x80000000)})` : `${value}i`;
}

/** A u32 literal. */
export function u32Literal(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 32) throw new Error(`${value} is not a u32`);
  return `${value}u`;
}
