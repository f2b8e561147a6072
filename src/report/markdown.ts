/**
 * report.md: with several models, first the combined table in the shape of the S2FP8 paper's
 * results table (rows: recipes; columns: each model's primary metric and its Δ vs fp32); then per
 * model the paper-style table with every metric; then the recipes and one line per run.
 */
import type { ResultsFile } from "../runtime/compare/results.ts";
import { db, percent, recipeSiteViews } from "./numerics-view.ts";
import { BASELINE, deltaText, divergedText, meanStd, metricsOf, metricText, modelsOf, settingsLine, summarize, type RecipeSummary } from "./summary.ts";

const escape = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The combined table: one row per recipe, a metric and a Δ column per model; † marks diverged runs. */
function combinedTable(results: ResultsFile, models: readonly string[]): string[] {
  const byModel = new Map(models.map((m) => [m, summarize(results, m)]));
  const recipes: string[] = [];
  for (const rows of byModel.values()) for (const r of rows) if (!recipes.includes(r.recipe)) recipes.push(r.recipe);
  const head = models.flatMap((m) => [`${m}: ${metricsOf(results, m)[0].label}`, "Δ"]);
  const cell = (row: RecipeSummary | undefined): string[] => {
    if (row === undefined) return ["", ""];
    const dagger = row.diverged.length > 0 ? ` †${row.diverged.length}/${row.runs.length}` : "";
    return [`${meanStd(row.metrics[0])}${dagger}`, deltaText(row)];
  };
  return [
    `| recipe | ${head.join(" | ")} |`,
    `|---|${head.map(() => "---:").join("|")}|`,
    ...recipes.map((recipe) => `| ${escape(recipe)} | ${models.flatMap((m) => cell(byModel.get(m)!.find((r) => r.recipe === recipe))).join(" | ")} |`),
    "",
    `Mean ± sample standard deviation over the seeds that did not diverge; Δ vs ${BASELINE} in points; †k/n: k of n runs diverged.`,
    "",
  ];
}

/** One model's table: the primary metric with Δ, the other metrics, divergence and time. */
function modelTable(results: ResultsFile, model: string): string[] {
  const metrics = metricsOf(results, model);
  const rows = summarize(results, model);
  const others = metrics.slice(1);
  return [
    `| recipe | ${metrics[0].label} (mean ± std) | Δ vs ${BASELINE}${metrics[0].percent ? " (points)" : ""} | ${others.map((m) => `${m.label} | `).join("")}diverged runs | mean wall s |`,
    `|---|---:|---:|${others.map(() => "---:|").join("")}---|---:|`,
    ...rows.map((r) => `| ${escape(r.recipe)} | ${meanStd(r.metrics[0])} | ${deltaText(r)} | ${r.metrics.slice(1).map((m) => `${meanStd(m)} | `).join("")}${divergedText(r)} | ${r.meanWallSeconds.toFixed(1)} |`),
    "",
  ];
}

/** Per quantizing recipe, the site that lost most to the format's range (report.html draws every site); none without numerics. */
function worstSites(results: ResultsFile, model: string): string[] {
  const groups = recipeSiteViews(results, model, summarize(results, model).map((r) => r.recipe));
  if (groups.length === 0) return [];
  return [
    "Where each format loses most (numerics sampled during training, docs/numerics.md; report.html shows every site):",
    "",
    "| recipe | worst site | role (GEMM) | lost to the range | underflow | saturated | SQNR |",
    "|---|---|---|---:|---:|---:|---:|",
    ...groups.map(({ recipe, views: [w] }) => `| ${escape(recipe)} | ${escape(w.site)} | ${w.role}${w.pass === null ? "" : ` (${w.pass})`} | ${percent(w.lost)} | ${percent(w.underflow)} | ${percent(w.saturated)} | ${db(w.sqnr)} |`),
    "",
  ];
}

/** The Markdown report of `results`. */
export function markdownReport(results: ResultsFile): string {
  const models = modelsOf(results);
  const several = models.length > 1;
  const recipes = models.flatMap((m) => summarize(results, m)).filter((r, i, all) => all.findIndex((o) => o.recipe === r.recipe) === i);
  const lines = ["# numforge format comparison", ""];
  if (several) lines.push(...combinedTable(results, models));
  for (const model of models) {
    if (several) lines.push(`### ${model}`, "");
    lines.push(settingsLine(results, model), "", ...modelTable(results, model), ...worstSites(results, model));
  }
  lines.push(
    "A diverged run stopped at the first step whose loss (or whose update of the weights) was not finite.",
    "",
    "## Recipes",
    "",
    ...recipes.map((r) => `- **${escape(r.recipe)}**: ${escape(r.summary)}`),
    "",
    "## Runs",
    "",
    "| model | recipe | seed | primary metric per epoch | final | diverged | steps | wall s |",
    "|---|---|---:|---|---:|---|---:|---:|",
    ...results.runs.map((run) => {
      const metric = metricsOf(results, run.model)[0];
      const perEpoch = run.epochs.map((e) => metricText(metric, e.metrics[metric.key])).join(", ") || "—";
      return `| ${run.model} | ${escape(run.recipe)} | ${run.seed} | ${perEpoch} | ${run.finalMetric === null ? "—" : metricText(metric, run.finalMetric)} | ${run.diverged === null ? "no" : `step ${run.diverged.step}`} | ${run.steps} | ${run.wallSeconds.toFixed(1)} |`;
    }),
    "",
  );
  return lines.join("\n");
}
