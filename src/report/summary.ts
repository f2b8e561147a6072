/**
 * The numbers of a comparison report: per (model, recipe), each metric over the runs that did
 * not diverge (mean, sample standard deviation), the primary metric's difference from the fp32
 * baseline, and the diverged runs. Shared by the Markdown and HTML reports and the progress lines.
 */
import type { ResultsFile, RunResult } from "../runtime/compare/results.ts";
import type { MetricInfo } from "../runtime/tasks/task.ts";

/** Mean and sample standard deviation of one metric over the finished runs of a row. */
export interface MetricSummary {
  readonly metric: MetricInfo;
  /** null when no run finished. */
  readonly mean: number | null;
  /** Sample standard deviation (n − 1); null with fewer than two finished runs. */
  readonly std: number | null;
}

/** One row of the paper-style table: a recipe on a model. */
export interface RecipeSummary {
  readonly model: string;
  readonly recipe: string;
  readonly summary: string;
  readonly runs: readonly RunResult[];
  /** Runs that finished without diverging. */
  readonly finished: number;
  /** Every metric of the model, primary first. */
  readonly metrics: readonly MetricSummary[];
  /** Primary metric's mean − the baseline's (null without either, or for the baseline itself). */
  readonly delta: number | null;
  readonly diverged: readonly { readonly seed: number; readonly step: number }[];
  readonly meanWallSeconds: number;
}

/** The recipe every other is compared with. */
export const BASELINE = "fp32";

/** The models of a results file, in training order. */
export function modelsOf(results: ResultsFile): string[] {
  return results.settings.models.map((m) => m.model);
}

/** The metrics of `model` (a fallback for runs of a model the file does not describe). */
export function metricsOf(results: ResultsFile, model: string): readonly MetricInfo[] {
  return results.metrics[model] ?? [{ key: "metric", label: "metric", higherIsBetter: true, percent: false }];
}

function meanAndStd(values: readonly number[]): { mean: number | null; std: number | null } {
  if (values.length === 0) return { mean: null, std: null };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = values.length < 2 ? null : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  return { mean, std };
}

/** Rows of one model in order of first appearance of their recipes in the results. */
export function summarize(results: ResultsFile, model: string): RecipeSummary[] {
  const mine = results.runs.filter((r) => r.model === model);
  const order: string[] = [];
  for (const run of mine) if (!order.includes(run.recipe)) order.push(run.recipe);
  const rows = order.map((recipe): RecipeSummary => {
    const runs = mine.filter((r) => r.recipe === recipe).sort((a, b) => a.seed - b.seed);
    const finishedRuns = runs.filter((r) => r.finalMetrics !== null);
    return {
      model,
      recipe,
      summary: results.recipes[recipe]?.summary ?? "",
      runs,
      finished: finishedRuns.length,
      metrics: metricsOf(results, model).map((metric) => ({ metric, ...meanAndStd(finishedRuns.map((r) => r.finalMetrics![metric.key])) })),
      delta: null,
      diverged: runs.flatMap((r) => (r.diverged === null ? [] : [{ seed: r.seed, step: r.diverged.step }])),
      meanWallSeconds: runs.reduce((a, r) => a + r.wallSeconds, 0) / Math.max(1, runs.length),
    };
  });
  const base = rows.find((r) => r.recipe === BASELINE)?.metrics[0].mean ?? null;
  return rows.map((r) => {
    const mean = r.metrics[0].mean;
    return { ...r, delta: mean === null || base === null || r.recipe === BASELINE ? null : mean - base };
  });
}

/** A metric value as reports show it: a percentage with two decimals, or four decimals. */
export function metricText(metric: MetricInfo, x: number): string {
  return metric.percent ? (100 * x).toFixed(2) : x.toFixed(4);
}

/** "95.12 ± 0.30", "95.12" (one run), or "—" (none finished). */
export function meanStd(m: MetricSummary): string {
  if (m.mean === null) return "—";
  return m.std === null ? metricText(m.metric, m.mean) : `${metricText(m.metric, m.mean)} ± ${metricText(m.metric, m.std)}`;
}

/** "+0.12", "−1.50" (points for a percentage), or "—". */
export function deltaText(row: RecipeSummary): string {
  if (row.delta === null) return "—";
  const metric = row.metrics[0].metric;
  const value = metric.percent ? 100 * row.delta : row.delta;
  return `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(metric.percent ? 2 : 4)}`;
}

/** "0/3", or "1/3 (seed 2 at step 130)". */
export function divergedText(row: RecipeSummary): string {
  const head = `${row.diverged.length}/${row.runs.length}`;
  if (row.diverged.length === 0) return head;
  return `${head} (${row.diverged.map((d) => `seed ${d.seed} at step ${d.step}`).join(", ")})`;
}

/** The metrics of one epoch or run as "test acc 93.20%, PER 12.00%". */
export function metricsLine(metrics: readonly MetricInfo[], values: Readonly<Record<string, number>>): string {
  return metrics.map((m) => `${m.label.replace(/ %$/, "")} ${metricText(m, values[m.key])}${m.percent ? "%" : ""}`).join(", ");
}

/** One line saying how a model's runs were trained. */
export function settingsLine(results: ResultsFile, model: string): string {
  const s = results.settings.models.find((m) => m.model === model);
  if (s === undefined) return `${model}.`;
  const first = results.runs.find((r) => r.model === model);
  const steps = first === undefined ? "" : `, ${first.epochs[0]?.steps ?? first.steps} steps per epoch`;
  return `${results.descriptions[model] ?? model}; ${s.epochs} epoch${s.epochs === 1 ? "" : "s"}${steps}, batch ${s.batchSize}, ${s.optimizer} with peak learning rate ${s.learningRate} (5% linear warm-up, cosine decay), ${results.settings.backend} backend.`;
}
