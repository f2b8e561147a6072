/**
 * The explorer page's script (bundled into explore.js by `numforge explore`). Everything shown is
 * computed here, in the browser, from the spec texts the page carries: the same parser, schema,
 * resolve and semantics as the CLI, so a format's facts read exactly as `numforge check` prints
 * them. The URL holds the state (?format=e4m3&compare=e5m2&dist=normal&scale=0), so a view can
 * be linked.
 */
import * as Effect from "effect/Effect";
import { propertyPairs } from "../../cli/render/describe.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { DISTRIBUTIONS, type Distribution, errorCurve, log2Histogram, positiveValues, quantizeSamples, samples } from "../analysis.ts";
import { createTextRegistry, PASTED_SPEC_FILE, type TextRegistry } from "../spec-text.ts";
import { byId, element } from "./dom.ts";
import { showKernels } from "./kernels-panel.ts";
import { type Band, drawPlot, powerOfTwoLabel, type Series } from "./plot.ts";
import type { SiteData } from "../site-data.ts";

const COLOURS = ["#1f6fb4", "#e8710a"] as const;
const BAND_COLOURS = ["rgba(31, 111, 180, 0.12)", "rgba(232, 113, 10, 0.12)"] as const;
const SAMPLE_COUNT = 4096;

interface State {
  /** A built-in's name, or the pasted spec (format A only). */
  a: string;
  pasted: ResolvedFormat | null;
  b: string;
  distribution: Distribution;
  /** log2 of the distribution's scale. */
  scaleLog2: number;
}

const data = JSON.parse(byId("site-data").textContent ?? "{}") as SiteData;
const registry: TextRegistry = createTextRegistry(data.specs);

/** The format named, or the one-line message the CLI would print for it. */
function resolveBuiltin(name: string): { format: ResolvedFormat } | { error: string } {
  const result = Effect.runSync(Effect.result(registry.builtin(name)));
  return result._tag === "Success" ? { format: result.success } : { error: String(result.failure) };
}

function initialState(): State {
  const query = new URLSearchParams(location.search);
  const names = registry.names();
  const pick = (wanted: string | null, fallback: string) => (wanted !== null && names.includes(wanted) ? wanted : fallback);
  const a = pick(query.get("format"), names.includes("e4m3") ? "e4m3" : names[0]);
  const b = query.get("compare") === "none" ? "none" : pick(query.get("compare"), a === "e5m2" ? "e4m3" : "e5m2");
  const distribution = (DISTRIBUTIONS as readonly string[]).includes(query.get("dist") ?? "") ? (query.get("dist") as Distribution) : "normal";
  const scale = Number(query.get("scale") ?? "0");
  return { a, pasted: null, b, distribution, scaleLog2: Number.isFinite(scale) ? Math.min(16, Math.max(-16, scale)) : 0 };
}

const state = initialState();

function formatA(): ResolvedFormat | null {
  if (state.pasted !== null) return state.pasted;
  const r = resolveBuiltin(state.a);
  return "format" in r ? r.format : null;
}

function formatB(): ResolvedFormat | null {
  if (state.b === "none") return null;
  const r = resolveBuiltin(state.b);
  return "format" in r ? r.format : null;
}

function writeUrl(): void {
  const query = new URLSearchParams();
  if (state.pasted === null) query.set("format", state.a);
  query.set("compare", state.b);
  query.set("dist", state.distribution);
  query.set("scale", String(state.scaleLog2));
  history.replaceState(null, "", `${location.pathname}?${query}`);
}

function factsTable(format: ResolvedFormat, slot: "a" | "b"): HTMLElement {
  const rows = propertyPairs(format).map(([label, value]) => element("tr", { "data-fact": label }, element("th", {}, label), element("td", {}, value)));
  return element(
    "div",
    { class: `facts facts-${slot}`, "data-format": format.name },
    element("h2", {}, element("span", { class: `swatch swatch-${slot}` }), format.name),
    element("p", { class: "summary" }, format.summary),
    element("table", {}, element("tbody", {}, ...rows)),
  );
}

function showFacts(formats: readonly (ResolvedFormat | null)[]): void {
  byId("facts-a").replaceChildren(...(formats[0] === null ? [] : [factsTable(formats[0], "a")]));
  byId("facts-b").replaceChildren(...(formats[1] === null ? [] : [factsTable(formats[1], "b")]));
}

/** log2 of the range the plots span: every listed format's smallest positive value to its largest finite one. */
function log2Range(formats: readonly ResolvedFormat[]): { lo: number; hi: number } {
  const lo = Math.floor(Math.min(...formats.map((f) => Math.log2(f.minSubnormal)))) - 1;
  const hi = Math.ceil(Math.max(...formats.map((f) => Math.log2(f.maxFinite)))) + 1;
  return { lo, hi };
}

function showPlots(formats: readonly ResolvedFormat[]): void {
  const { lo, hi } = log2Range(formats);
  const x = { min: lo, max: hi, label: "value (log2 axis)", tickLabel: powerOfTwoLabel };
  const steps = formats.map(positiveValues);

  // Representable values: one row of ticks per format, A on top.
  const rows = formats.length;
  drawPlot(byId<HTMLCanvasElement>("plot-values"), {
    x,
    y: { min: 0, max: rows, label: "format", ticks: [] },
    series: formats.map((f, i) => ({
      label: `${f.name}: ${steps[i].length} positive finite values${f.bits > 16 ? " (a sample of the codes)" : ""}`,
      colour: COLOURS[i],
      kind: "ticks",
      points: steps[i].map((s) => ({ x: Math.log2(s.value), y: rows - i - 0.9, y2: rows - i - 0.1 })),
    })),
  });

  // Relative spacing (next − v)/v of every value: a sawtooth per binade for floats, a line for ints.
  const gaps = steps.map((list) => list.filter((s) => s.next !== null).map((s) => ({ x: Math.log2(s.value), y: Math.log2((s.next! - s.value) / s.value) })));
  const gapYs = gaps.flat().map((p) => p.y);
  drawPlot(byId<HTMLCanvasElement>("plot-spacing"), {
    x,
    y: { min: Math.floor(Math.min(0, ...gapYs)) - 1, max: Math.ceil(Math.max(0, ...gapYs)) + 1, label: "relative gap to the next value (log2)", tickLabel: powerOfTwoLabel },
    series: formats.map((f, i) => ({ label: `${f.name}: relative spacing`, colour: COLOURS[i], kind: "line", points: gaps[i] })),
  });

  // The worst rounding error of the element in each slice of its range, exact slices drawn at the floor.
  const curves = formats.map((f) => errorCurve(f));
  const errYs = curves.flat().map((p) => Math.log2(p.relative)).filter(Number.isFinite);
  const floor = Math.max(-60, Math.floor(Math.min(-4, ...errYs)) - 1);
  drawPlot(byId<HTMLCanvasElement>("plot-error"), {
    x,
    y: { min: floor, max: 1, label: "relative rounding error (log2)", tickLabel: powerOfTwoLabel },
    series: formats.map((f, i) => ({
      label: `${f.name}: worst |stored − x| / x${f.scaling.kind === "none" ? "" : " (element, unscaled)"}`,
      colour: COLOURS[i],
      kind: "line",
      points: curves[i].map((p) => ({ x: Math.log2(p.x), y: p.relative === 0 ? floor : Math.min(1, Math.log2(p.relative)) })),
    })),
  });
}

function showDistribution(formats: readonly ResolvedFormat[]): void {
  const scale = 2 ** state.scaleLog2;
  byId<HTMLOutputElement>("scale-value").textContent = `${state.distribution === "normal" ? "σ" : state.distribution === "uniform" ? "half width" : "b"} = 2^${state.scaleLog2} = ${scale}`;
  const x = samples(state.distribution, scale, SAMPLE_COUNT);
  const results = formats.map((f) => quantizeSamples(f, x));
  byId("sqnr").replaceChildren(
    ...formats.map((f, i) => {
      const r = results[i];
      const db = r.sqnrDb === Number.POSITIVE_INFINITY ? "∞ (every value exact)" : r.sqnrDb === Number.NEGATIVE_INFINITY ? "−∞ (values became ±Inf or NaN)" : `${r.sqnrDb.toFixed(2)} dB`;
      const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
      return element(
        "li",
        { id: `sqnr-${i === 0 ? "a" : "b"}`, "data-format": f.name, "data-sqnr": String(r.sqnrDb) },
        element("span", { class: `swatch swatch-${i === 0 ? "a" : "b"}` }),
        `${f.name}: SQNR ${db}; ${pct(r.flushedToZero)} flushed to zero, ${pct(r.saturated)} saturated or clipped`,
      );
    }),
  );
  const histogram = log2Histogram(x);
  const { lo, hi } = log2Range(formats);
  const xs = histogram.map((h) => h.exponent);
  const bands: Band[] = formats.map((f, i) => ({ from: Math.log2(f.minSubnormal), to: Math.log2(f.maxFinite), colour: BAND_COLOURS[i], label: `${f.name} range` }));
  const stored: Series[] = formats.map((f, i) => ({
    label: `${f.name}: stored`,
    colour: COLOURS[i],
    kind: "line",
    points: log2Histogram(results[i].values).map((h) => ({ x: h.exponent + 0.5, y: h.count })),
  }));
  drawPlot(byId<HTMLCanvasElement>("plot-distribution"), {
    x: { min: Math.min(lo, ...xs), max: Math.max(hi, ...xs.map((e) => e + 1)), label: `log2 |x| of ${SAMPLE_COUNT} ${state.distribution} samples`, tickLabel: powerOfTwoLabel },
    y: { min: 0, max: Math.max(1, ...histogram.map((h) => h.count)) * 1.1, label: "values per binade", ticks: [] },
    bands,
    series: [{ label: "input", colour: "#7a7a7a", kind: "bars", points: histogram.map((h) => ({ x: h.exponent, x2: h.exponent + 1, y: h.count })) }, ...stored],
  });
}

let kernelsShownFor: ResolvedFormat | null = null;

function render(): void {
  const a = formatA();
  const b = formatB();
  const formats = [a, b].filter((f): f is ResolvedFormat => f !== null);
  showFacts([a, b]);
  if (formats.length > 0) {
    showPlots(formats);
    showDistribution(formats);
  }
  writeUrl();
  document.body.dataset.format = a?.name ?? "";
  document.body.dataset.ready = "true";
  if (a !== null && a !== kernelsShownFor) {
    kernelsShownFor = a;
    document.body.dataset.kernels = "running";
    const hasKernels = state.pasted === null && data.kernels.includes(a.name);
    void showKernels(byId("kernels"), a, hasKernels).finally(() => {
      if (kernelsShownFor === a) document.body.dataset.kernels = "done";
    });
  }
}

function usePastedSpec(): void {
  const text = byId<HTMLTextAreaElement>("spec-text").value;
  const result = Effect.runSync(Effect.result(registry.fromText(text, PASTED_SPEC_FILE)));
  const error = byId("spec-error");
  if (result._tag === "Failure") {
    error.textContent = String(result.failure).replace(/\s*\n\s*/g, " ");
    error.dataset.state = "invalid";
    return;
  }
  error.textContent = `ok: ${result.success.name} is a valid format`;
  error.dataset.state = "valid";
  state.pasted = result.success;
  render();
}

function setUp(): void {
  const names = registry.names();
  const option = (value: string, label = value) => element("option", { value }, label);
  const selectA = byId<HTMLSelectElement>("format-a");
  const selectB = byId<HTMLSelectElement>("format-b");
  selectA.replaceChildren(...names.map((n) => option(n)));
  selectB.replaceChildren(option("none", "(none)"), ...names.map((n) => option(n)));
  selectA.value = state.a;
  selectB.value = state.b;
  byId<HTMLTextAreaElement>("spec-text").value = data.specs[state.a] ?? "";
  selectA.addEventListener("change", () => {
    state.a = selectA.value;
    state.pasted = null;
    byId<HTMLTextAreaElement>("spec-text").value = data.specs[state.a] ?? "";
    byId("spec-error").textContent = "";
    render();
  });
  selectB.addEventListener("change", () => {
    state.b = selectB.value;
    render();
  });
  byId("spec-use").addEventListener("click", usePastedSpec);

  const dist = byId<HTMLSelectElement>("distribution");
  dist.replaceChildren(...DISTRIBUTIONS.map((d) => option(d)));
  dist.value = state.distribution;
  dist.addEventListener("change", () => {
    state.distribution = dist.value as Distribution;
    render();
  });
  const slider = byId<HTMLInputElement>("scale");
  slider.value = String(state.scaleLog2);
  slider.addEventListener("input", () => {
    state.scaleLog2 = Number(slider.value);
    const formats = [formatA(), formatB()].filter((f): f is ResolvedFormat => f !== null);
    showDistribution(formats);
    writeUrl();
  });
  window.addEventListener("resize", () => render());
  const missing = new URLSearchParams(location.search).get("format");
  if (missing !== null && !names.includes(missing)) {
    const r = resolveBuiltin(missing);
    byId("spec-error").textContent = "error" in r ? r.error : "";
  }
  render();
}

setUp();
