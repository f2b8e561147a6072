/** Exact bit-level facts about doubles and float32s, used by every encoder. */

const scratch = new DataView(new ArrayBuffer(8));

/** ⌊log2 a⌋ for a finite a > 0, exact (read from the exponent field, subnormals included). */
export function floorLog2(a: number): number {
  scratch.setFloat64(0, a);
  const biased = (scratch.getUint32(0) >>> 20) & 0x7ff;
  if (biased !== 0) return biased - 1023;
  // Double subnormal: scale into the normal range first (exact).
  return floorLog2(a * 2 ** 64) - 64;
}

/** 1 when the sign bit of x is set (−0 and negative NaNs included), else 0. */
export function signBit(x: number): 0 | 1 {
  scratch.setFloat64(0, x);
  return (scratch.getUint32(0) >>> 31) as 0 | 1;
}

/** The IEEE binary32 bits of x (x is rounded to float32 first). */
export function f32Bits(x: number): number {
  scratch.setFloat32(0, x);
  return scratch.getUint32(0);
}

/** The float32 whose bits are `bits`, as a double. */
export function fromF32Bits(bits: number): number {
  scratch.setUint32(0, bits >>> 0);
  return scratch.getFloat32(0);
}

/** The IEEE binary64 bits of x as a 16-digit hex string. */
export function f64Hex(x: number): string {
  scratch.setFloat64(0, x);
  return scratch.getBigUint64(0).toString(16).padStart(16, "0");
}

/** The double whose bits are the given hex string (with or without 0x). */
export function fromF64Hex(hex: string): number {
  scratch.setBigUint64(0, BigInt(hex.startsWith("0x") ? hex : `0x${hex}`));
  return scratch.getFloat64(0);
}
