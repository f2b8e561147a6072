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
  /** Whether a probed pair is `magnitude` with x's sign bit, what withSign gives (unsigned: its positive code is). */
  isSigned(pair: readonly [number, number], magnitude: number): boolean;
  /** Whether two probed pairs agree for every sign the format has (unsigned: their positive codes). */
  sameAs(a: readonly [number, number], b: readonly [number, number]): boolean;
  /**
   * The code a minimum caps every magnitude at, or null: where beyond the largest magnitude the
   * semantics give it or the next code (an infinity right after it) with x's sign bit, every
   * magnitude computed beyond it is at least that, so the minimum gives it.
   */
  capOf(beyondMax: readonly [number, number], maxMagnitude: number): number | null;
}

/** `signBit`: x's sign bit (0 or 1); `negative`: x's sign as a bool. */
export function signedCodes(b: Builder, signBit: Expr, negative: Expr, signWeight: number): SignedCodes {
  const signBits = signWeight === 0 ? null : b.let("sign_bits", shl(signBit, u32(Math.log2(signWeight))));
  const isSigned = ([p, n]: readonly [number, number], magnitude: number) => p === magnitude && (signWeight === 0 || n === magnitude + signWeight);
  return {
    signBits,
    withSign: (magnitude) => (signBits === null ? magnitude : or(magnitude, signBits)),
    bySign: ([p, n]) => (p === n ? u32(p) : signBits !== null && n === (p | signWeight) && p < signWeight ? or(u32(p), signBits) : select(negative, u32(n), u32(p))),
    isSigned,
    sameAs: (a, b) => a[0] === b[0] && (signWeight === 0 || a[1] === b[1]),
    capOf: (beyondMax, maxMagnitude) => {
      const cap = beyondMax[0];
      return (cap === maxMagnitude || cap === maxMagnitude + 1) && isSigned(beyondMax, cap) ? cap : null;
    },
  };
}

/**
 * x < 0 with −0 excluded (an unsigned format's negative inputs), on x's bits: bits − 1 < −1 as
 * i32 (−0's bits less one are i32's largest, +0's are −1): one compare and one subtraction.
 */
export const negativeNonZero = (bits: Expr): Expr => lt(asI32(sub(bits, u32(1))), i32(-1));
