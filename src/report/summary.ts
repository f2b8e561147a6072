/**
 * The numbers of a comparison report: per recipe, the final metric over the runs that did not
 * diverge (mean, sample standard deviation), its difference from the fp32 baseline, and the
 * diverged runs. Shared by the Markdown and HTML reports.
 */
import type { ResultsFile, RunResult } from "../runtime/compare/results.ts";

/** One row of the paper-style table. */
export interface RecipeSummary {
  readonly recipe: string;
  readonly summary: string;
  readonly runs: readonly RunResult[];
  /** Runs that finished without diverging. */
  readonly finished: number;
  /** Mean final metric of the finished runs (null if none). */
  readonly mean: number | null;
  /** Sample standard deviation (n − 1); null with fewer than two finished runs. */
  readonly std: number | null;
  /** mean − the baseline's mean (null without either). */
  readonly delta: number | null;
  readonly diverged: readonly { readonly seed: number; readonly step: number }[];
  readonly meanWallSeconds: number;
}

/** The recipe every other is compared with. */
export const BASELINE = "fp32";

/** Rows in order of first appearance in the results. */
export function summarize(results: ResultsFile): RecipeSummary[] {
  const order: string[] = [];
  for (const run of results.runs) if (!order.includes(run.recipe)) order.push(run.recipe);
  const rows = order.map((recipe) => {
    const runs = results.runs.filter((r) => r.recipe === recipe).sort((a, b) => a.seed - b.seed);
    const values = runs.flatMap((r) => (r.finalMetric === null ? [] : [r.finalMetric]));
    const mean = values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
    const std = values.length < 2 || mean === null ? null : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    return {
      recipe,
      summary: results.recipes[recipe]?.summary ?? "",
      runs,
      finished: values.length,
      mean,
      std,
      delta: null as number | null,
      diverged: runs.flatMap((r) => (r.diverged === null ? [] : [{ seed: r.seed, step: r.diverged.step }])),
      meanWallSeconds: runs.reduce((a, r) => a + r.wallSeconds, 0) / Math.max(1, runs.length),
    };
  });
  const base = rows.find((r) => r.recipe === BASELINE)?.mean ?? null;
  return rows.map((r) => ({ ...r, delta: r.mean === null || base === null || r.recipe === BASELINE ? null : r.mean - base }));
}

/** Percent with two decimals. */
export const percent = (x: number) => (100 * x).toFixed(2);

/** "95.12 ± 0.30", "95.12" (one run), or "—" (none finished). */
export function meanStd(row: RecipeSummary): string {
  if (row.mean === null) return "—";
  return row.std === null ? percent(row.mean) : `${percent(row.mean)} ± ${percent(row.std)}`;
}

/** "+0.12", "−1.50" (points), or "—". */
export function deltaText(row: RecipeSummary): string {
  if (row.delta === null) return "—";
  const points = 100 * row.delta;
  return `${points >= 0 ? "+" : "−"}${Math.abs(points).toFixed(2)}`;
}

/** "0/3", or "1/3 (seed 2 at step 130)". */
export function divergedText(row: RecipeSummary): string {
  const head = `${row.diverged.length}/${row.runs.length}`;
  if (row.diverged.length === 0) return head;
  return `${head} (${row.diverged.map((d) => `seed ${d.seed} at step ${d.step}`).join(", ")})`;
}

/** One line saying how the runs were trained. */
export function settingsLine(results: ResultsFile): string {
  const s = results.settings;
  const steps = results.runs[0] === undefined ? "" : `, ${results.runs[0].epochs[0]?.steps ?? results.runs[0].steps} steps per epoch`;
  const data = s.data.kind === "package" ? `MNIST digits of the mnist package (8,000 train / 2,000 test, split seed ${s.data.splitSeed})` : `MNIST IDX files in ${s.data.dir}`;
  return `${s.model} (width ${s.width}) on ${data}; ${s.epochs} epoch${s.epochs === 1 ? "" : "s"}${steps}, batch ${s.batchSize}, ${s.optimizer} with peak learning rate ${s.learningRate} (5% linear warm-up, cosine decay), ${s.backend} backend.`;
}
