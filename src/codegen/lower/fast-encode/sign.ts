/**
 * The sign part of a fast path's code (float.ts, pow2.ts, aligned.ts): a code is a magnitude with
 * the sign bit, of weight `signWeight` (0 for an unsigned format), or'ed in; a probed code pair
 * [positive, negative] becomes a constant, the sign bit or'ed into the positive code, or a select.
 */
import { Builder, asI32, i32, lt, or, select, shl, sub, u32 } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";

export interface SignedCodes {
  /** x's sign bit at the code's sign position, or null for an unsigned format. */
  readonly signBits: Expr | null;
  /** A magnitude with x's sign bit. */
  withSign(magnitude: Expr): Expr;
  /** The probed pair [positive, negative] as one expression. */
  bySign(pair: readonly [number, number]): Expr;
}

/** `signBit`: x's sign bit (0 or 1); `negative`: x's sign as a bool. */
export function signedCodes(b: Builder, signBit: Expr, negative: Expr, signWeight: number): SignedCodes {
  const signBits = signWeight === 0 ? null : b.let("sign_bits", shl(signBit, u32(Math.log2(signWeight))));
  return {
    signBits,
    withSign: (magnitude) => (signBits === null ? magnitude : or(magnitude, signBits)),
    bySign: ([p, n]) => (p === n ? u32(p) : signBits !== null && n === (p | signWeight) && p < signWeight ? or(u32(p), signBits) : select(negative, u32(n), u32(p))),
  };
}

/**
 * x < 0 with −0 excluded (an unsigned format's negative inputs), on x's bits: bits − 1 < −1 as
 * i32 (−0's bits less one are i32's largest, +0's are −1): one compare and one subtraction.
 */
export const negativeNonZero = (bits: Expr): Expr => lt(asI32(sub(bits, u32(1))), i32(-1));
