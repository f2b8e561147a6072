/**
 * The numerics of a training run as results.json records them (docs/numerics.md): for every
 * quantized tensor site (layer × role × GEMM pass), on every sampled step, what quantization did
 * to the tensor. Plain JSON: numbers JSON cannot hold are written as jsonNumber strings.
 */
import type { JsonNumber } from "../compare/results.ts";
import type { GemmPass, TensorRole } from "../precision.ts";

/** Counts per binade: counts[i] is the number of values v with floor(log2|v|) = binade + i. */
export interface BinadeHistogram {
  /** The binade of counts[0] (empty counts: no non-zero finite value). */
  readonly binade: number;
  readonly counts: readonly number[];
}

/** log2|x| of a tensor's input values, per binade, with the values that have no binade. */
export interface ValueHistogram extends BinadeHistogram {
  readonly zeros: number;
  readonly nonFinite: number;
}

/** Where the element format can put a non-zero magnitude (log2, before any tensor scaling). */
export interface FormatRange {
  /** log2 of the smallest positive value (the smallest subnormal where the format has them). */
  readonly minLog2: number;
  /** log2 of the smallest normal value. */
  readonly minNormalLog2: number;
  /** log2 of the largest finite value. */
  readonly maxLog2: number;
}

/** A vector of scales chosen on one call (block scales, per-channel scales, group exponents), summarized. */
export interface ScaleSummary {
  readonly count: number;
  readonly min: JsonNumber;
  readonly max: JsonNumber;
  /** "log2": a BinadeHistogram of log2|scale|; "value": counts of integer values (counts[i] holds value binade + i). */
  readonly of: "log2" | "value";
  readonly histogram: BinadeHistogram;
}

/** One field of the scales: a scalar (S2FP8 α), a vector summarized (block scales), or a short list kept whole (an amax history). */
export type ScaleValue = JsonNumber | ScaleSummary | readonly number[];

/** What quantizing one site did on one sampled step. */
export interface SiteSample {
  readonly step: number;
  /** Elements quantized. */
  readonly count: number;
  /** Fraction of the finite non-zero inputs that became zero. */
  readonly underflow: number;
  /** Fraction of the finite non-zero inputs clipped to the largest magnitude the format gave (more than a rounding step short). */
  readonly saturated: number;
  /** Fraction of the finite inputs that became NaN or ±Infinity. */
  readonly nonFinite: number;
  /** Signal-to-quantization-noise ratio in dB, 10·log10(Σx² / Σ(x−q)²) over finite pairs; "Infinity" when exact. */
  readonly sqnr: JsonNumber;
  /** ‖x − q‖ / ‖x‖ over finite pairs (0 when exact). */
  readonly relativeError: JsonNumber;
  /** The largest |x| of the input. */
  readonly amax: number;
  /** log2|x| of the input per binade; the observed range of |q| in `quantizedRange`. */
  readonly histogram: ValueHistogram;
  /** log2 of the smallest non-zero and the largest |q| (null: every q was 0 or not finite). */
  readonly quantizedRange: { readonly minLog2: number; readonly maxLog2: number } | null;
  /** The scales the format chose on this call (absent for formats without tensor scaling), by meta field. */
  readonly scales?: Readonly<Record<string, ScaleValue>>;
}

/** One tensor site of a run. */
export interface SiteNumerics {
  /** The layer, as the model names it ("stage1.block0.conv1"). */
  readonly site: string;
  readonly role: TensorRole;
  readonly pass: GemmPass | null;
  /** The format bound there, or null where the recipe keeps the values (recorded so fp32 sits beside every format). */
  readonly format: string | null;
  readonly range: FormatRange | null;
  readonly samples: readonly SiteSample[];
}

/** A run's numerics: results.json's `numerics` of a run. */
export interface RunNumerics {
  /** Sampled every this many training steps (step 0 first). */
  readonly every: number;
  /** The sampled steps, ascending. */
  readonly steps: readonly number[];
  /** The learning rate of every completed training step (aligned with the run's `losses`). */
  readonly learningRate: readonly number[];
  readonly sites: readonly SiteNumerics[];
}
