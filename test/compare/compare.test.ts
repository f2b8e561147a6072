import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import type { ResolvedRecipe } from "../../src/recipes/types.ts";
import type { KernelBackend } from "../../src/runtime/backends/js.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { runComparison, runComparisonInWorkers, type ComparisonEvent } from "../../src/runtime/compare/comparison.ts";
import type { ResultsFile } from "../../src/runtime/compare/results.ts";
import type { ComparisonSettings } from "../../src/runtime/compare/settings.ts";
import { numforge, numforgeInProcess, STACK_TRACE } from "../cli/harness.ts";
import { writeIdxFixture } from "./fixtures.ts";

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `numforge-compare-${label}-`));
const recipes = createRecipeRegistry(createRegistry());
const recipe = (name: string): ResolvedRecipe => Effect.runSync(recipes.get(name));

describe("numforge compare end to end", () => {
  const data = tmp("idx");
  const out = join(tmp("e2e"), "out");
  let run: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    writeIdxFixture(data, 3200, 400);
    // 2 recipes × 100 steps of 32 digits on a width-4 ResNet.
    run = await numforgeInProcess(["compare", "--formats", "fp32,s2fp8", "--width", "4", "--epochs", "2", "--steps-per-epoch", "50", "--data", data, "--out", out, "--backend", "wasm"]);
  });

  it("learns: test accuracy far above chance for both recipes", () => {
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsFile;
    expect(results.runs.map((r) => r.recipe)).toEqual(["fp32", "s2fp8"]);
    for (const r of results.runs) {
      expect(r.diverged).toBeNull();
      expect(r.finalMetric!).toBeGreaterThan(0.6); // chance is 0.1
      expect(r.losses.length).toBe(100);
      expect(r.epochs.map((e) => e.epoch)).toEqual([0, 1]);
      expect(r.losses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(r.losses.slice(0, 10).reduce((a, b) => a + b) / 10);
      expect(r.wallSeconds).toBeGreaterThan(0);
      expect(r.model).toBe("resnet");
      expect(r.seed).toBe(0);
    }
    expect(results.settings).toEqual({
      models: [{ model: "resnet", scale: 1, width: 4, epochs: 2, stepsPerEpoch: 50, batchSize: 32, optimizer: "sgd", learningRate: 0.2, data }],
      backend: "wasm",
    });
    expect(results.metrics).toEqual({ resnet: [{ key: "accuracy", label: "test acc %", higherIsBetter: true, percent: true }] });
  });

  it("writes report.md with the paper-style table and report.html with inlined uPlot curves", () => {
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toMatch(/\| recipe \| test acc % \(mean ± std\) \| Δ vs fp32 \(points\) \| diverged runs \|/);
    expect(md).toMatch(/\| fp32 \| \d+\.\d\d \| — \| 0\/1 \|/);
    expect(md).toMatch(/\| s2fp8 \| \d+\.\d\d \| [+−]\d+\.\d\d \| 0\/1 \|/);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("<!doctype html>");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // self-contained
    expect(html).toContain("uPlot");
    const json = /<script id="comparison-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1];
    const charts = JSON.parse(json) as { models: { model: string; steps: number[]; epochs: number[]; series: { label: string; loss: number[]; metric: number[] }[] }[] };
    expect(charts.models.map((m) => m.model)).toEqual(["resnet"]);
    const data = charts.models[0];
    expect(data.series.map((s) => s.label)).toEqual(["fp32 seed 0", "s2fp8 seed 0"]);
    expect(data.steps.length).toBe(100);
    expect(data.series[0].metric.length).toBe(2);
    const scripts = [...html.matchAll(/<script>(.*?)<\/script>/gs)].map((m) => m[1]);
    for (const source of scripts) expect(() => new Function(source)).not.toThrow(); // parses
  });

  it("prints the table on stdout and progress on stderr", () => {
    expect(run.stdout).toContain("| fp32 |");
    expect(run.stdout).toContain(`wrote ${join(out, "results.json")}`);
    expect(run.stderr).toContain("[1/2] fp32 seed 0: training, 100 steps");
    expect(run.stderr).toMatch(/\[2\/2\] s2fp8 seed 0: test acc \d+\.\d\d%, 100 steps/);
  });

  it("the same command again skips the finished runs; --json prints results.json and nothing else", async () => {
    const again = await numforgeInProcess(["compare", "--formats", "fp32,s2fp8", "--width", "4", "--epochs", "2", "--steps-per-epoch", "50", "--data", data, "--out", out, "--backend", "wasm", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("fp32 seed 0: already finished, skipped");
    expect(again.stderr).not.toContain("training");
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(readFileSync(join(out, "results.json"), "utf8")));
  });
});

describe("numforge compare --model all", () => {
  const out = join(tmp("all"), "out");
  let run: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    // The three families at a tenth of their data, 5 steps each: the plumbing, not the learning
    // (each family's own tests show it learns).
    run = await numforgeInProcess(["compare", "--model", "all", "--formats", "fp32,s2fp8", "--scale", "0.1", "--steps-per-epoch", "5", "--width", "2", "--out", out, "--backend", "wasm"]);
  });

  it("trains every (model, recipe) and records each model's metrics and settings", () => {
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsFile;
    expect(results.runs.map((r) => `${r.model}/${r.recipe}`)).toEqual(["resnet/fp32", "resnet/s2fp8", "transformer/fp32", "transformer/s2fp8", "ncf/fp32", "ncf/s2fp8"]);
    expect(results.settings.models.map((m) => [m.model, m.epochs, m.batchSize, m.optimizer])).toEqual([
      ["resnet", 1, 32, "sgd"], ["transformer", 3, 32, "adam"], ["ncf", 5, 256, "adam"],
    ]);
    expect(Object.fromEntries(Object.entries(results.metrics).map(([m, list]) => [m, list.map((x) => x.key)]))).toEqual({
      resnet: ["accuracy"], transformer: ["wordAccuracy", "per"], ncf: ["hr10", "ndcg10"],
    });
    for (const r of results.runs) {
      expect(r.diverged).toBeNull();
      expect(Object.keys(r.finalMetrics!)).toEqual(results.metrics[r.model].map((m) => m.key));
      expect(r.epochs.length).toBe(results.settings.models.find((m) => m.model === r.model)!.epochs);
    }
  });

  it("report.md opens with the combined table: recipes as rows, each model's metric and Δ as columns", () => {
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toMatch(/\| recipe \| resnet: test acc % \| Δ \| transformer: word acc % \| Δ \| ncf: HR@10 % \| Δ \|/);
    expect(md).toMatch(/\| fp32 \| \d+\.\d\d \| — \| \d+\.\d\d \| — \| \d+\.\d\d \| — \|/);
    expect(md).toMatch(/\| s2fp8 \| \d+\.\d\d \| [+−]\d+\.\d\d \| \d+\.\d\d \| [+−]\d+\.\d\d \| \d+\.\d\d \| [+−]\d+\.\d\d \|/);
    expect(md).toMatch(/\| recipe \| word acc % \(mean ± std\) \| Δ vs fp32 \(points\) \| PER % \| diverged runs \|/);
    const html = readFileSync(join(out, "report.html"), "utf8");
    const charts = JSON.parse(/<script id="comparison-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]) as { models: { model: string }[] };
    expect(charts.models.map((m) => m.model)).toEqual(["resnet", "transformer", "ncf"]);
    expect(run.stderr).toContain("[3/6] transformer fp32 seed 0: training");
  });
});

describe("a killed comparison resumes", () => {
  const data = tmp("small-idx");
  const settings: ComparisonSettings = {
    models: [{ model: "resnet", scale: 1, width: 3, epochs: 2, batchSize: 16, stepsPerEpoch: 8, optimizer: "sgd", learningRate: 0.1, data }],
    backend: "wasm",
  };
  let backend: KernelBackend;
  beforeAll(async () => {
    writeIdxFixture(data, 320, 64);
    backend = await createBackend("wasm");
  });
  const compare = (outDir: string, hooks: { afterCheckpoint?: (info: { recipe: string; epoch: number }) => void } = {}) => {
    const events: ComparisonEvent[] = [];
    const results = runComparison({
      settings, recipes: [recipe("fp32"), recipe("fp8-hybrid")], seeds: [0], outDir, backend, numforgeVersion: "test",
      onEvent: (e) => events.push(e), ...hooks,
    });
    return { results, events };
  };
  const steps = (events: ComparisonEvent[], name: string) => events.filter((e) => e.kind === "step" && e.recipe === name).length;

  it("skips finished runs, continues the interrupted one from its checkpoint, and ends with the same numbers as an uninterrupted run", () => {
    const outDir = tmp("resume");
    // The "kill": after the first epoch checkpoint of the second run.
    expect(() => compare(outDir, { afterCheckpoint: (info) => { if (info.recipe === "fp8-hybrid" && info.epoch === 1) throw new Error("killed"); } })).toThrow("killed");
    const partial = JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")) as ResultsFile;
    expect(partial.runs.map((r) => r.recipe)).toEqual(["fp32"]);
    expect(readdirSync(join(outDir, "checkpoints"))).toEqual(["resnet-fp8-hybrid-seed0.ckpt"]);

    const resumed = compare(outDir);
    expect(resumed.events.filter((e) => e.kind === "run-skip").map((e) => (e as { recipe: string }).recipe)).toEqual(["fp32"]);
    expect(resumed.events.find((e) => e.kind === "run-start")).toMatchObject({ recipe: "fp8-hybrid", resumedAtEpoch: 1 });
    expect(steps(resumed.events, "fp32")).toBe(0);
    expect(steps(resumed.events, "fp8-hybrid")).toBe(8); // only the second epoch
    expect(readdirSync(join(outDir, "checkpoints"))).toEqual([]);

    const straight = compare(tmp("straight"));
    const strip = (r: ResultsFile) => r.runs.map(({ wallSeconds: _w, ...rest }) => rest);
    expect(strip(resumed.results)).toEqual(strip(straight.results));
    for (const run of resumed.results.runs) {
      expect(run.losses.length).toBe(16);
      expect(run.epochs.length).toBe(2);
    }
    expect(existsSync(join(outDir, "results.json"))).toBe(true);
  });

  it("worker threads (--jobs 2) train the same runs as one thread", async () => {
    const outDir = tmp("jobs");
    const events: ComparisonEvent[] = [];
    const parallel = await runComparisonInWorkers({
      settings, recipes: [recipe("fp32"), recipe("fp8-hybrid")], seeds: [0], outDir, numforgeVersion: "test", backendName: "wasm", jobs: 2,
      onEvent: (e) => events.push(e),
    });
    const straight = compare(tmp("one-thread"));
    const byRecipe = (r: ResultsFile) => [...r.runs].sort((a, b) => a.recipe.localeCompare(b.recipe)).map(({ wallSeconds: _w, ...rest }) => rest);
    expect(byRecipe(parallel)).toEqual(byRecipe(straight.results));
    expect(steps(events, "fp8-hybrid")).toBe(16);
    expect(JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")).runs).toHaveLength(2);
  });

  it("the webgpu backend trains the same runs as wasm, its GEMMs on the GPU", async () => {
    const gpu = await createBackend("webgpu");
    try {
      const onGpu = runComparison({
        settings: { ...settings, backend: "webgpu" }, recipes: [recipe("fp32"), recipe("fp8-hybrid")], seeds: [0], outDir: tmp("webgpu"), backend: gpu, numforgeVersion: "test",
      });
      const onCpu = compare(tmp("wasm-for-webgpu")).results;
      expect(onGpu.runs.map((r) => r.backend)).toEqual(["webgpu", "webgpu"]);
      for (const [k, gpuRun] of onGpu.runs.entries()) {
        const cpuRun = onCpu.runs[k];
        expect(gpuRun.recipe).toBe(cpuRun.recipe);
        expect(gpuRun.losses).toHaveLength(16);
        // Both sum each dot product in k order here (these depths fit one wasm k-block), so the losses
        // agree to rounding; deeper GEMMs would sum in another order and drift apart slowly.
        gpuRun.losses.forEach((loss, step) => expect(Math.abs(loss - cpuRun.losses[step]), `${gpuRun.recipe} step ${step}`).toBeLessThan(1e-3 * cpuRun.losses[step]));
        expect(Math.abs(gpuRun.finalMetric! - cpuRun.finalMetric!)).toBeLessThanOrEqual(0.05);
      }
    } finally {
      await gpu.close?.();
    }
  }, 300_000);

  it("a diverging recipe is recorded as diverged at its step while the others finish", () => {
    const dir = tmp("diverge");
    const file = join(dir, "overflow.json");
    writeFileSync(file, JSON.stringify({
      name: "overflow", summary: "fp16 errors under a loss scale that overflows them",
      roles: { weights: "fp32", activations: "fp32", errors: "fp16", weightGradients: "fp32", optimizerState: "fp32" },
      master: "fp32", lossScaling: { kind: "static", scale: 1e30 },
    }));
    const results = runComparison({
      settings, recipes: [Effect.runSync(recipes.get(file)), recipe("fp32")], seeds: [0], outDir: join(dir, "out"), backend, numforgeVersion: "test",
    });
    const [bad, good] = results.runs;
    expect(bad.recipe).toBe("overflow");
    expect(bad.diverged).toEqual({ step: 1, loss: "NaN" });
    expect(bad.finalMetric).toBeNull();
    expect(bad.losses.length).toBe(1);
    expect(good.diverged).toBeNull();
    expect(good.losses.length).toBe(16);
    expect(readFileSync(join(dir, "out", "results.json"), "utf8")).toContain('"loss": "NaN"');
  });
});

describe("numforge compare refuses bad input with exit 2 and one line", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["an unknown recipe", ["--formats", "fp32,e5m3"], /unknown recipe or format "e5m3"; did you mean .*e5m2/],
    ["a bad epoch count", ["--epochs", "0"], /--epochs must be an integer in 1\.\.1000/],
    ["an unknown backend", ["--backend", "gpu"], /unknown backend "gpu"; backends: wasm, js, webgpu, reference/],
    ["augmentation for a model without images", ["--model", "ncf", "--augment-shift", "2"], /--augment-shift translates digits: it applies to --model resnet \(or all\)/],
    ["a bad augmentation shift", ["--augment-shift", "9"], /--augment-shift must be an integer in 0\.\.8/],
    ["an unknown model", ["--model", "vgg"], /unknown model "vgg"; models: resnet.*, all/],
    ["--data with several models", ["--model", "all", "--data", "x"], /--data names one model's data; use it with a single --model/],
    ["a bad scale", ["--scale", "0"], /--scale must be a number in 0\.01\.\.64/],
    ["an unknown flag", ["--epoch", "3"], /unknown flag "--epoch" \(did you mean --epochs\?\)/],
    ["a repeated recipe", ["--formats", "fp32,fp32"], /--formats names fp32 twice/],
    ["a missing IDX folder", ["--data", "/nonexistent/mnist"], /\/nonexistent\/mnist\/train-images-idx3-ubyte: not found/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await numforgeInProcess(["compare", ...args, "--out", tmp("bad")]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
    });
  }

  it("--backend webgpu where no WebGPU adapter opens: exit 2, the backend and what to install", async () => {
    // No Vulkan driver for the loader to find: Dawn reports no adapter (and prints its own warnings first).
    const r = await numforge(["compare", "--formats", "fp32", "--backend", "webgpu", "--steps-per-epoch", "1", "--out", tmp("no-adapter")], "", { VK_ICD_FILENAMES: "/nonexistent/icd.json" });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^--backend webgpu: webgpu backend: WGSL target: no WebGPU adapter found; .*scripts\/setup-webgpu\.sh/);
    expect(r.stdout).toBe("");
  }, 120_000);

  it("a recipe file with a bad field: the file and the JSON pointer (a real process, no stack trace)", async () => {
    const dir = tmp("recipe");
    const file = join(dir, "broken.json");
    writeFileSync(file, JSON.stringify({ name: "broken", summary: "x", master: "fp32", lossScaling: { kind: "dynamic", backoffFactor: 2 }, roles: { weights: "e5m2", activations: "e5m2", errors: "e5m2", weightGradients: "fp32", optimizerState: "fp32" } }));
    const r = await numforge(["compare", "--formats", `fp32,${file}`, "--out", join(dir, "out")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${file}: /lossScaling/backoffFactor: must be < 1 (got 2)`);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it("an --out folder holding a comparison with other settings", async () => {
    const dir = tmp("other");
    const models = [{ model: "resnet", scale: 1, width: 8, epochs: 9, batchSize: 32, stepsPerEpoch: null, optimizer: "sgd", learningRate: 0.2, data: null }];
    writeFileSync(join(dir, "results.json"), JSON.stringify({ format: "numforge-comparison/2", settings: { models, backend: "wasm" }, settingsFingerprint: "x", recipes: {}, runs: [] }));
    const r = await numforgeInProcess(["compare", "--formats", "fp32", "--out", dir, "--backend", "wasm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds a comparison with other settings \(epochs 1 \(the folder's: 9\)\); pass another --out/);
  });

  it("an --out folder holding results of an older layout", async () => {
    const dir = tmp("older");
    writeFileSync(join(dir, "results.json"), JSON.stringify({ format: "numforge-comparison/1", settings: {}, runs: [] }));
    const r = await numforgeInProcess(["compare", "--formats", "fp32", "--out", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/results\.json: holds results in an older layout \(numforge-comparison\/1\); pass another --out/);
  });
});
