/**
 * Quire-exact dot products and GEMM of posits (Posit Standard 2022 §5.11, fused dot product):
 * every product a·b is exact and the quire, a fixed-point integer wide enough for any sum of
 * up to 2^31 − 1 products, holds their exact sum; the output is rounded once (posit-arith's
 * roundToPosit). NaR in any operand of an output's dot product makes that output NaR.
 *
 * Width: the standard fixes es = 2 and a 16n-bit quire — a sign bit, 31 carry-guard bits, and
 * 8n − 16 bits each above and below the binary point (minpos² … maxpos²). For any es the same
 * layout needs 4·maxScale + 32 bits, maxScale = (n−2)·2^es; quireBits gives that (16n at es = 2).
 * Kernels may use a wider integer (extra zero bits at the bottom) — the sum is the same exact
 * value, so the rounded result is too.
 */
import { addExact, checkShape, maxScaleOf, mulExact, NAR, positToExact, roundToPosit, ZERO, type ExactValue, type PositShape } from "./posit-arith.ts";

/** Bits of the standard's quire for this format: 4·maxScale + 32 (16n for es = 2). */
export function quireBits(shape: PositShape): number {
  checkShape(shape);
  return 4 * maxScaleOf(shape) + 32;
}

/** Invariant: the exact Σ a[p]·b[p] of two equally long code vectors (NaR if any operand is NaR). */
export function exactDot(shape: PositShape, a: ArrayLike<number>, b: ArrayLike<number>): ExactValue {
  if (a.length !== b.length) throw new RangeError(`quire dot: operands have ${a.length} and ${b.length} elements`);
  let sum: ExactValue = ZERO;
  for (let p = 0; p < a.length; p++) {
    const product = mulExact(positToExact(shape, a[p]), positToExact(shape, b[p]));
    if (product.kind === "nar") return NAR;
    sum = addExact(sum, product);
  }
  return sum;
}

/** Invariant: the code of Σ a[p]·b[p], summed exactly (the quire) and rounded once. */
export function quireDot(shape: PositShape, a: ArrayLike<number>, b: ArrayLike<number>): number {
  return roundToPosit(shape, exactDot(shape, a, b));
}

/** A quire GEMM's shape: C (m×n) = A (m×k) · B (k×n), all row-major code arrays. */
export interface QuireGemmShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

/**
 * Invariant: C[i·n + j] = round(Σ_p A[i·k + p]·B[p·n + j]), each output summed exactly in a quire
 * and rounded once; returns the m·n codes.
 */
export function quireGemm(shape: PositShape, dims: QuireGemmShape, a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const { m, n, k } = dims;
  if (a.length < m * k || b.length < k * n) throw new RangeError(`quire gemm: A needs ${m * k} codes (has ${a.length}), B needs ${k * n} (has ${b.length})`);
  const out: number[] = [];
  const row = new Array<number>(k);
  const column = new Array<number>(k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) row[p] = a[i * k + p];
    for (let j = 0; j < n; j++) {
      for (let p = 0; p < k; p++) column[p] = b[p * n + j];
      out.push(quireDot(shape, row, column));
    }
  }
  return out;
}
