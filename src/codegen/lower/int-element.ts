/**
 * Integer / fixed-point element encode/decode lowered to IR, bit-identical to
 * dsl/semantics/int.ts for float32 inputs: clamp(round(x·2^fractionBits) + zeroPoint) in two's complement.
 */
import type { ResolvedFormat, ResolvedInt, Rounding } from "../../dsl/resolved.ts";
import { nanInputCode } from "../../dsl/semantics/nan-input.ts";
import { Builder, abs, add, and, asU32, convert, f32, gt, i32, lt, max, min, mul, neg, select, sub, u32, xor, bitsOf } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import { lowerRoundToInteger } from "./rounding.ts";

/**
 * The integer x encodes to, clamp(round(x·2^fractionBits) + zeroPoint), as an f32 (exact: |n| ≤
 * 2^24 + 2^16), and whether x is NaN (whose code is the format's NaN input code instead).
 */
export function lowerIntRounded(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, rounding: Rounding = format.rounding): { clamped: Expr; isNan: Expr } {
  const el = format.element as ResolvedInt;
  const v = el.fractionBits === 0 ? x : b.let("v", mul(x, f32(2 ** el.fractionBits)));
  // Beyond 2^24 every value clamps; capping first keeps the rounding input an exact f32 integer grid.
  const a = b.let("a", min(abs(v), f32(2 ** 24)));
  const negative = b.let("negative", lt(v, f32(0)));
  const n = lowerRoundToInteger(b, a, rounding, random, i32(0), negative);
  const rounded = select(negative, neg(n), n);
  const signed = b.let("signed", el.zeroPoint === 0 ? rounded : add(rounded, f32(el.zeroPoint)));
  return { clamped: max(min(signed, f32(el.maxInt)), f32(el.minInt)), isNan: gt(and(bitsOf(x), u32(0x7fffffff)), u32(0x7f800000)) };
}

/** u32 code of the f32 `x`. */
export function lowerIntEncode(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, rounding: Rounding = format.rounding): Expr {
  const el = format.element as ResolvedInt;
  const { clamped, isNan } = lowerIntRounded(b, format, x, random, rounding);
  const code = and(asU32(convert("i32.fromF32", clamped)), u32(2 ** el.bits - 1));
  return b.let("code", select(isNan, u32(nanInputCode(format)), code));
}

/** f32 value of a u32 code: the (sign-extended) integer, at least minInt (see semantics decodeInt), less the zero point, times 2^−fractionBits. */
export function lowerIntDecode(b: Builder, format: ResolvedFormat, code: Expr): Expr {
  const el = format.element as ResolvedInt;
  const half = 2 ** (el.bits - 1);
  const extended = sub(convert("i32.fromU32", xor(code, u32(half))), i32(half));
  const clamped = !el.signed ? convert("i32.fromU32", code) : el.minInt > -half ? max(extended, i32(el.minInt)) : extended;
  const integer = el.zeroPoint === 0 ? clamped : sub(clamped, i32(el.zeroPoint));
  return b.let("decoded", mul(convert("f32.fromI32", integer), f32(2 ** -el.fractionBits)));
}
