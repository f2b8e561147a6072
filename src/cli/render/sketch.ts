/**
 * One-line pictures of a format in the terminal: how many codes fall in each binade [2^b, 2^(b+1))
 * of the positive values, drawn with block characters (height ∝ log2 of the count, so a float's
 * flat normal range, its thinning subnormals and an integer's doubling all show).
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { decode } from "../../dsl/semantics/scalar.ts";

/** Codes per binade of the positive finite values: counts[i] for binade `binade` + i. */
export interface BinadeCodes {
  readonly binade: number;
  readonly counts: readonly number[];
}

/** Formats up to this width are counted code by code; wider ones by binary search (their positive codes ascend). */
const ENUMERATE_BITS = 16;

/** How many codes of `format` stand for a value in each binade of its positive finite range. */
export function codesPerBinade(format: ResolvedFormat): BinadeCodes {
  const low = Math.floor(Math.log2(format.minSubnormal));
  const high = Math.floor(Math.log2(format.maxFinite));
  if (!(format.maxFinite > 0) || !Number.isFinite(low) || high < low) return { binade: 0, counts: [] };
  const counts = new Array<number>(high - low + 1).fill(0);
  if (format.bits <= ENUMERATE_BITS) {
    for (let code = 0; code < format.codeCount; code++) {
      const v = decode(format, code);
      if (v > 0 && Number.isFinite(v)) counts[Math.floor(Math.log2(v)) - low]++;
    }
    return { binade: low, counts };
  }
  // Sign-magnitude floats, posits and integers: the non-negative codes 0 .. end-1 ascend in value.
  const end = format.minFinite < 0 ? 2 ** (format.bits - 1) : 2 ** format.bits;
  const valueAt = (code: number) => {
    const v = decode(format, code);
    return Number.isNaN(v) ? Infinity : v;
  };
  /** The first code whose value is at least t. */
  const firstAtLeast = (t: number) => {
    let lo = 0;
    let hi = end;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (valueAt(mid) >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const finiteEnd = firstAtLeast(Infinity);
  for (let b = low; b <= high; b++) counts[b - low] = Math.min(firstAtLeast(2 ** (b + 1)), finiteEnd) - Math.min(firstAtLeast(2 ** b), finiteEnd);
  return { binade: low, counts };
}

const BLOCKS = "▁▂▃▄▅▆▇█";

/** Columns a sketch may take; more binades than this share columns. */
const MAX_COLUMNS = 64;

/**
 * "2^-9 ▂▃▅███████████████ 2^8", one column per binade (or per k binades, summed, past
 * MAX_COLUMNS), a blank for a binade without codes, and what a column is.
 */
export function binadeSketch(codes: BinadeCodes): string {
  if (codes.counts.length === 0) return "no positive finite values";
  const per = Math.ceil(codes.counts.length / MAX_COLUMNS);
  const columns: number[] = [];
  for (let i = 0; i < codes.counts.length; i += per) columns.push(codes.counts.slice(i, i + per).reduce((a, b) => a + b, 0));
  const top = Math.log2(1 + Math.max(...columns));
  const bar = columns.map((c) => (c === 0 ? " " : BLOCKS[Math.min(7, Math.max(0, Math.ceil((8 * Math.log2(1 + c)) / top) - 1))])).join("");
  const last = codes.binade + codes.counts.length - 1;
  const unit = per === 1 ? "one column per binade" : `one column per ${per} binades`;
  return `2^${codes.binade} ${bar} 2^${last}  (${unit}, height ∝ log2 codes)`;
}

/** The sketch of a format's positive values. */
export function formatSketch(format: ResolvedFormat): string {
  return binadeSketch(codesPerBinade(format));
}
