/**
 * A one-epoch comparison's end-of-epoch numbers as labelled horizontal bars: a line chart of one
 * point per run would be a lone dot on an empty axis.
 */
import type { ResultsFile } from "../runtime/compare/results.ts";
import { fromJsonNumber } from "../runtime/compare/results.ts";
import { metricsOf, metricText } from "./summary.ts";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Bars of `values` (one per label), scaled to the largest, each with its value written out. */
function bars(id: string, title: string, rows: readonly { label: string; color: string; value: number | null; text: string }[]): string {
  const finite = rows.map((r) => r.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const top = Math.max(1e-12, ...finite.map(Math.abs));
  const body = rows
    .map((r) => {
      const width = r.value === null || !Number.isFinite(r.value) ? 0 : (100 * Math.abs(r.value)) / top;
      return `<div class="bar-row"><span class="bar-label">${escapeHtml(r.label)}</span><span class="bar-track"><span class="bar-fill" style="width:${width.toFixed(2)}%;background:${r.color}"></span></span><span class="bar-value">${escapeHtml(r.text)}</span></div>`;
    })
    .join("\n");
  return `<div class="bars" id="${id}"><div class="bars-title">${escapeHtml(title)}</div>\n${body}\n</div>`;
}

/** The test loss and the primary metric after the only epoch, one bar per run. */
export function singleEpochBars(results: ResultsFile, model: string, index: number, colorOf: (recipe: string) => string): string {
  const runs = results.runs.filter((r) => r.model === model);
  const metric = metricsOf(results, model)[0];
  const label = (r: (typeof runs)[number]) => `${r.recipe} seed ${r.seed}${r.diverged === null ? "" : " (diverged)"}`;
  const metricRows = runs.map((r) => {
    const v = r.epochs[0]?.metrics[metric.key];
    return { label: label(r), color: colorOf(r.recipe), value: v ?? null, text: v === undefined ? "—" : `${metricText(metric, v)}${metric.percent ? "%" : ""}` };
  });
  const lossRows = runs.map((r) => {
    const v = r.epochs[0] === undefined ? null : fromJsonNumber(r.epochs[0].testLoss);
    return { label: label(r), color: colorOf(r.recipe), value: v, text: v === null ? "—" : v.toFixed(4) };
  });
  return `${bars(`metric-${index}`, `${model}: ${metric.label} after the epoch`, metricRows)}\n${bars(`testloss-${index}`, `${model}: test loss after the epoch`, lossRows)}`;
}

export const BARS_CSS = `
.bars { min-width: 0; }
.bars-title { font-weight: bold; margin-bottom: 0.4em; }
.bar-row { display: grid; grid-template-columns: minmax(8em, 14em) 1fr 5.5em; gap: 8px; align-items: center; margin: 2px 0; }
.bar-track { background: #f2f2f2; height: 14px; display: block; }
.bar-fill { display: block; height: 14px; }
.bar-value { text-align: right; font-variant-numeric: tabular-nums; }
`;
