/**
 * What quantizing a tensor did to it, from the values before (x) and after (q): one pass over both,
 * no allocation beyond the histogram. Pure: nothing here touches the tensors it reads.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { jsonNumber } from "../compare/results.ts";
import type { FloatArray } from "../tensor.ts";
import type { BinadeHistogram, FormatRange, SiteSample, ValueHistogram } from "./types.ts";

const word = new Float64Array(1);
const words = new Uint32Array(word.buffer);

/** floor(log2|v|) of a finite non-zero v, exactly (from the float64 exponent bits; subnormals too). */
export function binadeOf(v: number): number {
  word[0] = v;
  const biased = (words[1] >>> 20) & 0x7ff;
  if (biased !== 0) return biased - 1023;
  // A float64 subnormal (no float32 is one): count the leading zeros of its 52-bit fraction.
  const high = words[1] & 0xfffff;
  return high !== 0 ? -1023 - (Math.clz32(high) - 12) : -1023 - 20 - Math.clz32(words[0]);
}

/** Counts per binade, growing the window as values arrive. */
export class BinadeCounter {
  private lo = 0;
  private counts: number[] = [];

  add(binade: number, by = 1): void {
    if (this.counts.length === 0) {
      this.lo = binade;
      this.counts = [by];
      return;
    }
    if (binade < this.lo) {
      this.counts = [...new Array<number>(this.lo - binade).fill(0), ...this.counts];
      this.lo = binade;
    }
    const i = binade - this.lo;
    while (this.counts.length <= i) this.counts.push(0);
    this.counts[i] += by;
  }

  histogram(): BinadeHistogram {
    return { binade: this.counts.length === 0 ? 0 : this.lo, counts: [...this.counts] };
  }
}

/** The element's range in log2 (before any tensor scaling). */
export function formatRange(format: ResolvedFormat): FormatRange {
  return { minLog2: Math.log2(format.minSubnormal), minNormalLog2: Math.log2(format.minNormal), maxLog2: Math.log2(format.maxFinite) };
}

/**
 * How many bits of relative precision the element has at the top of its range: a value that comes
 * out more than 2^−p (nearest) or 2^−p+1 (stochastic) short of its input was clipped, not rounded.
 */
export function topPrecisionBits(format: ResolvedFormat): number {
  const el = format.element;
  if (el.kind === "float") return el.mantissaBits;
  if (el.kind === "int") return Math.max(0, Math.floor(Math.log2(Math.max(1, el.maxInt))));
  return 0; // a posit has no fraction bits left at maxpos
}

/** How to tell clipping from rounding for one format. */
export interface ClipRule {
  /** topPrecisionBits of the element. */
  readonly bits: number;
  readonly stochastic: boolean;
  /** The smallest |q| a clipped value can have when the format is not scaled (half its max finite); absent for scaled formats. */
  readonly floor?: number;
}

/** The clip rule of a format (null: values pass unchanged). */
export function clipRule(format: ResolvedFormat | null): ClipRule {
  if (format === null) return { bits: 52, stochastic: false };
  const base = { bits: topPrecisionBits(format), stochastic: format.rounding.mode === "stochastic" };
  return format.scaling.kind === "none" ? { ...base, floor: format.maxFinite / 2 } : base;
}

/** The statistics of one quantization of x into q (same length). */
export function measure(step: number, x: FloatArray, q: FloatArray, rule: ClipRule): Omit<SiteSample, "scales"> {
  const n = x.length;
  let maxQ = 0;
  let minQ = Infinity;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(q[i]);
    if (a > maxQ && a !== Infinity) maxQ = a;
    if (a > 0 && a < minQ) minQ = a;
    const b = Math.abs(x[i]);
    if (b > amax && b !== Infinity) amax = b;
  }
  // Clipped: short by more than a rounding step, in the top binade of an unscaled format or near the
  // top of what this tensor's q reached (a value far below lost its digits to the subnormal range,
  // which is not saturation).
  const slack = 2 ** -(rule.bits + (rule.stochastic ? 0 : 1));
  const topFloor = rule.floor ?? maxQ * 2 ** -(rule.bits + 1);
  const counter = new BinadeCounter();
  let zeros = 0;
  let inputNonFinite = 0;
  let nonZero = 0;
  let underflow = 0;
  let saturated = 0;
  let nonFinite = 0;
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    if (!Number.isFinite(xi)) {
      inputNonFinite++;
      continue;
    }
    const qi = q[i];
    if (xi === 0) zeros++;
    else {
      counter.add(binadeOf(xi));
      nonZero++;
    }
    if (!Number.isFinite(qi)) {
      nonFinite++;
      continue;
    }
    const ax = Math.abs(xi);
    const aq = Math.abs(qi);
    if (qi === 0 && xi !== 0) underflow++;
    else if (ax - aq > aq * slack && aq >= topFloor && aq > 0) saturated++;
    signal += xi * xi;
    const d = xi - qi;
    noise += d * d;
  }
  const finite = n - inputNonFinite;
  const histogram: ValueHistogram = { ...counter.histogram(), zeros, nonFinite: inputNonFinite };
  return {
    step,
    count: n,
    underflow: fraction(underflow, nonZero),
    saturated: fraction(saturated, nonZero),
    nonFinite: fraction(nonFinite, finite),
    sqnr: jsonNumber(noise === 0 ? Infinity : signal === 0 ? -Infinity : round(10 * Math.log10(signal / noise))),
    relativeError: jsonNumber(noise === 0 ? 0 : signal === 0 ? Infinity : round(Math.sqrt(noise / signal))),
    amax,
    histogram,
    quantizedRange: maxQ > 0 ? { minLog2: round(Math.log2(minQ)), maxLog2: round(Math.log2(maxQ)) } : null,
  };
}

function fraction(part: number, whole: number): number {
  return whole === 0 ? 0 : round(part / whole);
}

/** Six significant digits: statistics, not values to reproduce. */
function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
