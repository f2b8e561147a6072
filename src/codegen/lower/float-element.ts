/**
 * Float element encode/decode lowered to branch-free f32/u32 IR, bit-identical to
 * dsl/semantics/float.ts for float32 inputs. Encode finds the quantum exponent of |x|'s binade
 * from its bits, scales |x| to an integer-valued grid exactly, rounds, and assembles the code
 * as ((qe + m + bias − 1) << m) + n, which carries into the next binade by itself.
 */
import type { Overflow, ResolvedFloat, ResolvedFormat, Rounding } from "../../dsl/resolved.ts";
import { nanInputCode } from "../../dsl/semantics/nan-input.ts";
import {
  Builder, add, and, asI32, asU32, bool, convert, eq, f32, fromBits, ge, gt, i32, max, mul, ne, neg, not, or, select, shl, shr, sub, u32,
} from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import { floorLog2Bits, scaleByPow2, splitSign } from "./pow2.ts";
import { lowerRoundToInteger } from "./rounding.ts";
import { overflowsToInfinity } from "../../dsl/semantics/rounding.ts";

const QUIET_NAN = 0x7fc00000;

/** u32 code of the f32 `x`; `random` is the element's u32 draw (stochastic rounding only). */
export function lowerFloatEncode(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, rounding: Rounding = format.rounding, overflow: Overflow = format.overflow): Expr {
  const el = format.element as ResolvedFloat;
  const codes = format.codes;
  const m = el.mantissaBits;
  const { absBits, sign } = splitSign(b, x);
  const negative = b.let("negative", ne(sign, u32(0)));
  const signBits = el.signed ? b.let("sign_bits", shl(sign, u32(el.bits - 1))) : u32(0);
  const withSign = (magnitude: number) => or(u32(magnitude), signBits);
  const nanCode = select(negative, u32(codes.negativeNan ?? nanInputCode(format)), u32(codes.nan ?? nanInputCode(format)));
  // Without zero, ±0 take the smallest magnitude of their sign (see the semantics' zeroCode).
  const positiveZeroCode = codes.positiveZero ?? 0;
  const negativeZeroCode = codes.negativeZero ?? (codes.positiveZero === null && el.signed ? 2 ** (el.bits - 1) : positiveZeroCode);
  const zeroCode = negativeZeroCode === positiveZeroCode ? u32(positiveZeroCode) : select(negative, u32(negativeZeroCode), u32(positiveZeroCode));
  const infinityCode = codes.positiveInfinity === null ? nanCode : select(negative, u32(codes.negativeInfinity ?? codes.positiveInfinity), u32(codes.positiveInfinity));
  const maxCode = el.signed ? withSign(codes.maxFinite) : u32(codes.maxFinite);

  const isNan = gt(absBits, u32(0x7f800000));
  const isInfinite = eq(absBits, u32(0x7f800000));
  const isZero = eq(absBits, u32(0));
  const a = b.let("a", fromBits(absBits));
  const e = floorLog2Bits(b, absBits);
  const normal = b.let("normal", ge(e, i32(el.minNormalExponent)));
  const subnormalQuantum = el.subnormals ? el.minNormalExponent - m : el.minNormalExponent;
  const qe = b.let("qe", select(normal, sub(e, i32(m)), i32(subnormalQuantum)));
  const q = scaleByPow2(b, a, neg(qe));
  const parity = m === 0 ? select(normal, add(e, i32(el.bias - 1)), i32(0)) : i32(0);
  let n = lowerRoundToInteger(b, q, rounding, random, parity, negative);
  if (!el.zero) n = b.let("n_nonzero", max(n, f32(1)));
  const value = scaleByPow2(b, n, qe);
  const overflowed = gt(value, f32(format.maxFinite));
  // Without subnormals the grid below the normal range is {0, minNormal}: n ∈ {0, 1} at quantum
  // 2^emin, whose code is n·2^m at quantum 2^(emin − m) — the binade's code for mantissa field 0.
  const [codeQe, codeN] = el.subnormals || m === 0 ? [qe, n] : [select(normal, qe, i32(el.minNormalExponent - m)), select(normal, n, mul(n, f32(2 ** m)))];
  const magnitude = add(asU32(shl(add(codeQe, i32(m + el.bias - 1)), i32(m))), convert("u32.fromF32", codeN));
  // As the semantics: ±max unless overflow is "infinity" and the mode rounds this sign away from zero.
  const toInfinity = (neg: boolean) => overflow === "infinity" && overflowsToInfinity(rounding.mode, neg);
  const overflowCode =
    toInfinity(false) === toInfinity(true) ? (toInfinity(false) ? infinityCode : maxCode)
    : select(negative, toInfinity(true) ? infinityCode : maxCode, toInfinity(false) ? infinityCode : maxCode);
  const infiniteInputCode = overflow === "saturate" ? maxCode : infinityCode;

  let code = select(overflowed, overflowCode, or(magnitude, signBits));
  code = select(eq(n, f32(0)), zeroCode, code);
  code = select(isZero, zeroCode, code);
  code = select(isInfinite, infiniteInputCode, code);
  const invalid = el.signed ? isNan : or(isNan, and(negative, not(isZero)));
  return b.let("code", select(invalid, nanCode, code));
}

/** f32 value of a u32 code; NaN codes give the quiet NaN with the code's sign bit. */
export function lowerFloatDecode(b: Builder, format: ResolvedFormat, code: Expr): Expr {
  const el = format.element as ResolvedFloat;
  const m = el.mantissaBits;
  const signWeight = el.signed ? 2 ** (el.bits - 1) : 0;
  const sign = el.signed ? b.let("sign", and(shr(code, u32(el.bits - 1)), u32(1))) : u32(0);
  const magnitude = b.let("mag", el.signed ? and(code, u32(signWeight - 1)) : code);
  const field = b.let("field", asI32(shr(magnitude, u32(m))));
  const mantissa = b.let("mant", and(magnitude, u32(2 ** m - 1)));
  const exponentAllOnes = 2 ** el.exponentBits - 1;
  const isNan =
    el.nan === "ieee" ? and(eq(field, i32(exponentAllOnes)), ne(mantissa, u32(0)))
    : el.nan === "all-ones" ? eq(magnitude, u32(2 ** (el.exponentBits + m) - 1))
    : el.nan === "negative-zero" ? eq(code, u32(signWeight))
    : bool(false);
  const isInfinite = el.infinity ? and(eq(field, i32(exponentAllOnes)), eq(mantissa, u32(0))) : bool(false);
  const normalValue = scaleByPow2(b, convert("f32.fromU32", or(mantissa, u32(2 ** m))), sub(field, i32(el.bias + m)));
  let value = normalValue;
  if (el.zero) {
    // Only subnormal codes feed their mantissa in: other lanes multiply 0, so no float32
    // subnormal is computed needlessly (x86 takes a slow path for those).
    const subnormalMantissa = select(eq(field, i32(0)), mantissa, u32(0));
    const subnormal = el.subnormals ? scaleByPow2(b, convert("f32.fromU32", subnormalMantissa), i32(el.minNormalExponent - m)) : f32(0);
    value = b.let("value", select(eq(field, i32(0)), subnormal, normalValue));
  }
  value = select(isInfinite, f32(Number.POSITIVE_INFINITY), value);
  const signed = el.signed ? select(ne(sign, u32(0)), neg(value), value) : value;
  const nan = fromBits(or(u32(QUIET_NAN), shl(sign, u32(31))));
  return b.let("decoded", select(isNan, nan, signed));
}
