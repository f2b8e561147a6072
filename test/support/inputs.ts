/** Float32 inputs that exercise encoders: random bit patterns plus the format's ties and bands. */
import { decode } from "../../src/dsl/semantics/scalar.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";

/** `count` float32s from uniformly random bit patterns (NaNs, infinities, subnormals included). */
export function randomBitPatterns(count: number, seed: number): Float32Array {
  const bits = Uint32Array.from({ length: count }, (_, i) => counterRandom(seed, i));
  return new Float32Array(bits.buffer);
}

/**
 * A plan test's tensor: mostly log-uniform magnitudes of either sign over about 40 binades
 * (shifted by the seed), some random bit patterns, and a `specials` share of ±0, NaN and ±∞.
 */
export function planTensor(n: number, seed: number, specials = 0.02): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const u = counterRandom(seed, i) / 2 ** 32;
    if (u < specials) return [0, -0, Number.NaN, Infinity, -Infinity][i % 5];
    if (u < specials + 0.08) return new Float32Array(Uint32Array.of(counterRandom(seed + 1, i)).buffer)[0];
    return (counterRandom(seed + 2, i) & 1 ? -1 : 1) * 2 ** ((counterRandom(seed + 3, i) / 2 ** 32 - 0.5) * 40 + (seed % 7));
  });
}

/**
 * For a format of ≤ 16 bits: every finite value, the exact midpoints between neighbours that are
 * float32s (ties), one float32 ulp either side of each, values around ±max (overflow band) and
 * below the smallest subnormal (underflow band).
 */
export function edgeInputs(format: ResolvedFormat): Float32Array {
  const values = new Set<number>();
  for (let code = 0; code < 2 ** Math.min(format.bits, 16); code++) {
    const v = decode(format, code);
    if (Number.isFinite(v)) values.add(v);
  }
  const sorted = [...values].sort((a, b) => a - b);
  const out: number[] = [];
  const around = (x: number) => {
    const f = Math.fround(x);
    out.push(f, nextUp(f), nextDown(f));
  };
  for (let i = 0; i < sorted.length; i++) {
    around(sorted[i]);
    if (i + 1 < sorted.length) around((sorted[i] + sorted[i + 1]) / 2);
  }
  for (const s of [1, -1]) {
    for (const k of [1, 1.0625, 1.125, 1.5, 2, 4, 1e3]) around(s * format.maxFinite * k);
    for (const k of [0.25, 0.5, 0.75, 1]) around(s * format.minSubnormal * k);
  }
  out.push(0, -0, Infinity, -Infinity, Number.NaN, 3.4028234663852886e38, 1e-45, -1e-45);
  return Float32Array.from(out);
}

const view = new DataView(new ArrayBuffer(4));
function nextUp(f: number): number {
  if (!Number.isFinite(f)) return f;
  view.setFloat32(0, f);
  const b = view.getUint32(0);
  view.setUint32(0, f === 0 ? 1 : f > 0 ? b + 1 : b - 1);
  return view.getFloat32(0);
}
function nextDown(f: number): number {
  return -nextUp(-f);
}
