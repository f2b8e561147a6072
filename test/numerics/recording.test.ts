/**
 * Numerics recorded during training (src/runtime/numerics/recorder.ts through compare): they never
 * change a training number, they cover every GEMM operand site of every recipe with fp32 beside the
 * formats, and they hold each scaling kind's scales.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import type { KernelBackend } from "../../src/runtime/backends/js.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { runComparison } from "../../src/runtime/compare/comparison.ts";
import type { ResultsFile, RunResult } from "../../src/runtime/compare/results.ts";
import { buildSchedule, type ComparisonSettings } from "../../src/runtime/compare/settings.ts";
import type { ScaleSummary } from "../../src/runtime/numerics/types.ts";
import { writeIdxFixture } from "../compare/fixtures.ts";

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `numforge-numerics-${label}-`));
const recipes = createRecipeRegistry(createRegistry());
const RECIPES = ["fp32", "e4m3", "fp8-hybrid", "s2fp8", "mxfp8", "shiftquant4"];

describe("numerics recorded during training", () => {
  const data = tmp("idx");
  const settings: ComparisonSettings = {
    models: [{ model: "resnet", scale: 1, width: 2, epochs: 2, batchSize: 16, stepsPerEpoch: 4, optimizer: "sgd", learningRate: 0.1, data }],
    backend: "wasm",
  };
  let backend: KernelBackend;
  let off: ResultsFile;
  let on: ResultsFile;
  const run = (results: ResultsFile, recipe: string): RunResult => results.runs.find((r) => r.recipe === recipe)!;

  beforeAll(async () => {
    writeIdxFixture(data, 160, 32);
    backend = await createBackend("wasm");
    const compare = (numericsEvery: number) => runComparison({
      settings, recipes: RECIPES.map((name) => Effect.runSync(recipes.get(name))), seeds: [0], outDir: tmp(`every${numericsEvery}`), backend, numforgeVersion: "test", numericsEvery,
    });
    off = compare(0);
    on = compare(3);
  }, 240_000);

  it("change no training number: losses, test metrics and loss scales are bit for bit those of a run that records nothing", () => {
    for (const name of RECIPES) {
      const { numerics, wallSeconds: _a, ...recorded } = run(on, name);
      const { numerics: none, wallSeconds: _b, ...plain } = run(off, name);
      expect(none).toBeUndefined();
      expect(numerics).toBeDefined();
      expect(recorded).toEqual(plain);
    }
  });

  it("sample every N steps and give the learning rate of every step", () => {
    const schedule = buildSchedule(settings.models[0], 8);
    for (const name of RECIPES) {
      const n = run(on, name).numerics!;
      expect(n.every).toBe(3);
      expect(n.steps).toEqual([0, 3, 6]);
      expect(n.learningRate).toEqual(Array.from({ length: 8 }, (_, s) => Number(schedule(s).toPrecision(6))));
      for (const site of n.sites) expect(site.samples.map((s) => s.step)).toEqual([0, 3, 6]);
    }
  });

  it("cover every GEMM operand (weights, activations, errors) of every layer, fp32 beside each format", () => {
    const keys = (name: string) => new Set(run(on, name).numerics!.sites.map((s) => `${s.role}@${s.site}`));
    const fp32 = run(on, "fp32").numerics!;
    expect(new Set(fp32.sites.map((s) => s.role))).toEqual(new Set(["weight", "activation", "error"]));
    expect(fp32.sites.every((s) => s.format === null && s.range === null)).toBe(true);
    expect(fp32.sites.flatMap((s) => s.samples).every((s) => s.underflow === 0 && s.saturated === 0 && s.sqnr === "Infinity")).toBe(true);
    for (const name of RECIPES) expect(keys(name)).toEqual(keys("fp32"));
    // Step 0 sees the same data and initial weights in every run: the first layer's input is the same tensor.
    const stem = (name: string) => run(on, name).numerics!.sites.find((s) => s.site === "stem" && s.role === "activation")!.samples[0].histogram;
    for (const name of RECIPES.filter((n) => n !== "mxfp8")) expect(stem(name)).toEqual(stem("fp32"));
    // MX blocks run along each GEMM's K, so mxfp8 quantizes the stem's im2col matrix: the same values,
    // each pixel repeated once per patch it falls in (at least once), and the zeros of the padding.
    const [mx, plain] = [stem("mxfp8"), stem("fp32")];
    expect(mx.binade).toBe(plain.binade);
    expect(mx.counts.map((c) => c > 0)).toEqual(plain.counts.map((c) => c > 0));
    mx.counts.forEach((c, i) => expect(c).toBeGreaterThanOrEqual(plain.counts[i]));
    const total = (h: typeof mx) => h.counts.reduce((a, b) => a + b, 0);
    expect(total(mx)).toBeGreaterThan(total(plain));
    expect(mx.zeros).toBeGreaterThan(plain.zeros);
  });

  it("name the format and its range at each site, and measure a loss of precision there", () => {
    const e4m3 = run(on, "e4m3").numerics!;
    for (const site of e4m3.sites) {
      expect(site.format).toBe("e4m3");
      expect(site.range).toEqual({ minLog2: -9, minNormalLog2: -6, maxLog2: Math.log2(448) });
      for (const s of site.samples) {
        expect(s.underflow).toBeGreaterThanOrEqual(0);
        expect(s.underflow + s.saturated).toBeLessThanOrEqual(1);
      }
    }
    const weights = e4m3.sites.filter((s) => s.role === "weight").flatMap((s) => s.samples);
    expect(weights.every((s) => typeof s.sqnr === "number" && s.sqnr > 15 && s.sqnr < 60)).toBe(true);
  });

  it("record each scaling kind's scales: S2FP8 α and β, MX block scales, ShiftQuant group exponents, delayed amax", () => {
    const scales = (name: string) => run(on, name).numerics!.sites.find((s) => s.role === "activation" && s.site === "stem")!.samples[1].scales!;
    const s2fp8 = scales("s2fp8");
    expect(typeof s2fp8.alpha).toBe("number");
    expect(typeof s2fp8.beta).toBe("number");
    const block = scales("mxfp8").blockScales as ScaleSummary;
    expect(block.of).toBe("log2");
    expect(block.count).toBeGreaterThan(1);
    expect(block.histogram.counts.reduce((a, b) => a + b, 0)).toBe(block.count);
    const groups = scales("shiftquant4").groupExponent as ScaleSummary;
    expect(groups.of).toBe("value");
    expect(run(on, "e4m3").numerics!.sites[0].samples[0].scales).toBeUndefined();
    const hybrid = run(on, "fp8-hybrid").numerics!.sites.flatMap((s) => s.samples.map((x) => x.scales)).filter((x) => x !== undefined);
    expect(hybrid.length).toBeGreaterThan(0);
    expect(hybrid.some((x) => Object.keys(x!).some((k) => k.startsWith("state.")))).toBe(true);
  });
});
