/**
 * report.html as a reader sees it: tiny real comparisons (a width-2 ResNet on 160 digits, a few
 * steps) are rendered by htmlReport and opened in headless Chromium (test/support/chromium.ts) at
 * 1400 px. The test reads back what the page drew — the "where does this format lose" panels and
 * their order, the curves, the one-epoch bars, the pixels — and holds it to the results the runs
 * wrote. A results file without numerics (written before they were recorded) must render too.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { PANELS_SHOWN, percent } from "../../src/report/numerics-view.ts";
import { htmlReport } from "../../src/report/html.ts";
import { markdownReport } from "../../src/report/markdown.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { runComparison } from "../../src/runtime/compare/comparison.ts";
import { fromJsonNumber, type ResultsFile } from "../../src/runtime/compare/results.ts";
import type { ModelSettings } from "../../src/runtime/compare/settings.ts";
import type { SiteSample } from "../../src/runtime/numerics/types.ts";
import { type Browser, decodePng, launchChromium, type Page, type Region, regionContent, serveFolder, type ServedFolder } from "../support/chromium.ts";
import { writeIdxFixture } from "../compare/fixtures.ts";

const work = mkdtempSync(join(tmpdir(), "numforge-report-page-"));
const data = join(work, "idx");
const recipes = createRecipeRegistry(createRegistry());
const model = (epochs: number, stepsPerEpoch: number): ModelSettings => ({
  model: "resnet", scale: 1, width: 2, epochs, batchSize: 16, stepsPerEpoch, optimizer: "sgd", learningRate: 0.1, data,
});

let site: ServedFolder;
let browser: Browser;
/** Two epochs of two steps, three recipes, numerics every step. */
let twoEpochs: ResultsFile;
/** One epoch: its end-of-epoch numbers are bars. */
let oneEpoch: ResultsFile;
/** twoEpochs as a results.json written before numerics were recorded holds it: no `numerics`. */
let old: ResultsFile;
const pages: Page[] = [];

async function open(name: string): Promise<Page> {
  // uPlot draws on load; the page is ready when every chart placeholder holds its canvas.
  const page = await browser.open(`${site.url}/${name}`, {
    width: 1400, height: 1000,
    waitFor: "Array.from(document.querySelectorAll('.chart')).every((c) => c.querySelector('canvas'))",
  });
  pages.push(page);
  return page;
}

/**
 * What the screen shows of each element, after scrolling the first into view (a viewport screenshot:
 * quicker than the whole page); the elements must fit on one screen together.
 */
async function painted(page: Page, ...selectors: string[]): Promise<{ colours: number; nonBackground: number }[]> {
  const regions = await page.evaluate<Region[]>(`(() => { document.querySelector(${JSON.stringify(selectors[0])}).scrollIntoView();
    return ${JSON.stringify(selectors)}.map((s) => { const r = document.querySelector(s).getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; }); })()`);
  for (const r of regions) expect(r.y + r.height).toBeLessThanOrEqual(1000);
  const image = decodePng(await page.screenshot());
  return regions.map((r) => regionContent(image, r));
}

beforeAll(async () => {
  writeIdxFixture(data, 160, 32);
  const backend = await createBackend("wasm");
  const compare = (settings: ModelSettings, names: readonly string[], numericsEvery: number | undefined, out: string) =>
    runComparison({
      settings: { models: [settings], backend: "wasm" },
      recipes: names.map((n) => Effect.runSync(recipes.get(n))),
      seeds: [0], outDir: join(work, out), backend, numforgeVersion: "test",
      ...(numericsEvery === undefined ? {} : { numericsEvery }),
    });
  twoEpochs = compare(model(2, 2), ["fp32", "e4m3", "mxfp8"], 1, "two");
  oneEpoch = compare(model(1, 2), ["fp32", "e4m3", "s2fp8"], undefined, "one");
  old = { ...twoEpochs, runs: twoEpochs.runs.map(({ numerics: _, ...run }) => run) };
  const pagesDir = join(work, "pages");
  mkdirSync(pagesDir);
  writeFileSync(join(pagesDir, "two.html"), htmlReport(twoEpochs));
  writeFileSync(join(pagesDir, "one.html"), htmlReport(oneEpoch));
  writeFileSync(join(pagesDir, "old.html"), htmlReport(old));
  [site, browser] = await Promise.all([serveFolder(pagesDir), launchChromium()]);
}, 120_000);

afterAll(async () => {
  for (const p of pages) await p.close();
  await browser?.close();
  await site?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Panel {
  readonly site: string;
  readonly lost: number;
  readonly caption: string;
  readonly bars: number;
  readonly fp32: number;
  readonly hidden: boolean;
}

const panelsOf = (page: Page, recipe: string) =>
  page.evaluate<Panel[]>(`Array.from(document.querySelectorAll('section.format-loss[data-recipe="${recipe}"] figure.site'), (f) => ({
    site: f.dataset.site, lost: Number(f.dataset.lost), caption: f.querySelector("figcaption").textContent,
    bars: f.querySelectorAll("svg rect.bar").length, fp32: f.querySelectorAll("svg path.fp32").length,
    hidden: f.closest("details") !== null,
  }))`);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Each quantized site of a run with its mean fraction of `what` over the samples, from results.json (default: lost to the range). */
function sitesMean(results: ResultsFile, recipe: string, what: (x: SiteSample) => number = (x) => x.underflow + x.saturated + x.nonFinite): Map<string, number> {
  const run = results.runs.find((r) => r.recipe === recipe)!;
  return new Map(run.numerics!.sites.filter((s) => s.format !== null).map((s) => [`${s.role}@${s.site}#${s.pass ?? ""}`, mean(s.samples.map(what))]));
}

describe("report.html of a two-epoch comparison with numerics", () => {
  let page: Page;
  beforeAll(async () => {
    page = await open("two.html");
  }, 90_000);

  it("renders without console errors and fits 1400 px", async () => {
    expect(page.consoleErrors).toEqual([]);
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(1400);
  });

  it("draws the training-loss and learning-rate curves side by side, the metric and test-loss curves below", async () => {
    const boxes = await page.evaluate<Record<string, Region>>(`Object.fromEntries(["loss-0", "lr-0", "metric-0", "testloss-0"].map((id) => {
      const r = document.querySelector("#" + id + " canvas").getBoundingClientRect(); return [id, { x: r.x, y: r.y, width: r.width, height: r.height }]; }))`);
    expect(Math.abs(boxes["loss-0"].y - boxes["lr-0"].y)).toBeLessThan(2);
    expect(boxes["lr-0"].x).toBeGreaterThanOrEqual(boxes["loss-0"].x + boxes["loss-0"].width);
    expect(boxes["metric-0"].y).toBeGreaterThan(boxes["loss-0"].y + boxes["loss-0"].height);
    expect(Math.abs(boxes["metric-0"].y - boxes["testloss-0"].y)).toBeLessThan(2);
    for (const b of Object.values(boxes)) expect(b.width).toBeGreaterThan(500);
    const titles = await page.evaluate<string[]>(`Array.from(document.querySelectorAll(".u-title"), (t) => t.textContent)`);
    expect(titles).toEqual([
      "resnet: training loss (exponential moving average, 0.9)", "resnet: learning rate per step",
      "resnet: test acc % after each epoch", "resnet: test loss after each epoch",
    ]);
    // The learning-rate curve is the one results.json recorded, one point per step.
    const lr = JSON.parse((await page.text("#comparison-data"))!).models[0].learningRate as number[];
    expect(lr).toEqual(twoEpochs.runs[0].numerics!.learningRate);
    expect(lr).toHaveLength(4);
  });

  it("shows per recipe one small multiple per quantized site, worst first, each with fp32's histogram beside it", async () => {
    expect(await page.text("h3")).toBe("Where does each format lose?");
    expect(await page.evaluate<string[]>(`Array.from(document.querySelectorAll("section.format-loss"), (s) => s.dataset.recipe)`)).toEqual(["e4m3", "mxfp8"]);
    for (const recipe of ["e4m3", "mxfp8"]) {
      const expected = sitesMean(twoEpochs, recipe);
      const panels = await panelsOf(page, recipe);
      expect(new Set(panels.map((p) => p.site))).toEqual(new Set(expected.keys()));
      expect(panels.length).toBe(expected.size);
      expect(panels.filter((p) => !p.hidden).length).toBe(Math.min(PANELS_SHOWN, expected.size));
      // Worst first: the fraction lost never rises along the grid, and the first panel is the worst site.
      for (let i = 1; i < panels.length; i++) expect(panels[i].lost).toBeLessThanOrEqual(panels[i - 1].lost);
      expect(expected.get(panels[0].site)).toBe(Math.max(...expected.values()));
      for (const p of panels) {
        expect(p.lost).toBeCloseTo(expected.get(p.site)!, 12);
        expect(p.bars).toBeGreaterThan(0);
        expect(p.fp32).toBe(1);
        expect(p.caption).toMatch(/underflow [\d.<]+% · saturated [\d.<]+% · SQNR ([\d.]+ dB|exact)/);
      }
    }
    // e4m3 underflows the errors of this tiny net: its worst site is an error tensor and says how much.
    const e4m3 = await panelsOf(page, "e4m3");
    expect(e4m3[0].site.startsWith("error@")).toBe(true);
    expect(e4m3[0].caption).toContain(`underflow ${percent(sitesMean(twoEpochs, "e4m3", (x) => x.underflow).get(e4m3[0].site)!)} ·`);
    // report.md names the same worst site per recipe.
    const [role, rest] = e4m3[0].site.split("@");
    const [layer, pass] = rest.split("#");
    expect(markdownReport(twoEpochs)).toContain(`| e4m3 | ${layer} | ${role} (${pass}) | ${percent(sitesMean(twoEpochs, "e4m3").get(e4m3[0].site)!)} |`);
    // MX panels name the block scales the format chose.
    expect((await panelsOf(page, "mxfp8")).every((p) => /scales: blockScales 2\^-?\d+…2\^-?\d+/.test(p.caption))).toBe(true);
  });

  it("paints the curves and the worst panel (screenshot regions hold more than a background)", async () => {
    const curves = await painted(page, "#loss-0 canvas", "#lr-0 canvas");
    const lower = await painted(page, "#testloss-0 canvas", "section.format-loss figure.site svg");
    for (const content of [...curves, ...lower]) {
      expect(content.colours).toBeGreaterThan(3);
      expect(content.nonBackground).toBeGreaterThan(0.02);
    }
  });
});

describe("report.html of a one-epoch comparison", () => {
  let page: Page;
  beforeAll(async () => {
    page = await open("one.html");
  }, 90_000);

  it("gives the end-of-epoch numbers as labelled bars, not one-point curves", async () => {
    expect(page.consoleErrors).toEqual([]);
    expect(await page.evaluate<number>(`document.querySelectorAll("#metric-0 canvas, #testloss-0 canvas").length`)).toBe(0);
    const rows = await page.evaluate<{ label: string; width: number; value: string }[]>(`Array.from(document.querySelectorAll("#testloss-0 .bar-row"), (r) => ({
      label: r.querySelector(".bar-label").textContent, width: r.querySelector(".bar-fill").getBoundingClientRect().width, value: r.querySelector(".bar-value").textContent }))`);
    expect(rows.map((r) => r.label)).toEqual(oneEpoch.runs.map((r) => `${r.recipe} seed 0`));
    expect(rows.map((r) => r.value)).toEqual(oneEpoch.runs.map((r) => fromJsonNumber(r.epochs[0].testLoss).toFixed(4)));
    // Bars are as long as their values: the longest is the largest test loss.
    const losses = oneEpoch.runs.map((r) => fromJsonNumber(r.epochs[0].testLoss));
    const widest = rows.reduce((a, b, i) => (b.width > rows[a].width ? i : a), 0);
    expect(losses[widest]).toBe(Math.max(...losses));
    for (const r of rows) expect(r.width).toBeGreaterThan(50);
    expect(await page.evaluate<number>(`document.querySelectorAll("#metric-0 .bar-row").length`)).toBe(oneEpoch.runs.length);
    // The bars and the learning rate curve are drawn; the view still shows where s2fp8 and e4m3 lose.
    for (const content of await painted(page, "#lr-0 canvas", "#metric-0", "#testloss-0")) expect(content.nonBackground).toBeGreaterThan(0.05);
    expect(await page.evaluate<string[]>(`Array.from(document.querySelectorAll("section.format-loss"), (s) => s.dataset.recipe)`)).toEqual(["e4m3", "s2fp8"]);
    expect(await page.text(`section.format-loss[data-recipe="s2fp8"] .scales`)).toMatch(/^scales: α [\d.e+-]+( → [\d.e+-]+)? · β /);
  });
});

describe("report.html of a results file written before numerics were recorded", () => {
  it("renders the table and curves, without the numerics view or the learning rate", async () => {
    const page = await open("old.html");
    expect(page.consoleErrors).toEqual([]);
    expect(await page.evaluate<number>(`document.querySelectorAll("body > table tr").length`)).toBe(1 + 3);
    expect(await page.evaluate<number>(`document.querySelectorAll("#loss-0 canvas, #metric-0 canvas, #testloss-0 canvas").length`)).toBe(3);
    expect(await page.evaluate<number>(`document.querySelectorAll("#lr-0, section.format-loss, figure.site").length`)).toBe(0);
    expect(markdownReport(old)).not.toContain("Where each format loses most");
  });
});
