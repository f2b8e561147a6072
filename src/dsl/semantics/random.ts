/**
 * The counter-based generator behind stochastic rounding: a pure function of (seed, element
 * index) built from 32-bit multiply, xor and shift only, so JS, WebAssembly and WGSL draw the
 * same bits. The mixer is Chris Wellons' "lowbias32" (bias 0.17, a well-tested integer hash).
 */

/** One round of lowbias32 on a u32. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The u32 random draw for element `index` under `seed`. */
export function counterRandom(seed: number, index: number): number {
  const key = mix32((seed ^ 0x9e3779b9) >>> 0);
  return mix32((mix32((index ^ key) >>> 0) + key) >>> 0);
}
