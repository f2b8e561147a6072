/**
 * report.html: the table; the training-loss, learning-rate, metric and test-loss curves, drawn by
 * uPlot (a one-epoch comparison gets labelled bars instead of one-point curves); and per model the
 * quantization statistics recorded during training (numerics-view.ts). Self-contained: uPlot's
 * script and stylesheet are inlined, so the file opens offline. Data travels as JSON in a
 * non-executed script element (with "<" escaped); text goes through HTML escaping.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ResultsFile } from "../runtime/compare/results.ts";
import { fromJsonNumber } from "../runtime/compare/results.ts";
import { BARS_CSS, singleEpochBars } from "./epoch-bars.ts";
import { NUMERICS_CSS, numericsSection } from "./numerics-view.ts";
import { BASELINE, deltaText, divergedText, meanStd, metricsOf, modelsOf, settingsLine, summarize } from "./summary.ts";

const uplotDist = join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that can sit inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** Exponential moving average (the per-step loss is noisy); null after a run's last step. */
function smoothed(losses: readonly number[], length: number): Array<number | null> {
  const out: Array<number | null> = new Array(length).fill(null);
  let ema = losses[0] ?? 0;
  losses.forEach((loss, i) => {
    ema = i === 0 ? loss : 0.9 * ema + 0.1 * loss;
    out[i] = Number(ema.toPrecision(5));
  });
  return out;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** The colour of a recipe's curves and bars (by its row in the table). */
function colorOf(results: ResultsFile, model: string): (recipe: string) => string {
  const recipes = summarize(results, model).map((r) => r.recipe);
  return (recipe) => PALETTE[Math.max(0, recipes.indexOf(recipe)) % PALETTE.length];
}

/** A model whose runs have one epoch: its end-of-epoch numbers are bars, not one-point curves. */
function singleEpoch(results: ResultsFile, model: string): boolean {
  return Math.max(0, ...results.runs.filter((r) => r.model === model).map((r) => r.epochs.length)) <= 1;
}

/** The chart data of one model: smoothed losses and the learning rate per step, the primary metric and test loss per epoch, per run. */
function modelData(results: ResultsFile, model: string) {
  const runs = results.runs.filter((r) => r.model === model);
  const recipes = summarize(results, model).map((r) => r.recipe);
  const metric = metricsOf(results, model)[0];
  const maxSteps = Math.max(1, ...runs.map((r) => r.losses.length));
  const maxEpochs = Math.max(1, ...runs.map((r) => r.epochs.length));
  // Every run of a model follows the same schedule: the longest recorded curve is it.
  const learningRate = runs.map((r) => r.numerics?.learningRate ?? []).reduce((a, b) => (b.length > a.length ? b : a), [] as readonly number[]);
  return {
    model,
    metricLabel: metric.label,
    singleEpoch: singleEpoch(results, model),
    learningRate: learningRate.length === 0 ? null : Array.from({ length: maxSteps }, (_, i) => learningRate[i] ?? null),
    steps: Array.from({ length: maxSteps }, (_, i) => i + 1),
    epochs: Array.from({ length: maxEpochs }, (_, i) => i + 1),
    series: runs.map((run) => ({
      label: `${run.recipe} seed ${run.seed}${run.diverged === null ? "" : " (diverged)"}`,
      color: PALETTE[recipes.indexOf(run.recipe) % PALETTE.length],
      dash: run.seed % 3,
      loss: smoothed(run.losses, maxSteps),
      metric: Array.from({ length: maxEpochs }, (_, e) => {
        const value = run.epochs[e]?.metrics[metric.key];
        return value === undefined ? null : Number((metric.percent ? 100 * value : value).toPrecision(6));
      }),
      testLoss: Array.from({ length: maxEpochs }, (_, e) => {
        const value = run.epochs[e] === undefined ? Number.NaN : fromJsonNumber(run.epochs[e].testLoss);
        return Number.isFinite(value) ? Number(value.toPrecision(6)) : null;
      }),
    })),
  };
}

/** One model's section: settings, table, the charts' placeholders (or one-epoch bars), and the numerics view. */
function modelSection(results: ResultsFile, model: string, index: number, heading: boolean): string {
  const metrics = metricsOf(results, model);
  const rows = summarize(results, model)
    .map((r) => `<tr><td>${escapeHtml(r.recipe)}</td><td>${meanStd(r.metrics[0])}</td><td>${deltaText(r)}</td>${r.metrics.slice(1).map((m) => `<td>${meanStd(m)}</td>`).join("")}<td>${escapeHtml(divergedText(r))}</td><td>${r.meanWallSeconds.toFixed(1)}</td><td class="summary">${escapeHtml(r.summary)}</td></tr>`)
    .join("\n");
  return `${heading ? `<h2>${escapeHtml(model)}</h2>\n` : ""}<p>${escapeHtml(settingsLine(results, model))}</p>
<table>
<tr><th>recipe</th><th>${escapeHtml(metrics[0].label)} (mean ± std)</th><th>Δ vs ${BASELINE}</th>${metrics.slice(1).map((m) => `<th>${escapeHtml(m.label)}</th>`).join("")}<th>diverged runs</th><th>mean wall s</th><th>what the recipe does</th></tr>
${rows}
</table>
<div class="chart-row"><div class="chart" id="loss-${index}"></div>${runsHaveRate(results, model) ? `<div class="chart" id="lr-${index}"></div>` : ""}</div>
<div class="chart-row">${singleEpoch(results, model) ? singleEpochBars(results, model, index, colorOf(results, model)) : `<div class="chart" id="metric-${index}"></div><div class="chart" id="testloss-${index}"></div>`}</div>
${numericsSection(results, model, summarize(results, model).map((r) => r.recipe))}`;
}

function runsHaveRate(results: ResultsFile, model: string): boolean {
  return results.runs.some((r) => r.model === model && (r.numerics?.learningRate.length ?? 0) > 0);
}

/** The HTML report of `results`. */
export function htmlReport(results: ResultsFile): string {
  const models = modelsOf(results);
  const data = { models: models.map((m) => modelData(results, m)) };
  const sections = models.map((m, i) => modelSection(results, m, i, models.length > 1)).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>numforge format comparison</title>
<style>${readFileSync(join(uplotDist, "uPlot.min.css"), "utf8")}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
td:first-child, th:first-child, td.summary { text-align: left; }
td.summary { color: #555; max-width: 40em; }
/* Laid out for a 1400 px window: two charts a row, each as wide as its column (one alone takes the row). */
.chart-row { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 24px; margin: 1.5em 0; }
.chart { min-width: 0; }
${NUMERICS_CSS}${BARS_CSS}</style>
</head>
<body>
<h1>numforge format comparison</h1>
${sections}
<script id="comparison-data" type="application/json">${scriptJson(data)}</script>
<script>${readFileSync(join(uplotDist, "uPlot.iife.min.js"), "utf8")}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById("comparison-data").textContent);
  var dashes = [[], [8, 4], [2, 3]];
  function chart(id, title, xLabel, yLabel, xs, series, key) {
    var el = document.getElementById(id);
    var opts = {
      title: title, width: Math.max(320, el.clientWidth), height: 320,
      scales: { x: { time: false } },
      axes: [{ label: xLabel }, { label: yLabel }],
      series: [{ label: xLabel }].concat(series.map(function (s) {
        return { label: s.label, stroke: s.color, width: 1.5, dash: dashes[s.dash], spanGaps: false, points: { show: key === "metric" || key === "testLoss" || xs.length < 3 } };
      })),
    };
    new uPlot(opts, [xs].concat(series.map(function (s) { return s[key]; })), el);
  }
  data.models.forEach(function (m, i) {
    chart("loss-" + i, m.model + ": training loss (exponential moving average, 0.9)", "step", "loss", m.steps, m.series, "loss");
    if (m.learningRate !== null)
      chart("lr-" + i, m.model + ": learning rate per step", "step", "learning rate", m.steps, [{ label: "learning rate", color: "#333", dash: 0, learningRate: m.learningRate }], "learningRate");
    if (!m.singleEpoch) {
      chart("metric-" + i, m.model + ": " + m.metricLabel + " after each epoch", "epoch", m.metricLabel, m.epochs, m.series, "metric");
      chart("testloss-" + i, m.model + ": test loss after each epoch", "epoch", "test loss", m.epochs, m.series, "testLoss");
    }
  });
})();
</script>
</body>
</html>
`;
}
