/**
 * What the explorer page plots, computed from a resolved format with the exact semantics (the
 * same functions `numforge encode` and every kernel test use): the representable positive values
 * and their spacing, the rounding error over the range, and a distribution quantized with its SQNR.
 * Plain functions of numbers, so they run in the page and in Node tests alike.
 */
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { counterRandom } from "../dsl/semantics/random.ts";
import { decode, encode } from "../dsl/semantics/scalar.ts";
import { fakeQuantize } from "../dsl/semantics/tensor.ts";

/** Codes looked at when listing a format's values: every code up to 16 bits, an even sample of wider ones. */
export const MAX_CODES_LISTED = 1 << 16;

/** A positive finite value of the format and the next larger one (null at the top). */
export interface ValueStep {
  readonly value: number;
  readonly next: number | null;
}

/**
 * The positive finite values of the element (scaling aside), ascending, each with its successor.
 * Up to 16 bits every code is decoded and the successor is the next value listed. Wider formats
 * list an evenly strided sample of their codes; their kinds (floats, posits, ints) order positive
 * codes like their values, so there the successor of code c is decode(c + 1).
 */
export function positiveValues(format: ResolvedFormat): ValueStep[] {
  const codeCount = 2 ** format.bits;
  const stride = Math.max(1, Math.ceil(codeCount / MAX_CODES_LISTED));
  const found = new Map<number, number | null>();
  for (let code = 0; code < codeCount; code += stride) {
    const value = decode(format, code);
    if (!(value > 0) || !Number.isFinite(value)) continue;
    const after = stride > 1 && code + 1 < codeCount ? decode(format, code + 1) : Number.NaN;
    found.set(value, Number.isFinite(after) && after > value ? after : null);
  }
  const values = [...found.keys()].sort((a, b) => a - b);
  return values.map((value, i) => ({ value, next: stride > 1 ? (found.get(value) ?? null) : i + 1 < values.length ? values[i + 1] : null }));
}

/** The binades a format spans and how finely each is divided. */
export interface BinadeSpacing {
  /** The binade [2^exponent, 2^(exponent+1)). */
  readonly exponent: number;
  /** Values of the format in it (of those listed, see positiveValues). */
  readonly count: number;
  /** Smallest and largest relative gap (next − v)/v of its values. */
  readonly minRelative: number;
  readonly maxRelative: number;
}

/** Relative spacing per binade, lowest binade first. */
export function spacingPerBinade(steps: readonly ValueStep[]): BinadeSpacing[] {
  const byExponent = new Map<number, { count: number; min: number; max: number }>();
  for (const { value, next } of steps) {
    const exponent = Math.floor(Math.log2(value));
    const entry = byExponent.get(exponent) ?? { count: 0, min: Number.POSITIVE_INFINITY, max: 0 };
    entry.count++;
    if (next !== null) {
      const relative = (next - value) / value;
      entry.min = Math.min(entry.min, relative);
      entry.max = Math.max(entry.max, relative);
    }
    byExponent.set(exponent, entry);
  }
  return [...byExponent.entries()]
    .sort(([a], [b]) => a - b)
    .map(([exponent, e]) => ({ exponent, count: e.count, minRelative: Number.isFinite(e.min) ? e.min : Number.NaN, maxRelative: e.max || Number.NaN }));
}

/** Rounding error at one input: x, the value it is stored as, and |q − x| / |x|. */
export interface ErrorPoint {
  readonly x: number;
  readonly stored: number;
  readonly relative: number;
}

/**
 * The element's worst rounding error across its range: the log2 axis from a quarter of the
 * smallest positive value to twice the largest finite one (underflow and saturation included) is
 * cut into `bins` slices, `perBin` inputs spaced evenly in each, and each slice keeps its worst
 * input, so the curve is the error's envelope rather than where samples happen to fall.
 * Stochastic formats are drawn at nearest-even, the rounding their expected value centres on.
 */
export function errorCurve(format: ResolvedFormat, bins = 480, perBin = 8): ErrorPoint[] {
  const lo = Math.log2(format.minSubnormal) - 2;
  const hi = Math.log2(format.maxFinite) + 1;
  const rounding = format.rounding.mode === "stochastic" ? { mode: "nearest-even" as const, bits: 0 } : format.rounding;
  const curve: ErrorPoint[] = [];
  const points = bins * perBin;
  for (let bin = 0; bin < bins; bin++) {
    let worst: ErrorPoint | undefined;
    for (let j = 0; j < perBin; j++) {
      const x = Math.fround(2 ** (lo + ((hi - lo) * (bin * perBin + j)) / (points - 1)));
      if (!(x > 0) || !Number.isFinite(x)) continue;
      const stored = decode(format, encode(format, x, { rounding }));
      const relative = Math.abs(stored - x) / x;
      if (worst === undefined || !(relative <= worst.relative)) worst = { x, stored, relative };
    }
    if (worst !== undefined) curve.push(worst);
  }
  return curve;
}

export const DISTRIBUTIONS = ["normal", "uniform", "laplace"] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/**
 * n float32 samples of a zero-mean distribution with the given scale (normal: σ; uniform: half
 * width; laplace: b), drawn from the semantics' counter-based generator so a seed gives the same
 * tensor in every browser and in Node.
 */
export function samples(distribution: Distribution, scale: number, n: number, seed = 1): Float32Array {
  const uniform01 = (i: number) => (counterRandom(seed, i) + 0.5) / 2 ** 32; // in (0, 1)
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = uniform01(2 * i);
    const value =
      distribution === "uniform"
        ? (2 * u - 1) * scale
        : distribution === "laplace"
          ? -scale * Math.sign(u - 0.5) * Math.log(1 - 2 * Math.abs(u - 0.5))
          : scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform01(2 * i + 1));
    out[i] = value;
  }
  return out;
}

/** A tensor stored in a format: the stored values and how much of the signal survived. */
export interface QuantizedSamples {
  readonly values: Float32Array;
  /** 10·log10(Σx² / Σ(x − q)²) in dB: +Infinity when every value is exact, −Infinity when a value became ±Inf or NaN. */
  readonly sqnrDb: number;
  /** Fraction of the nonzero inputs stored as 0. */
  readonly flushedToZero: number;
  /** Fraction of the nonzero inputs stored as ±Inf or NaN, or (unscaled formats) beyond ±max finite, so clipped. */
  readonly saturated: number;
}

/** Quantizes `x` with the format, scaling included (one channel), and measures the damage. */
export function quantizeSamples(format: ResolvedFormat, x: Float32Array): QuantizedSamples {
  const { values } = fakeQuantize(format, x);
  let signal = 0;
  let noise = 0;
  let nonzero = 0;
  let flushed = 0;
  let saturated = 0;
  for (let i = 0; i < x.length; i++) {
    signal += x[i] * x[i];
    noise += (x[i] - values[i]) ** 2;
    if (x[i] === 0) continue;
    nonzero++;
    if (values[i] === 0) flushed++;
    else if (!Number.isFinite(values[i]) || (format.scaling.kind === "none" && Math.abs(x[i]) > format.maxFinite)) saturated++;
  }
  const sqnrDb = !(noise < Number.POSITIVE_INFINITY) ? Number.NEGATIVE_INFINITY : noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
  return { values, sqnrDb, flushedToZero: nonzero === 0 ? 0 : flushed / nonzero, saturated: nonzero === 0 ? 0 : saturated / nonzero };
}

/** Counts of log2|x| per whole binade for the nonzero finite values, lowest binade first. */
export function log2Histogram(x: ArrayLike<number>): { exponent: number; count: number }[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]);
    if (!(v > 0) || !Number.isFinite(v)) continue;
    const e = Math.floor(Math.log2(v));
    counts.set(e, (counts.get(e) ?? 0) + 1);
  }
  return [...counts.entries()].sort(([a], [b]) => a - b).map(([exponent, count]) => ({ exponent, count }));
}

/** Inputs the kernels panel runs through the format's kernels: ordinary values, the range's edges, ties and specials. */
export function kernelSampleValues(format: ResolvedFormat): Float32Array {
  const { maxFinite, minNormal, minSubnormal } = format;
  const candidates = [
    0, -0, 1, -1, 0.1, -0.3, 1.5, Math.PI, -Math.E, 10, 100,
    minSubnormal, minSubnormal / 2, minSubnormal * 0.75, minNormal, -minNormal,
    maxFinite, -maxFinite, maxFinite * 1.0625, maxFinite * 4, 1e30,
    Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN,
  ];
  return Float32Array.from(candidates);
}
