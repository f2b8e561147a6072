/**
 * The exact semantics of a Hadamard rotation on float32 values, which every target's kernel
 * reproduces bit for bit. The tensor is `lanes` rows of `k` contiguous values (a GEMM operand
 * viewed lanes × K, channel-major). In each lane, every full block of n values v is rotated as
 *
 *   1. v[j] ← v[j] · D[j]                       (exact: D[j] = ±1)
 *   2. for h = 1, 2, 4, …, n/2 (log2 n stages), for each pair (j, j + h) with j & h = 0, in any
 *      order (the pairs of a stage are disjoint): a = v[j], b = v[j + h];
 *      v[j] ← fl(a + b), v[j + h] ← fl(a − b)   (the fast Walsh–Hadamard transform: v ← H·v)
 *   3. v[j] ← fl(v[j] · fl(1/√n))
 *
 * where fl rounds to float32, nearest even. The last k mod n values of a lane are copied as they
 * are. NaN and ±Inf propagate through the sums (a block holding one becomes NaN or ±Inf).
 */
import { rotationScale, rotationSigns, type HadamardRotation } from "./hadamard.ts";

/** The rotated copy of `x` (lanes × k, row-major). */
export function rotate(x: Float32Array, lanes: number, k: number, rotation: HadamardRotation): Float32Array {
  if (x.length !== lanes * k) throw new RangeError(`rotate: ${x.length} values are not ${lanes} lanes × ${k}`);
  const n = rotation.size;
  const signs = rotationSigns(rotation);
  const scale = rotationScale(n);
  const y = Float32Array.from(x);
  const v = new Float32Array(n);
  for (let lane = 0; lane < lanes; lane++) {
    for (let start = lane * k, end = start + k - n; start <= end; start += n) {
      for (let j = 0; j < n; j++) v[j] = y[start + j] * signs[j];
      for (let h = 1; h < n; h <<= 1) {
        for (let j = 0; j < n; j++) {
          if ((j & h) !== 0) continue;
          const a = v[j];
          const b = v[j + h];
          v[j] = a + b; // the Float32Array store rounds to float32
          v[j + h] = a - b;
        }
      }
      for (let j = 0; j < n; j++) y[start + j] = v[j] * scale;
    }
  }
  return y;
}
