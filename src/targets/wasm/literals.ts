/**
 * WebAssembly text for the few things that come from data: identifiers (validated, never
 * spliced), integer, float32 and float64 constants (exact: floats as hexadecimal floats) and
 * byte strings.
 */
import type { ScalarType } from "../../codegen/ir/nodes.ts";
import { identifier } from "../js/render.ts";

/** `$name` for an IR name that passed the JS target's identifier check (so it cannot contain `.`). */
export function watId(name: string): string {
  return `$${identifier(name)}`;
}

/** The 32 bits of a float32 value (NaN → the canonical quiet NaN 0x7fc00000). */
export function f32Bits(value: number): number {
  if (typeof value !== "number") throw new Error(`refusing to emit ${JSON.stringify(value)} as a number`);
  if (!Number.isNaN(value) && Math.fround(value) !== value) throw new Error(`${value} is not a float32 value`);
  return new Uint32Array(Float32Array.of(value).buffer)[0];
}

/** A float32 literal that parses back to exactly `value`: a hexadecimal float, inf or nan. */
export function f32Literal(value: number): string {
  const bits = f32Bits(value);
  const sign = bits >>> 31 ? "-" : "";
  const field = (bits >>> 23) & 0xff;
  const fraction = ((bits & 0x7fffff) * 2).toString(16).padStart(6, "0");
  if (field === 0xff) return bits & 0x7fffff ? `${sign}nan:0x${(bits & 0x7fffff).toString(16)}` : `${sign}inf`;
  return field === 0 ? `${sign}0x0.${fraction}p-126` : `${sign}0x1.${fraction}p${field - 127}`;
}

/** A float64 literal that parses back to exactly `value`: a hexadecimal float, inf or nan. */
export function f64Literal(value: number): string {
  if (typeof value !== "number") throw new Error(`refusing to emit ${JSON.stringify(value)} as a number`);
  if (Number.isNaN(value)) return "nan";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const sign = high >>> 31 ? "-" : "";
  const field = (high >>> 20) & 0x7ff;
  const fraction = (high & 0xfffff).toString(16).padStart(5, "0") + view.getUint32(4).toString(16).padStart(8, "0");
  if (field === 0x7ff) return `${sign}inf`;
  return field === 0 ? `${sign}0x0.${fraction}p-1022` : `${sign}0x1.${fraction}p${field - 1023}`;
}

/** The 32 bits of an integer-typed constant, checked to be in the type's range (bool: 0 or 1). */
export function intBits(type: ScalarType, value: number): number {
  const ok =
    typeof value === "number" && Number.isInteger(value) &&
    (type === "bool" ? value === 0 || value === 1 : type === "u32" ? value >= 0 && value <= 0xffffffff : value >= -0x80000000 && value <= 0x7fffffff);
  if (!ok) throw new Error(`refusing to emit ${JSON.stringify(value)} as a ${type} constant`);
  return value >>> 0;
}

/** An i32 literal for 32 bits (written signed, the form every WAT parser accepts). */
export function i32Literal(bits: number): string {
  return String(bits | 0);
}

/** A WAT string holding exactly these bytes. */
export function bytesLiteral(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `\\${b.toString(16).padStart(2, "0")}`;
  return `"${out}"`;
}
