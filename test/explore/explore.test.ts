/**
 * `numforge explore --out DIR` writes a static site; headless Chromium (test/support/chromium.ts)
 * opens it as a user would and the test reads what the page rendered: the facts, the kernels'
 * output, the SQNR and the plots' pixels, each held to what numforge computes here in Node.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { propertyPairs } from "../../src/cli/render/describe.ts";
import { exactNumber } from "../../src/cli/render/numbers.ts";
import { loadFormat } from "../../src/dsl/registry.ts";
import { dequantize, quantize } from "../../src/dsl/semantics/tensor.ts";
import { quantizeSamples, samples } from "../../src/explore/analysis.ts";
import { PASTED_SPEC_FILE } from "../../src/explore/spec-text.ts";
import { numforge, numforgeInProcess, ROOT } from "../cli/harness.ts";
import { type Browser, decodePng, launchChromium, type Page, regionContent, serveFolder, type ServedFolder } from "../support/chromium.ts";

const work = mkdtempSync(join(tmpdir(), "numforge-explore-"));
const siteDir = join(work, "site");
let site: ServedFolder;
let browser: Browser;
let page: Page;

const open = (query: string) =>
  browser.open(`${site.url}/index.html?${query}`, { waitFor: "document.body.dataset.kernels === 'done'", timeoutMs: 150_000 });

beforeAll(async () => {
  const written = await numforge(["explore", "--out", siteDir, "--kernels", "e4m3,mxfp8"]);
  expect(written.stderr).toBe("");
  expect(written.code).toBe(0);
  [site, browser] = await Promise.all([serveFolder(siteDir), launchChromium()]);
  page = await open("format=e4m3&compare=e5m2");
}, 240_000);

afterAll(async () => {
  await page?.close();
  await browser?.close();
  await site?.close();
  rmSync(work, { recursive: true, force: true });
});

interface SampleRow {
  readonly input: string;
  readonly codes: Record<string, number>;
  readonly values: Record<string, string>;
}

/** The kernel panel's table: each input and, per target (semantics, wasm, webgpu), the code and value shown. */
const sampleRows = (p: Page) =>
  p.evaluate<SampleRow[]>(`Array.from(document.querySelectorAll("#kernel-samples tbody tr"), (tr) => {
    const cells = Array.from(tr.children);
    const codes = { semantics: parseInt(cells[1].textContent, 16) };
    const values = { semantics: cells[2].textContent };
    for (const td of tr.querySelectorAll("td[data-code]")) codes[td.dataset.target] = Number(td.dataset.code);
    for (const td of tr.querySelectorAll("td[data-target]:not([data-code])")) values[td.dataset.target] = td.textContent;
    return { input: tr.dataset.input, codes, values };
  })`);

/** The codes and values the semantics give for the inputs a table lists. */
function semanticsOf(formatName: string, rows: readonly SampleRow[]) {
  const format = loadFormat(formatName);
  const x = Float32Array.from(rows, (r) => Number(r.input));
  const { codes, meta } = quantize(format, x);
  return { codes: Array.from(codes), values: Array.from(dequantize(format, codes, meta), exactNumber) };
}

describe("numforge explore", () => {
  it("writes the page, its script and the kernel packages asked for, every file in its manifest", () => {
    const manifest = JSON.parse(readFileSync(join(siteDir, "explore-manifest.json"), "utf8")) as { generator: string; files: Record<string, string> };
    expect(manifest.generator).toBe("numforge explore");
    for (const file of ["index.html", "explore.js", "kernels/e4m3/index.js", "kernels/e4m3/wasm/binary.js", "kernels/e4m3/wgsl/index.js", "kernels/mxfp8/index.js"]) {
      expect(manifest.files).toHaveProperty([file]);
      expect(existsSync(join(siteDir, file))).toBe(true);
    }
    expect(Object.keys(manifest.files).some((f) => f.startsWith("kernels/e5m2/"))).toBe(false);
  });

  it("?format=e4m3 shows e4m3's facts, computed in the page, exactly as numforge check prints them", async () => {
    const facts = await page.evaluate<[string, string][]>(
      `Array.from(document.querySelectorAll("#facts-a tr[data-fact]"), (tr) => [tr.dataset.fact, tr.querySelector("td").textContent])`,
    );
    expect(facts).toEqual(propertyPairs(loadFormat("e4m3")));
    expect(facts).toContainEqual(["max finite", "448"]);
    expect(await page.text("#facts-b h2")).toBe("e5m2");
  });

  it("runs e4m3's kernels in the page on wasm and WebGPU, with the semantics' codes and values for every sample", async () => {
    expect(await page.evaluate(`document.querySelector("#kernel-wasm").dataset.target`)).toBe("wasm");
    expect(await page.evaluate(`document.querySelector("#kernel-webgpu").dataset.state`)).toBe("agree");
    const rows = await sampleRows(page);
    expect(rows.map((r) => Number(r.input))).toContainEqual(448);
    const expected = semanticsOf("e4m3", rows);
    for (const target of ["semantics", "wasm", "webgpu"]) {
      expect(rows.map((r) => r.codes[target]), target).toEqual(expected.codes);
      expect(rows.map((r) => r.values[target]), target).toEqual(expected.values);
    }
  });

  it("quantizes the chosen distribution with the SQNR the semantics give for the same samples", async () => {
    const shown = await page.evaluate<string[]>(`["a", "b"].map((s) => document.querySelector("#sqnr-" + s).dataset.sqnr)`);
    const x = samples("normal", 1, 4096);
    expect(shown.map(Number)).toEqual(["e4m3", "e5m2"].map((name) => quantizeSamples(loadFormat(name), x).sqnrDb));
    // A wider scale pushes values past e4m3's 448: the page redraws with the SQNR for that tensor.
    await page.evaluate(`(() => { const s = document.querySelector("#scale"); s.value = "8"; s.dispatchEvent(new Event("input")); })()`);
    const wide = Number(await page.evaluate<string>(`document.querySelector("#sqnr-a").dataset.sqnr`));
    expect(wide).toBe(quantizeSamples(loadFormat("e4m3"), samples("normal", 256, 4096)).sqnrDb);
    expect(await page.evaluate(`location.search`)).toContain("scale=8");
  });

  it("draws every plot: a screenshot holds content in each canvas, in both formats' colours where both are drawn", async () => {
    const rects = await page.evaluate<Record<string, { x: number; y: number; width: number; height: number }>>(
      `Object.fromEntries(Array.from(document.querySelectorAll("canvas"), (c) => { const r = c.getBoundingClientRect(); return [c.id, { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height }]; }))`,
    );
    expect(Object.keys(rects).sort()).toEqual(["plot-distribution", "plot-error", "plot-spacing", "plot-values"]);
    const image = decodePng(await page.screenshot({ fullPage: true }));
    for (const [id, rect] of Object.entries(rects)) {
      const content = regionContent(image, rect);
      expect(content.colours, id).toBeGreaterThan(8);
      expect(content.nonBackground, id).toBeGreaterThan(0.02);
    }
    // Series colours (page/main.ts): e4m3 #1f6fb4, e5m2 #e8710a, counted with some tolerance for antialiasing.
    const near = (rgb: readonly number[], rect: { x: number; y: number; width: number; height: number }) => {
      let n = 0;
      for (let y = Math.floor(rect.y); y < rect.y + rect.height; y++)
        for (let x = Math.floor(rect.x); x < rect.x + rect.width; x++) {
          const i = (y * image.width + x) * 4;
          if (Math.abs(image.rgba[i] - rgb[0]) + Math.abs(image.rgba[i + 1] - rgb[1]) + Math.abs(image.rgba[i + 2] - rgb[2]) < 60) n++;
        }
      return n;
    };
    for (const id of ["plot-values", "plot-spacing", "plot-error"]) {
      expect(near([0x1f, 0x6f, 0xb4], rects[id]), `${id} e4m3`).toBeGreaterThan(100);
      expect(near([0xe8, 0x71, 0x0a], rects[id]), `${id} e5m2`).toBeGreaterThan(100);
    }
  });

  it("a pasted spec is checked with the CLI's schema and messages; a valid one replaces the format", async () => {
    const paste = (text: string) =>
      page.evaluate<string>(`(() => {
        document.querySelector("#spec-text").value = ${JSON.stringify(text)};
        document.querySelector("#spec-use").click();
        return document.querySelector("#spec-error").textContent;
      })()`);
    const e4m3 = readFileSync(join(ROOT, "formats", "e4m3.json"), "utf8");
    const malformed = [
      e4m3.replace(/,\s*"element"/, ' "element"'), // not JSON
      e4m3.replace('"bias": 7', '"bias": 7, "bais": 7'), // a field the schema does not know
      e4m3.replace('"name": "e4m3"', '"name": "mine"').replace('"bias": 7', '"bias": 200'), // resolve's range rule
      e4m3, // a built-in's name
    ];
    for (const [i, text] of malformed.entries()) {
      const file = join(work, `pasted-${i}.json`);
      writeFileSync(file, text);
      const cli = await numforgeInProcess(["check", file]);
      expect(cli.code).toBe(2);
      const shown = await paste(text);
      expect(shown.startsWith(`${PASTED_SPEC_FILE}: `), shown).toBe(true);
      expect(shown.slice(PASTED_SPEC_FILE.length)).toBe(cli.stderr.trim().slice(file.length));
    }
    const mine = e4m3.replace('"name": "e4m3"', '"name": "e4m3-sat"').replace('"bias": 7', '"bias": 8');
    expect(await paste(mine)).toBe("ok: e4m3-sat is a valid format");
    await page.waitFor(`document.body.dataset.kernels === "done"`);
    const facts = await page.evaluate<[string, string][]>(`Array.from(document.querySelectorAll("#facts-a tr[data-fact]"), (tr) => [tr.dataset.fact, tr.querySelector("td").textContent])`);
    writeFileSync(join(work, "e4m3-sat.json"), mine);
    expect(facts).toEqual(propertyPairs(loadFormat(join(work, "e4m3-sat.json"))));
    expect(await page.evaluate(`document.querySelector("#kernel-wasm").dataset.state`)).toBe("absent");
    expect(page.consoleErrors).toEqual([]);
  });

  it("a block-scaled format (mxfp8) runs its kernels with their scales, as the semantics", async () => {
    const mx = await open("format=mxfp8&compare=none");
    try {
      expect(await mx.text("#facts-a h2")).toBe("mxfp8");
      expect(await mx.evaluate(`document.querySelector("#facts-b").children.length`)).toBe(0);
      const rows = await sampleRows(mx);
      const expected = semanticsOf("mxfp8", rows);
      for (const target of ["wasm", "webgpu"]) {
        expect(rows.map((r) => r.codes[target]), target).toEqual(expected.codes);
        expect(rows.map((r) => r.values[target]), target).toEqual(expected.values);
      }
      expect(mx.consoleErrors).toEqual([]);
    } finally {
      await mx.close();
    }
  });

  it("logs no console errors", () => {
    expect(page.consoleErrors).toEqual([]);
  });
});

describe("numforge explore --out", () => {
  const explore = (out: string, kernels = "none") => numforgeInProcess(["explore", "--out", out, "--kernels", kernels]);

  it("refuses a non-empty folder it did not write, and changes nothing in it", async () => {
    const mine = join(work, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "index.html"), "my own page");
    const r = await explore(mine);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a site numforge explore wrote");
    expect(readFileSync(join(mine, "index.html"), "utf8")).toBe("my own page");
  });

  it("rewrites its own site, keeping files the user added, and refuses once a file of the site was edited", async () => {
    const out = join(work, "again");
    expect((await explore(out)).code).toBe(0);
    writeFileSync(join(out, "notes.txt"), "mine");
    expect((await explore(out)).code).toBe(0);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine");
    writeFileSync(join(out, "index.html"), "edited");
    const r = await explore(out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(out, "index.html")}: was changed since numforge explore wrote it`);
    expect(readFileSync(join(out, "index.html"), "utf8")).toBe("edited");
  });

  it("refuses --kernels naming a format that is not built in", async () => {
    const r = await explore(join(work, "unused"), "e4m3,e4m4");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--kernels names "e4m4", which is not a built-in format`);
    expect(existsSync(join(work, "unused"))).toBe(false);
  });
});
