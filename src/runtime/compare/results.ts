/**
 * results.json: the settings of a comparison and one record per finished (recipe, seed) run.
 * Rewritten atomically after every run, by re-reading it and merging under a lock, so processes
 * sharing the folder (several `compare`s, shards, Slurm array tasks) each add their runs and none
 * drops another's; read back to resume. Numbers JSON cannot hold (NaN,
 * ±Infinity) are written as the strings "NaN", "Infinity", "-Infinity".
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../checkpoint.ts";
import { ComparisonError } from "./folder.ts";
import type { RunNumerics } from "../numerics/types.ts";
import type { MetricInfo } from "../tasks/task.ts";
import type { ComparisonSettings } from "./settings.ts";

/** A number, or the string JSON uses for a non-finite one. */
export type JsonNumber = number | "NaN" | "Infinity" | "-Infinity";

/** A number as JSON. */
export function jsonNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}

/** Back from JSON. */
export function fromJsonNumber(x: JsonNumber): number {
  return typeof x === "number" ? x : Number(x);
}

/** One epoch's metrics on the test split (eval mode). */
export interface EpochResult {
  readonly epoch: number;
  /** Steps completed by the end of this epoch. */
  readonly steps: number;
  readonly trainLoss: JsonNumber;
  readonly testLoss: JsonNumber;
  /** Every metric of the model, by key (fractions: 0.93 is 93%). */
  readonly metrics: Readonly<Record<string, number>>;
}

/** One finished (model, recipe, seed) run. */
export interface RunResult {
  readonly model: string;
  readonly recipe: string;
  readonly recipeFingerprint: string;
  readonly seed: number;
  /** Training loss of every completed step, in order (a diverged step is not included). */
  readonly losses: readonly number[];
  readonly epochs: readonly EpochResult[];
  /** The key of the model's primary metric (the first of `ResultsFile.metrics[model]`). */
  readonly metric: string;
  /** The primary metric after the last epoch; null when the run diverged. */
  readonly finalMetric: number | null;
  /** Every metric after the last epoch; null when the run diverged. */
  readonly finalMetrics: Readonly<Record<string, number>> | null;
  /** The 0-based step whose loss (or whose update of the weights) was not finite. */
  readonly diverged: { readonly step: number; readonly loss: JsonNumber } | null;
  readonly steps: number;
  /** Training examples seen (images, words, user–item pairs). */
  readonly examples: number;
  /** Training + evaluation time, summed over resumed pieces. */
  readonly wallSeconds: number;
  readonly lossScale: { readonly final: number; readonly skippedSteps: number };
  readonly backend: string;
  /**
   * What quantization did at every GEMM operand site, sampled every few steps, and the learning
   * rate of every step (docs/numerics.md). Absent in results written before it was recorded, or
   * with `compare --numerics-every 0`.
   */
  readonly numerics?: RunNumerics;
}

/** A recipe as the results describe it. */
export interface RecipeInfo {
  readonly summary: string;
  readonly source: string;
  readonly fingerprint: string;
}

/** The whole results.json. */
export interface ResultsFile {
  readonly format: "numforge-comparison/2";
  readonly numforgeVersion: string;
  readonly settings: ComparisonSettings;
  readonly settingsFingerprint: string;
  /** The metrics of every model, primary first (how reports label and compare them). */
  readonly metrics: Readonly<Record<string, readonly MetricInfo[]>>;
  /** One sentence per model: its size and data (for reports). */
  readonly descriptions: Readonly<Record<string, string>>;
  readonly recipes: Readonly<Record<string, RecipeInfo>>;
  readonly runs: readonly RunResult[];
  /** Checkpoints that were damaged or not the run's, moved aside (never deleted) before the run started over. */
  readonly checkpointsSetAside?: readonly SetAsideRecord[];
}

/** A checkpoint set aside: which run, where it was and went, why, and when. */
export interface SetAsideRecord {
  readonly model: string;
  readonly recipe: string;
  readonly seed: number;
  readonly path: string;
  readonly movedTo: string;
  readonly reason: string;
  /** ISO time. */
  readonly at: string;
}

/** The same (model, recipe, seed). */
export const sameRun = (a: { model: string; recipe: string; seed: number }, b: { model: string; recipe: string; seed: number }): boolean =>
  a.model === b.model && a.recipe === b.recipe && a.seed === b.seed;

/** `results` with `run` added, replacing an earlier record of the same run (an older version of its recipe). */
export function withRun(results: ResultsFile, run: RunResult): ResultsFile {
  const others = results.runs.filter((r) => !sameRun(r, run));
  return { ...results, runs: others.length === results.runs.length ? [...results.runs, run] : results.runs.map((r) => (sameRun(r, run) ? run : r)) };
}

/** Reads DIR/results.json if it exists; throws a ComparisonError saying why it cannot be used. */
export function readResults(path: string): ResultsFile | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ComparisonError(path, `is not valid JSON (${(e as Error).message}); move it away to start over`);
  }
  const r = json as Partial<ResultsFile>;
  if (typeof r?.format === "string" && r.format.startsWith("numforge-comparison/") && r.format !== "numforge-comparison/2")
    throw new ComparisonError(path, `holds results in an older layout (${r.format}); pass another --out, or move it away to start over`);
  if (r?.format !== "numforge-comparison/2" || !Array.isArray(r.runs) || typeof r.settings !== "object")
    throw new ComparisonError(path, "is not a numforge comparison results file; pass another --out");
  return r as ResultsFile;
}

/** The results as JSON text (2-space indented, per-step losses on one line per run). */
export function resultsText(results: ResultsFile): string {
  const text = JSON.stringify(results, null, 2);
  // Arrays of numbers (the per-step losses) stay on one line each.
  return `${text.replace(/\[\n\s+(-?[\d.eE+-]+(?:,\n\s+-?[\d.eE+-]+)*)\n\s+\]/g, (_, inner: string) => `[${inner.replace(/,\n\s+/g, ", ")}]`)}\n`;
}

/** Writes results.json atomically. */
export function writeResults(path: string, results: ResultsFile): void {
  writeFileAtomic(path, resultsText(results));
}
