/**
 * report.html's "where does this format lose" view: per model and recipe, one small panel per
 * quantized GEMM operand site (layer × role × pass), worst first, each a histogram of log2|x| over
 * the sampled steps with the format's representable range shaded behind it and fp32's histogram at
 * the same site drawn over it as an outline. Drawn here as inline SVG: the page needs no script to
 * show it, and tests read the numbers back from data attributes.
 */
import type { ResultsFile, RunResult } from "../runtime/compare/results.ts";
import type { ScaleSummary, ScaleValue, SiteNumerics, SiteSample } from "../runtime/numerics/types.ts";
import { fromJsonNumber } from "../runtime/compare/results.ts";
import { BASELINE } from "./summary.ts";

/** Panels shown per recipe before the rest go into a closed details element. */
export const PANELS_SHOWN = 12;

/** One site of one run, reduced over its samples. */
export interface SiteView {
  readonly key: string;
  readonly site: string;
  readonly role: string;
  readonly pass: string | null;
  readonly format: string;
  /** Means over the samples (fractions of the finite non-zero inputs). */
  readonly underflow: number;
  readonly saturated: number;
  readonly nonFinite: number;
  /** Mean SQNR in dB over the samples that lost anything (Infinity: none did). */
  readonly sqnr: number;
  /** Fraction lost to the range: underflow + saturated + nonFinite. */
  readonly lost: number;
  readonly histogram: ReadonlyMap<number, number>;
  readonly range: SiteNumerics["range"];
  readonly quantized: { readonly minLog2: number; readonly maxLog2: number } | null;
  /** The scales the format chose over the samples, one short phrase per field ("α 6.1 → 5.8"). */
  readonly scales: readonly string[];
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

function summed(samples: readonly SiteSample[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) s.histogram.counts.forEach((c, i) => c > 0 && out.set(s.histogram.binade + i, (out.get(s.histogram.binade + i) ?? 0) + c));
  return out;
}

/** The sites of a run reduced over their samples, worst first: most values lost to the range, then lowest SQNR. */
export function siteViews(run: RunResult): SiteView[] {
  const views = (run.numerics?.sites ?? []).filter((s) => s.format !== null && s.samples.length > 0).map((s): SiteView => {
    const sqnrs = s.samples.map((x) => (typeof x.sqnr === "number" ? x.sqnr : Number(x.sqnr))).filter((v) => v !== Infinity && !Number.isNaN(v));
    const ranges = s.samples.map((x) => x.quantizedRange).filter((r) => r !== null);
    const underflow = mean(s.samples.map((x) => x.underflow));
    const saturated = mean(s.samples.map((x) => x.saturated));
    const nonFinite = mean(s.samples.map((x) => x.nonFinite));
    return {
      key: `${s.role}@${s.site}#${s.pass ?? ""}`, site: s.site, role: s.role, pass: s.pass, format: s.format!,
      underflow, saturated, nonFinite, lost: underflow + saturated + nonFinite,
      sqnr: sqnrs.length === 0 ? Infinity : mean(sqnrs),
      histogram: summed(s.samples),
      range: s.range,
      quantized: ranges.length === 0 ? null : { minLog2: Math.min(...ranges.map((r) => r.minLog2)), maxLog2: Math.max(...ranges.map((r) => r.maxLog2)) },
      scales: scalePhrases(s.samples),
    };
  });
  return views.sort((a, b) => b.lost - a.lost || a.sqnr - b.sqnr || a.key.localeCompare(b.key));
}

const GREEK: Readonly<Record<string, string>> = { alpha: "α", beta: "β" };
const short = (x: number) => (x === 0 || (Math.abs(x) >= 0.01 && Math.abs(x) < 1e4) ? String(Number(x.toPrecision(3))) : x.toExponential(2));
const power = (x: number) => (x > 0 && Number.isFinite(x) ? `2^${Number(Math.log2(x).toFixed(Number.isInteger(Math.log2(x)) ? 0 : 1))}` : short(x));
const isSummary = (v: ScaleValue): v is ScaleSummary => typeof v === "object" && !Array.isArray(v);

/**
 * The scales of a site over its samples, a phrase per field: a scalar (S2FP8 α, β; a tensor scale)
 * as its first and last value; a vector (block scales, group exponents) as the range it covered; a
 * kept history (delayed scaling's amax) as its largest entry on the last sample.
 */
function scalePhrases(samples: readonly SiteSample[]): string[] {
  const fields = [...new Set(samples.flatMap((s) => Object.keys(s.scales ?? {})))];
  return fields.flatMap((field) => {
    const values = samples.map((s) => s.scales?.[field]).filter((v): v is ScaleValue => v !== undefined);
    const name = GREEK[field] ?? field;
    if (values.length === 0) return [];
    if (values.every(isSummary)) {
      const lo = Math.min(...values.map((v) => fromJsonNumber(v.min)));
      const hi = Math.max(...values.map((v) => fromJsonNumber(v.max)));
      const show = values[0].of === "log2" ? power : short;
      return [`${name} ${show(lo)}…${show(hi)} (${values[values.length - 1].count} per call)`];
    }
    if (values.every(Array.isArray)) {
      const last = values[values.length - 1] as readonly number[];
      return last.length === 0 ? [] : [`${name} max ${short(Math.max(...last.map(Math.abs)))}`];
    }
    const scalars = values.filter((v): v is Exclude<ScaleValue, ScaleSummary | readonly number[]> => !isSummary(v) && !Array.isArray(v)).map(fromJsonNumber);
    if (scalars.length === 0) return [];
    const [first, last] = [scalars[0], scalars[scalars.length - 1]];
    return [first === last ? `${name} ${short(first)}` : `${name} ${short(first)} → ${short(last)}`];
  });
}

/** fp32's histograms by site key (the baseline run of the same model, lowest seed). */
function baselineHistograms(results: ResultsFile, model: string): Map<string, Map<number, number>> | null {
  const base = results.runs.filter((r) => r.model === model && r.recipe === BASELINE && r.numerics !== undefined).sort((a, b) => a.seed - b.seed)[0];
  if (base === undefined) return null;
  const out = new Map<string, Map<number, number>>();
  for (const s of base.numerics!.sites) {
    out.set(`${s.role}@${s.site}#${s.pass ?? ""}`, summed(s.samples));
    // fp32 quantizes nothing, so it records a tensor once where a format may quantize it once per GEMM
    // (ShiftQuant's errors along each GEMM's K): both GEMMs see the same values, found by role and layer.
    if (!out.has(`${s.role}@${s.site}`)) out.set(`${s.role}@${s.site}`, out.get(`${s.role}@${s.site}#${s.pass ?? ""}`)!);
  }
  return out;
}

export const percent = (x: number) => (x === 0 ? "0%" : x < 0.001 ? "<0.1%" : `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`);
export const db = (x: number) => (x === Infinity ? "exact" : `${x.toFixed(1)} dB`);

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const W = 300;
const H = 120;
const PAD = { left: 6, right: 6, top: 6, bottom: 18 };

/** One panel: the site's histogram (bars), fp32's (outline), the format's range (shaded) and the stats. */
function panel(view: SiteView, baseline: Map<number, number> | undefined): string {
  const binades = [...view.histogram.keys(), ...(baseline?.keys() ?? [])];
  const r = view.range;
  // Scaled formats move the element's range: show where q actually landed; unscaled ones the element's own.
  const shown = view.quantized ?? (r === null ? null : { minLog2: r.minLog2, maxLog2: r.maxLog2 });
  const rangeEnds = r === null ? [] : [Math.floor(r.minLog2), Math.floor(r.maxLog2)];
  const lo = Math.min(...binades, ...rangeEnds) - 1;
  const hi = Math.max(...binades, ...rangeEnds) + 1;
  const x = (b: number) => PAD.left + ((b - lo) / (hi - lo + 1)) * (W - PAD.left - PAD.right);
  const width = x(lo + 1) - x(lo);
  const top = Math.max(1, ...view.histogram.values(), ...(baseline?.values() ?? []));
  const y = (c: number) => H - PAD.bottom - (c / top) * (H - PAD.top - PAD.bottom);
  const band = (from: number, to: number, cls: string) => to <= from ? "" : `<rect class="${cls}" x="${x(from).toFixed(1)}" y="${PAD.top}" width="${Math.max(1, x(to) - x(from)).toFixed(1)}" height="${H - PAD.top - PAD.bottom}"/>`;
  const bands = [
    ...(r === null ? [] : [band(r.minLog2, r.minNormalLog2, "subnormal-range"), band(r.minNormalLog2, r.maxLog2 + 1, "element-range")]),
    ...(shown !== null && view.quantized !== null ? [`<line class="reached" x1="${x(shown.minLog2).toFixed(1)}" x2="${x(shown.minLog2).toFixed(1)}" y1="${PAD.top}" y2="${H - PAD.bottom}"/><line class="reached" x1="${x(shown.maxLog2 + 1).toFixed(1)}" x2="${x(shown.maxLog2 + 1).toFixed(1)}" y1="${PAD.top}" y2="${H - PAD.bottom}"/>`] : []),
  ];
  const bars = [...view.histogram].map(([b, c]) => `<rect class="bar" x="${x(b).toFixed(1)}" y="${y(c).toFixed(1)}" width="${Math.max(1, width - 1).toFixed(1)}" height="${(H - PAD.bottom - y(c)).toFixed(1)}"><title>2^${b}: ${c}</title></rect>`);
  const outline = baseline === undefined ? "" : `<path class="fp32" d="${[...baseline].sort((a, b) => a[0] - b[0]).map(([b, c]) => `M${x(b).toFixed(1)},${H - PAD.bottom}V${y(c).toFixed(1)}H${(x(b) + width).toFixed(1)}V${H - PAD.bottom}`).join("")}"/>`;
  const step = Math.max(1, Math.ceil((hi - lo) / 6));
  const ticks: string[] = [];
  for (let b = Math.ceil(lo / step) * step; b <= hi; b += step) if (x(b) >= 16 && x(b) <= W - 16) ticks.push(`<text x="${x(b).toFixed(1)}" y="${H - 5}">2^${b}</text>`);
  const title = `${view.site} · ${view.role}${view.pass === null ? "" : ` · ${view.pass}`}`;
  return `<figure class="site" data-site="${escapeXml(view.key)}" data-lost="${view.lost}" data-underflow="${view.underflow}" data-saturated="${view.saturated}">
<figcaption><b>${escapeXml(title)}</b><br><span class="stats">underflow ${percent(view.underflow)} · saturated ${percent(view.saturated)}${view.nonFinite > 0 ? ` · NaN/Inf ${percent(view.nonFinite)}` : ""} · SQNR ${db(view.sqnr)}</span>${view.scales.length === 0 ? "" : `<br><span class="scales">scales: ${escapeXml(view.scales.join(" · "))}</span>`}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(`log2|x| at ${title}`)}">${bands.join("")}${bars.join("")}${outline}<g class="ticks">${ticks.join("")}</g></svg>
</figure>`;
}

/** Per recipe of `model`, the sites of its lowest-seed run that recorded numerics, worst first (none: no numerics). */
export function recipeSiteViews(results: ResultsFile, model: string, recipes: readonly string[]): { recipe: string; run: RunResult; views: SiteView[] }[] {
  return recipes.flatMap((recipe) => {
    const run = results.runs.filter((r) => r.model === model && r.recipe === recipe && r.numerics !== undefined).sort((a, b) => a.seed - b.seed)[0];
    const views = run === undefined ? [] : siteViews(run);
    return views.length === 0 ? [] : [{ recipe, run, views }];
  });
}

/** The view for one model: a panel grid per quantizing recipe, or "" when no run recorded numerics. */
export function numericsSection(results: ResultsFile, model: string, recipes: readonly string[]): string {
  const baseline = baselineHistograms(results, model);
  const groups = recipeSiteViews(results, model, recipes).map(({ recipe, run, views }) => {
    const panels = views.map((v) => panel(v, baseline?.get(v.key) ?? baseline?.get(`${v.role}@${v.site}`)));
    const worst = views[0];
    const summary = `worst: ${escapeXml(worst.site)} ${worst.role}${worst.pass === null ? "" : ` (${worst.pass})`}, ${percent(worst.lost)} of values lost to the range, SQNR ${db(worst.sqnr)}`;
    const rest = panels.length > PANELS_SHOWN ? `<details><summary>${panels.length - PANELS_SHOWN} more sites</summary><div class="multiples">${panels.slice(PANELS_SHOWN).join("\n")}</div></details>` : "";
    return `<section class="format-loss" data-recipe="${escapeXml(recipe)}">
<h4>${escapeXml(recipe)} <span class="stats">seed ${run.seed}, ${run.numerics!.steps.length} sampled steps; ${summary}</span></h4>
<div class="multiples">${panels.slice(0, PANELS_SHOWN).join("\n")}</div>${rest}
</section>`;
  });
  if (groups.length === 0) return "";
  const legend = `<p class="legend"><span class="key bar"></span> log2|x| of the values quantized at the site, summed over the sampled steps · <span class="key fp32"></span> ${baseline === null ? "(no fp32 run to compare)" : "the same site in the fp32 run"} · <span class="key element-range"></span> the format's normal range (<span class="key subnormal-range"></span> subnormals) before scaling · <span class="key reached"></span> where the quantized values reached (scaled formats move the range). Sites that lose most values to the range (underflow + saturation + NaN/Inf) come first, then lowest SQNR.</p>`;
  return `<h3>Where does each format lose?</h3>\n${legend}\n${groups.join("\n")}`;
}

/** Styles of the view. */
export const NUMERICS_CSS = `
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(310px, 1fr)); gap: 10px; }
figure.site { margin: 0; border: 1px solid #ddd; padding: 6px; background: #fff; display: flex; flex-direction: column; }
figure.site svg { margin-top: auto; }
figure.site .scales { color: #6a3d9a; font-size: 12px; }
figure.site figcaption { font-size: 12px; overflow-wrap: anywhere; }
.stats { color: #555; font-weight: normal; font-size: 12px; }
svg .bar { fill: #1f77b4; }
svg .fp32 { fill: none; stroke: #333; stroke-width: 1; stroke-dasharray: 3 2; }
svg .element-range { fill: #e5f5e0; }
svg .subnormal-range { fill: #fdf2d0; }
svg .reached { stroke: #d62728; stroke-width: 1; }
svg .ticks text { font-size: 10px; fill: #555; text-anchor: middle; }
.legend .key { display: inline-block; width: 14px; height: 10px; vertical-align: middle; }
.legend .key.bar { background: #1f77b4; } .legend .key.fp32 { border: 1px dashed #333; }
.legend .key.element-range { background: #e5f5e0; } .legend .key.subnormal-range { background: #fdf2d0; }
.legend .key.reached { border-left: 2px solid #d62728; width: 4px; }
section.format-loss h4 { margin: 1.2em 0 0.4em; }
`;
