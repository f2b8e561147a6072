/** Exact powers of two and scaling by them, in float32 IR (no f64, no transcendental calls). */
import { Builder, add, and, asI32, asU32, bitsOf, convert, eq, f32, fromBits, ge, i32, max, min, mul, select, shl, shr, sub, u32 } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";

/**
 * 2^k as f32 for an i32 k in [−149, 127] (subnormal powers included), built from exponent bits.
 * Subnormal powers are 2^(k+64)·2^−64 (exact); only constant shift counts, which SIMD targets need.
 */
export function pow2(b: Builder, k: Expr): Expr {
  const normal = pow2Normal(k);
  const subnormal = mul(fromBits(shl(asU32(add(k, i32(127 + 64))), u32(23))), f32(2 ** -64));
  return b.let("pow2", select(ge(k, i32(-126)), normal, subnormal));
}

/** 2^k as f32 for an i32 k known to lie in [−126, 127] (a normal power: its exponent bits alone). */
export function pow2Normal(k: Expr): Expr {
  return fromBits(shl(asU32(add(k, i32(127))), u32(23)));
}

/** x·2^k for an i32 k in [−275, 254], in two steps: exact whenever the result is representable. */
export function scaleByPow2(b: Builder, x: Expr, k: Expr): Expr {
  const k1 = b.let("k1", min(max(k, i32(-126)), i32(127)));
  const k2 = b.let("k2", min(max(sub(k, k1), i32(-149)), i32(127)));
  return b.let("scaled", mul(mul(x, pow2(b, k1)), pow2(b, k2)));
}

/**
 * ⌊log2 |x|⌋ (i32) of a finite non-zero f32 from the bits of |x|, subnormals included: the
 * exponent field less the bias for normals; for a subnormal m·2^−149, the exponent of m converted
 * to f32 (exact: m < 2^23) less 127 + 149 — a conversion and a shift where a count of leading
 * zeros takes a binary search of ~20 SIMD instructions. The converted m is a normal f32, so a
 * target that flushes float32 subnormals computes the same.
 */
export function floorLog2Bits(b: Builder, absBits: Expr): Expr {
  const field = b.let("field", asI32(shr(absBits, u32(23))));
  const fraction = b.let("fraction", convert("f32.fromI32", asI32(and(absBits, u32(0x7fffff)))));
  const subnormal = sub(asI32(shr(bitsOf(fraction), u32(23))), i32(127 + 149));
  return b.let("e", select(eq(field, i32(0)), subnormal, sub(field, i32(127))));
}

/** The bits of x, of |x|, and its sign bit (u32 0 or 1). */
export function splitSign(b: Builder, x: Expr): { bits: Expr; absBits: Expr; sign: Expr } {
  const bits = b.let("bits", bitsOf(x));
  return { bits, absBits: b.let("abs_bits", and(bits, u32(0x7fffffff))), sign: b.let("sign", shr(bits, u32(31))) };
}
