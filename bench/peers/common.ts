/**
 * Shared pieces of the peer benchmarks (tfjs-wasm, onnxruntime-web): the figure each function
 * returns, an async twin of measure() for APIs that only answer with a promise, and the naive
 * references the results are checked against.
 */
import { CLOCK, median, type Clock, type MeasureOptions } from "../measure.ts";

/** One measured figure of a peer, with how its result was checked. */
export interface PeerFigure {
  /** What ran, e.g. "onnxruntime-web MatMul f32 256×256×256". */
  readonly label: string;
  /** The figure, in `unit` (median run). */
  readonly value: number;
  readonly unit: "GFLOP/s" | "GOP/s" | "elements/s";
  /** Median seconds per run on the bench clock. */
  readonly seconds: number;
  /** The verification done once on the result (the function throws when it fails). */
  readonly check: string;
  /** Other variants measured in the same round-robin, same unit, by name. */
  readonly variants?: Readonly<Record<string, number>>;
  /** Caveats a table note should carry. */
  readonly notes?: readonly string[];
}

export interface AsyncVariant {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/** Seconds of `run` on the clock (CLOCK: CPU time of this process unless NUMFORGE_BENCH_CLOCK=wall). */
async function timedAsync(run: () => Promise<unknown>, clock: Clock): Promise<number> {
  if (clock === "wall") {
    const start = performance.now();
    await run();
    return (performance.now() - start) / 1000;
  }
  const start = process.cpuUsage();
  await run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/**
 * measure() for promise-returning runs, with the same protocol: each variant warmed up (at least
 * `warmupRuns` runs and `warmupMs` ms), then the variants run round-robin, median of ≥ 5.
 * The peers here run single-threaded and synchronously inside their promises (no worker, no
 * proxy), so CPU time of this process is the work done.
 */
export async function measureAsync(variants: readonly AsyncVariant[], options: MeasureOptions = {}): Promise<Map<string, number>> {
  const runs = Math.max(5, options.runs ?? 5);
  const warmupRuns = options.warmupRuns ?? 2;
  const warmupMs = options.warmupMs ?? 200;
  for (const v of variants) {
    const start = performance.now();
    for (let i = 0; i < warmupRuns || performance.now() - start < warmupMs; i++) await v.run();
  }
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < runs; r++) {
    for (const v of variants) times.get(v.name)?.push(await timedAsync(v.run, options.clock ?? CLOCK));
  }
  return new Map([...times].map(([name, t]) => [name, median(t)]));
}

/** C = A·B (row-major, A m×k, B k×n) with a float64 accumulator (rows i ≡ 0 mod rowStep only; the others stay 0). */
export function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, rowStep = 1): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i += rowStep) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j];
    }
  }
  return c;
}

/**
 * Throws unless the f32 product is within a tolerance of the float64 one: the worst error
 * relative to Σ|a||b| of the entry, which bounds f32 rounding error of any summation order by
 * about k·2⁻²⁴ (the tolerance allows k·2⁻²³).
 */
export function checkMatmulF32(label: string, got: ArrayLike<number>, a: Float32Array, b: Float32Array, m: number, n: number, k: number): string {
  // Large products check a sample of rows (every rowStep-th), keeping the check under ~2^26 multiply-adds.
  const rowStep = Math.max(1, Math.floor((m * n * k) / 2 ** 26));
  const exact = naiveMatmul(a, b, m, n, k, rowStep);
  const absA = a.map(Math.abs);
  const absB = b.map(Math.abs);
  const scale = naiveMatmul(absA, absB, m, n, k, rowStep);
  let worst = 0;
  for (let i = 0; i < m; i += rowStep) {
    for (let j = i * n; j < (i + 1) * n; j++) {
      const err = Math.abs(got[j] - exact[j]) / Math.max(scale[j], Number.MIN_VALUE);
      if (!(err <= worst)) worst = err; // NaN lands here and fails below
    }
  }
  const tolerance = k * 2 ** -23;
  const rows = rowStep === 1 ? "" : ` (every ${rowStep}th row)`;
  if (!(worst <= tolerance)) throw new Error(`${label}: result differs from the naive product${rows} (worst error ${worst.toExponential(2)} of Σ|a||b|, tolerance ${tolerance.toExponential(2)})`);
  return `max |err| / Σ|a·b| = ${worst.toExponential(2)} vs naive f64${rows} (tolerance k·2⁻²³ = ${tolerance.toExponential(2)})`;
}

/** Round half to even, as ONNX QuantizeLinear and IEEE conversions round. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : r;
}

/** f32 → IEEE binary16 bits, round to nearest even, overflow to ±inf, NaN → 0x7e00 (quiet). */
export function float16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const man = u & 0x7fffff;
  if (exp === 0xff) return sign | (man !== 0 ? 0x7e00 : 0x7c00);
  const abs = Math.abs(f[0]);
  if (abs >= 65520) return sign | 0x7c00; // rounds past 65504
  if (abs < 2 ** -14) return sign | roundHalfEven(abs / 2 ** -24); // subnormal (0x400 = smallest normal, fits)
  const e = Math.floor(Math.log2(abs));
  const eCorr = abs >= 2 ** (e + 1) ? e + 1 : abs < 2 ** e ? e - 1 : e; // guard log2 rounding
  const mant = roundHalfEven((abs / 2 ** eCorr - 1) * 1024); // may round up to 1024: carries into the exponent
  return sign | (((eCorr + 15) << 10) + mant);
}

/** The value of each FLOAT8E4M3FN code (OCP E4M3: bias 7, no infinities, S.1111.111 = NaN). */
export const E4M3FN_VALUES: Float64Array = (() => {
  const values = new Float64Array(256);
  for (let code = 0; code < 256; code++) {
    const sign = code & 0x80 ? -1 : 1;
    const exp = (code >> 3) & 0xf;
    const man = code & 7;
    values[code] = (code & 0x7f) === 0x7f ? Number.NaN : sign * (exp === 0 ? man * 2 ** -9 : (1 + man / 8) * 2 ** (exp - 7));
  }
  return values;
})();

/**
 * f32 → FLOAT8E4M3FN code as ONNX Cast with saturate=1 does it: round to nearest even,
 * |x| > 448 (±inf included) → ±448 (0x7e / 0xfe), NaN → 0x7f.
 */
export function e4m3fnCode(x: number): number {
  if (Number.isNaN(x)) return 0x7f;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const abs = Math.abs(x);
  if (abs >= 448) return sign | 0x7e;
  // Largest code whose value ≤ abs, then the nearer of it and the next (ties to the even code).
  let lo = 0;
  for (let step = 64; step >= 1; step >>= 1) if (lo + step <= 0x7e && E4M3FN_VALUES[lo + step] <= abs) lo += step;
  const hi = lo + 1;
  const dLo = abs - E4M3FN_VALUES[lo];
  const dHi = E4M3FN_VALUES[hi] - abs;
  return sign | (dLo < dHi || (dLo === dHi && (lo & 1) === 0) ? lo : hi);
}

export const hex = (code: number, digits = 2): string => `0x${code.toString(16).padStart(digits, "0")}`;
