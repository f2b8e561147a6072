/**
 * Hadamard rotations of GEMM operands along the reduction axis K (Transformer Engine's NVFP4
 * recipe rotates the weight-gradient GEMM's operands with a random Hadamard transform of size 16;
 * MXFP4 training recipes rotate before quantizing). Spreading an outlier over n elements lowers
 * each block's amax, so small values keep more bits.
 *
 * The transform of one block of n consecutive K elements (n = 16, 32, 64 or 128) is
 * Q = D·H/√n, with H the Sylvester Hadamard matrix (H[i][j] = (−1)^popcount(i & j), symmetric,
 * H·Hᵀ = n·I) and D an optional diagonal of ±1 signs drawn from a seed. Q is orthogonal, and a
 * trailing partial block is left as it is (the identity, also orthogonal), so rotating both
 * operands of C = A·B along K — each K-vector v becoming Qᵀ·v — leaves the exact product
 * unchanged: (A·Q)(Qᵀ·B) = A·B. Only the rounding of the rotated values and of their
 * quantization differ.
 */
import { counterRandom } from "../../dsl/semantics/random.ts";

/** The sizes a rotation may have (powers of two: the fast transform is log2(n) butterfly stages). */
export const HADAMARD_SIZES = [16, 32, 64, 128] as const;
export type HadamardSize = (typeof HADAMARD_SIZES)[number];

/** A rotation as a recipe declares it for one GEMM: both operands are rotated along that GEMM's K. */
export interface HadamardRotation {
  readonly kind: "hadamard";
  readonly size: HadamardSize;
  /** The ±1 sign vector's seed; absent: no signs (D = I). */
  readonly signSeed?: number;
}

/** H[i][j] of the Sylvester Hadamard matrix: +1 or −1. */
export function hadamardEntry(i: number, j: number): 1 | -1 {
  let v = i & j;
  let parity = 0;
  while (v !== 0) {
    parity ^= v & 1;
    v >>>= 1;
  }
  return parity === 0 ? 1 : -1;
}

/** The n×n Sylvester Hadamard matrix, row-major, as ±1 integers. */
export function hadamardMatrix(n: number): Int8Array {
  const h = new Int8Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = hadamardEntry(i, j);
  return h;
}

/** The diagonal D: sign j is the low bit of the j-th counter draw under `seed` (+1 for every j without a seed). */
export function rotationSigns(rotation: HadamardRotation): Float32Array {
  const signs = new Float32Array(rotation.size).fill(1);
  if (rotation.signSeed !== undefined) for (let j = 0; j < signs.length; j++) signs[j] = (counterRandom(rotation.signSeed, j) & 1) === 0 ? 1 : -1;
  return signs;
}

/** 1/√n rounded to float32 (exact for n = 16 and 64; for 32 and 128 the transform is orthogonal up to that rounding). */
export function rotationScale(n: number): number {
  return Math.fround(1 / Math.sqrt(n));
}
