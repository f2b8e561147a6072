/**
 * Seeded counter-based randomness: value i of stream s under seed k is a pure hash of
 * (k, s, i), so any draw can be reproduced without replaying the ones before it.
 * Nothing in the runtime uses Math.random.
 */

/** A 32-bit avalanche mix (Wellons' lowbias32). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The 32-bit word at `counter` of `stream` under `seed`. */
export function hash32(seed: number, stream: number, counter: number): number {
  const key = mix32((seed >>> 0) ^ mix32((stream >>> 0) + 0x9e3779b9));
  return mix32(key ^ mix32((counter >>> 0) + Math.imul(key | 1, 0x632be5ab)));
}

/**
 * A stream of draws over hash32; the counter is this instance's own state, so separate
 * instances never interfere.
 */
export class Rng {
  private counter = 0;

  constructor(readonly seed: number, readonly stream = 0) {}

  /** An independent generator for a named sub-purpose (e.g. a layer's init). */
  fork(label: string): Rng {
    let h = this.stream ^ 0x85ebca6b;
    for (let i = 0; i < label.length; i++) h = mix32(h ^ label.charCodeAt(i));
    return new Rng(this.seed, h);
  }

  nextU32(): number {
    return hash32(this.seed, this.stream, this.counter++);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box–Muller; the first argument is kept away from 0). */
  normal(): number {
    const u1 = (this.nextU32() + 0.5) / 4294967296;
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [0, n), n ≤ 2^32 (multiply-shift; bias below 2^-32·n is irrelevant here). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates over `rng`). */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
