/**
 * Codebook (`table`) element encode lowered to IR, bit-identical to dsl/semantics/table.ts for
 * float32 inputs by construction: the semantics' encode is monotone in x ordered as float32 bit
 * patterns (−0 just below +0), so code(x) = #{c ≥ 1 : key(x) ≥ T_c}, where T_c is the smallest key
 * whose value encodes to c or above, found here by bisecting the semantics' encode. The kernel
 * compares integer keys (no float arithmetic: no NaN or subnormal flushing can interfere):
 * codebooks of ≤ 16 codes count the thresholds below the key with compares, larger ones run a
 * branch-free binary search over a table of them. Codebooks of ≤ 16 codes whose thresholds are all
 * normal floats count them on x itself instead (lowerFloatChainEncode: no key, NaN counted by
 * the compares). Decode goes through the shared ≤ 8-bit table.
 */
import type { ResolvedFormat, ResolvedTable, Rounding } from "../../dsl/resolved.ts";
import { f32Bits, fromF32Bits } from "../../dsl/semantics/bits.ts";
import { nanInputCode } from "../../dsl/semantics/nan-input.ts";
import { encodeTable } from "../../dsl/semantics/table.ts";
import { Builder, add, and, asI32, asU32, bitsOf, f32, ge, gt, i32, lt, ne, or, select, shr, sub, u32, xor } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";

/** The order-preserving u32 key of float32 bits: negative patterns reversed below the positive ones. */
export function orderedKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

function fromKey(key: number): number {
  return fromF32Bits(key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0);
}

/**
 * T_c for c = 1 … 2^bits − 1 (entry c − 1): the smallest key with encode ≥ c; codes past the
 * last value get 0xffffffff, which no non-NaN key reaches (+Inf's key is 0xff800000).
 */
export function tableThresholds(format: ResolvedFormat, rounding: Rounding): number[] {
  const el = format.element as ResolvedTable;
  const values = el.values;
  const thresholds: number[] = [];
  for (let c = 1; c < 2 ** el.bits; c++) {
    if (c >= values.length) {
      thresholds.push(0xffffffff);
      continue;
    }
    // encode(values[c − 1]) = c − 1 < c ≤ encode(values[c]) = c: bisect the keys between.
    let lo = orderedKey(f32Bits(values[c - 1]));
    let hi = orderedKey(f32Bits(values[c]));
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (encodeTable(format, fromKey(mid), rounding) >= c) hi = mid;
      else lo = mid;
    }
    thresholds.push(hi);
  }
  return thresholds;
}

/** Codebooks of at most this many codes compare against every threshold (no lookups); larger ones bisect a table. */
const MAX_CHAIN_CODES = 16;

/** u32 code of the f32 `x`. */
export function lowerTableEncode(b: Builder, format: ResolvedFormat, x: Expr, rounding: Rounding = format.rounding): Expr {
  const el = format.element as ResolvedTable;
  const thresholds = tableThresholds(format, rounding);
  if (2 ** el.bits <= MAX_CHAIN_CODES) {
    const reached = thresholds.slice(0, el.values.length - 1);
    return allNormal(reached) ? lowerFloatChainEncode(b, format, reached, x) : lowerChainEncode(b, format, reached, x);
  }
  const name = `table_thresholds_${el.bits}_${hashWords(thresholds)}`;
  const bits = b.let("x_bits", bitsOf(x));
  const negative = ne(shr(bits, u32(31)), u32(0));
  const key = b.let("key", select(negative, xor(bits, u32(0xffffffff)), or(bits, u32(0x80000000))));
  let code: Expr = u32(0);
  for (let step = 2 ** (el.bits - 1); step >= 1; step /= 2) {
    const threshold = b.names.table(name, "u32", () => thresholds, add(code, u32(step - 1)));
    code = b.let("table_code", select(ge(key, threshold), add(code, u32(step)), code));
  }
  const isNan = gt(and(bits, u32(0x7fffffff)), u32(0x7f800000));
  return b.let("code", select(isNan, u32(nanInputCode(format)), code));
}

/**
 * The code as the number of thresholds at or below the key (code(x) = #{c : key(x) ≥ T_c} over
 * the thresholds below the last value), with no lookups, so the vectorizer keeps it 4 lanes wide.
 * Keys are compared as i32 (the u32 key with its top bit flipped: x's bits for x ≥ +0, −1 − |x|'s
 * bits below), whose SIMD compares are native where unsigned ones are not.
 */
function lowerChainEncode(b: Builder, format: ResolvedFormat, thresholds: readonly number[], x: Expr): Expr {
  const bits = b.let("x_bits", bitsOf(x));
  const signMask = asI32(shr(asI32(bits), i32(31)));
  const signedKey = asI32(xor(bits, shr(asU32(signMask), u32(1))));
  const isNan = gt(asI32(and(bits, u32(0x7fffffff))), i32(0x7f800000));
  // Where NaN's code is +0's (nf4: 0.0 is a value), NaN lanes count as +0, whose key is 0: one
  // mask on the key instead of a select of the code.
  const signedThresholds = thresholds.map((threshold) => ((threshold ^ 0x80000000) | 0) - 1);
  const nanAsZero = signedThresholds.filter((t) => 0 > t).length === nanInputCode(format);
  const key = b.let("key", nanAsZero ? select(isNan, i32(0), signedKey) : signedKey);
  // Keys are counted as key > T − 1 (T is above the smallest key): SIMD has a signed greater-than
  // and emulates ge. One running sum, so each term is a compare and an add.
  const code = signedThresholds.reduce<Expr>((sum, t) => add(sum, asU32(gt(key, i32(t)))), u32(0));
  return b.let("code", nanAsZero ? code : select(isNan, u32(nanInputCode(format)), b.let("table_code", code)));
}

/**
 * Whether every threshold is a normal float (|T| ≥ 2^−126, or infinite). Then for every x that
 * is not NaN, key(x) ≥ T ⟺ x ≥ the float of T: the keys order floats as < does apart from
 * −0 < +0, and no threshold is ±0; and a target that flushes subnormal compare operands to ±0 (a
 * GPU may) gets the same answer, since no threshold lies between a subnormal and 0.
 */
function allNormal(thresholds: readonly number[]): boolean {
  return thresholds.every((t) => Math.abs(fromKey(t)) >= 2 ** -126);
}

/** Whether the format's encode under `rounding` counts its thresholds on x itself (lowerFloatChainEncode). */
export function countsOnFloats(format: ResolvedFormat, rounding: Rounding = format.rounding): boolean {
  const el = format.element as ResolvedTable;
  return el.kind === "table" && 2 ** el.bits <= MAX_CHAIN_CODES && allNormal(tableThresholds(format, rounding).slice(0, el.values.length - 1));
}

/**
 * The chain's count on x itself, for thresholds that are all normal floats (allNormal): no key
 * (three instructions on SIMD) and no NaN test (three more). A float compare is false for NaN,
 * so a term [x ≥ T] counts 0 for NaN and the same term written 1 − [x < T] counts 1 (equal for
 * every other x); the first `NaN input code` terms are written that way, so NaN lanes count
 * exactly the NaN input code (≤ the number of thresholds: it is a code of a value). On wasm each
 * term is one compare and one add or subtract of its mask.
 */
function lowerFloatChainEncode(b: Builder, format: ResolvedFormat, thresholds: readonly number[], x: Expr): Expr {
  const value = b.let("x", x);
  const nanCode = nanInputCode(format);
  const code = thresholds.map(fromKey).reduce<Expr>((sum, t, k) => (k < nanCode ? sub(sum, asU32(lt(value, f32(t)))) : add(sum, asU32(ge(value, f32(t))))), u32(nanCode));
  return b.let("code", code);
}

/** FNV-1a over 32-bit words, as 8 hex digits: a stable name for a constant table. */
function hashWords(words: readonly number[]): string {
  let h = 0x811c9dc5;
  for (const w of words) {
    h = Math.imul(h ^ (w & 0xffff), 0x01000193);
    h = Math.imul(h ^ (w >>> 16), 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
