/**
 * log2f / exp2f of dsl/semantics/elementary.ts in f32 IR, bit for bit: the same 32-entry tables
 * (declared through KernelContext.table from ELEMENTARY_TABLES), the same Horner order, float32
 * multiply and add only — no fma, no division — so every target computes the same bits.
 * The *Positive / *InRange forms skip the special-case selects for callers that already guard.
 */
import { f32Bits } from "../../dsl/semantics/bits.ts";
import { ELEMENTARY_TABLES, EXP2_COEFFICIENTS, LOG2_COEFFICIENTS } from "../../dsl/semantics/elementary.ts";
import {
  Builder, add, and, asI32, asU32, bitsOf, convert, eq, f32, floor, fromBits, ge, i32, lt, max, mul, ne, or, select, shr, sub, u32,
} from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import { pow2Normal } from "./pow2.ts";

const TABLE_BITS = 5;
const TABLE_SIZE = 1 << TABLE_BITS;

function entry(b: Builder, table: keyof typeof ELEMENTARY_TABLES, index: Expr): Expr {
  return b.let(`${table}_entry`, b.names.table(`elementary_${table}`, "f32", () => Array.from(ELEMENTARY_TABLES[table]), index));
}

/** log2 x for a positive finite f32 x (subnormals included); any other x gives harmless garbage. */
export function lowerLog2Positive(b: Builder, x: Expr): Expr {
  const direct = b.let("log_bits", bitsOf(x));
  const subnormal = b.let("log_subnormal", eq(shr(direct, u32(23)), u32(0)));
  // Subnormal: normalize by 2^23 (exact) and compensate in the exponent.
  const normalized = b.let("log_normalized", bitsOf(mul(x, f32(2 ** 23))));
  const bits = b.let("log_bits_n", select(subnormal, normalized, direct));
  const exponent = select(subnormal, sub(asI32(shr(normalized, u32(23))), i32(127 + 23)), sub(asI32(shr(direct, u32(23))), i32(127)));
  const j = b.let("log_j", and(shr(bits, u32(23 - TABLE_BITS)), u32(TABLE_SIZE - 1)));
  const mantissa = fromBits(or(and(bits, u32(0x7fffff)), u32(0x3f800000)));
  const r = b.let("log_r", sub(mul(mantissa, entry(b, "reciprocal", j)), f32(1)));
  const k = LOG2_COEFFICIENTS;
  const p = b.let("log_p", mul(r, add(f32(k[0]), mul(r, add(f32(k[1]), mul(r, add(f32(k[2]), mul(r, f32(k[3])))))))));
  return b.let("log2", add(add(convert("f32.fromI32", exponent), entry(b, "log2", j)), p));
}

/** log2f: −∞ for ±0, +∞ for +∞, NaN for negatives and NaN, as the semantics. */
export function lowerLog2f(b: Builder, x: Expr): Expr {
  const value = lowerLog2Positive(b, x);
  const special = select(eq(x, f32(0)), f32(Number.NEGATIVE_INFINITY), select(eq(x, f32(Number.POSITIVE_INFINITY)), x, value));
  return b.let("log2f", select(ge(x, f32(0)), special, f32(Number.NaN)));
}

/**
 * The i32 value of an integer-valued f32 x with |x| < 2^22: x + 1.5·2^23 is exact (its ulp is 1)
 * and its low mantissa bits hold x. Equal to i32.fromF32 there, and cheaper on SIMD targets, where
 * the saturating float-to-int conversion takes several instructions.
 */
function smallInteger(x: Expr): Expr {
  const magic = 1.5 * 2 ** 23;
  return sub(asI32(bitsOf(add(x, f32(magic)))), i32(f32Bits(magic)));
}

/**
 * exp2fSplit of the semantics: n (i32) and frac (f32) with 2^y = 2^n·2^frac as exp2f computes it,
 * for an f32 y with |y| < 2^22.
 */
export function lowerExp2Split(b: Builder, y: Expr): { readonly n: Expr; readonly frac: Expr } {
  const fl = b.let("exp_floor", floor(y));
  const rawFrac = b.let("exp_frac_raw", sub(y, fl));
  // For −2^−25 ≤ y < 0, y − ⌊y⌋ rounds up to 1 (past the table): carry it into n, as the semantics.
  const carry = b.let("exp_carry", eq(rawFrac, f32(1)));
  // The carry as a bool's 0 / 1 (one subtraction of its mask on SIMD, where a select of 1 or 0 is an and).
  const n = b.let("exp_n", add(smallInteger(fl), asI32(asU32(carry))));
  return { n, frac: b.let("exp_frac", select(carry, f32(0), rawFrac)) };
}

/** 2^y for an f32 y in [−151, 128); outside that range it computes 2^0 (callers select). */
export function lowerExp2InRange(b: Builder, y: Expr): Expr {
  const safe = b.let("exp_y", select(and(ge(y, f32(-151)), lt(y, f32(128))), y, f32(0)));
  const { n, frac } = lowerExp2Split(b, safe);
  const jf = b.let("exp_jf", floor(mul(frac, f32(TABLE_SIZE))));
  const j = asU32(smallInteger(jf));
  const r = b.let("exp_r", sub(frac, mul(jf, f32(1 / TABLE_SIZE))));
  const q = EXP2_COEFFICIENTS;
  const p = add(f32(1), mul(r, add(f32(q[0]), mul(r, add(f32(q[1]), mul(r, add(f32(q[2]), mul(r, f32(q[3])))))))));
  const v = b.let("exp_v", mul(entry(b, "exp2", j), p));
  // v·2^n in two steps, each by a normal power of two (n ≥ −151): v ≥ 1, so v·2^max(n, −126) is
  // exact, and the second factor, 1 from n = −126 up, rounds the product once where it is
  // subnormal — the one correctly rounded v·2^n the semantics computes in double and rounds.
  const head = b.let("exp_head", max(n, i32(-126)));
  return b.let("exp2", mul(mul(v, pow2Normal(head)), pow2Normal(sub(n, head))));
}

/** exp2f: NaN passes through, +∞ from 128 up, 0 below −151, as the semantics. */
export function lowerExp2f(b: Builder, y: Expr): Expr {
  const value = lowerExp2InRange(b, y);
  const ranged = select(ge(y, f32(128)), f32(Number.POSITIVE_INFINITY), select(lt(y, f32(-151)), f32(0), value));
  return b.let("exp2f", select(ne(y, y), y, ranged));
}
