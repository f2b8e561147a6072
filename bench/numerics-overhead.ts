/**
 * `numerics-overhead` section (issue 18 item 1): what recording numerics at the default interval
 * (about 10 samples per run, docs/numerics.md) adds to a compare run, timed inside the process —
 * NumericsRecorder.quantize's time minus the recipe's own quantize inside it is the work recording
 * adds (copies, measure, the scales' second encode). Both sides are times on the same process, so
 * on a shared machine the ratio holds where wall-clock A/B runs do not. The run is the one of
 * `numforge compare --formats fp32,e4m3,mxfp8 --steps-per-epoch 50 --epochs 1` (ResNet width 8,
 * batch 32, the mnist package's digits, wasm backend, one thread), per recipe.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import * as Effect from "effect/Effect";
import { createRegistry } from "../src/dsl/registry.ts";
import { createRecipeRegistry } from "../src/recipes/load.ts";
import { RecipePrecision } from "../src/recipes/precision.ts";
import { createBackend } from "../src/runtime/backends/select.ts";
import { runComparison } from "../src/runtime/compare/comparison.ts";
import type { ModelSettings } from "../src/runtime/compare/settings.ts";
import { NumericsRecorder } from "../src/runtime/numerics/recorder.ts";
import { fixed, type Table } from "./table.ts";

const RECIPES = ["fp32", "e4m3", "mxfp8"] as const;
const STEPS = 50;

/** Wraps the two quantize methods with timers; returns the seconds recording added so far. */
function instrument(): () => number {
  let inRecorder = false;
  let recorder = 0;
  let inner = 0;
  const recorderQuantize = NumericsRecorder.prototype.quantize;
  NumericsRecorder.prototype.quantize = function (this: NumericsRecorder, ...args: Parameters<typeof recorderQuantize>) {
    const t = performance.now();
    inRecorder = true;
    try {
      recorderQuantize.apply(this, args);
    } finally {
      inRecorder = false;
      recorder += performance.now() - t;
    }
  };
  const innerQuantize = RecipePrecision.prototype.quantize;
  RecipePrecision.prototype.quantize = function (this: RecipePrecision, ...args: Parameters<typeof innerQuantize>) {
    if (!inRecorder) return innerQuantize.apply(this, args);
    const t = performance.now();
    try {
      innerQuantize.apply(this, args);
    } finally {
      inner += performance.now() - t;
    }
  };
  return () => (recorder - inner) / 1000;
}

export async function numericsOverheadSection(): Promise<Table> {
  const added = instrument();
  const backend = await createBackend("wasm");
  const recipes = createRecipeRegistry(createRegistry());
  const settings: ModelSettings = { model: "resnet", scale: 1, width: 8, epochs: 1, batchSize: 32, stepsPerEpoch: STEPS, optimizer: "sgd", learningRate: 0.2, data: null };
  const rows: string[][] = [];
  for (const name of RECIPES) {
    const out = mkdtempSync(join(tmpdir(), "numforge-bench-numerics-"));
    const before = added();
    const t = performance.now();
    const results = runComparison({
      settings: { models: [settings], backend: "wasm" }, recipes: [Effect.runSync(recipes.get(name))], seeds: [0], outDir: out, backend, numforgeVersion: "bench",
    });
    const total = (performance.now() - t) / 1000;
    const recording = added() - before;
    rmSync(out, { recursive: true, force: true });
    const samples = results.runs[0].numerics?.steps.length ?? 0;
    rows.push([name, String(samples), fixed(total, 1), fixed(recording, 2), `${fixed((100 * recording) / total, 1)}%`, `+${fixed((100 * recording) / (total - recording), 1)}%`]);
  }
  return {
    title: `Recording numerics: the time it adds to a ${STEPS}-step ResNet run (default interval, wasm, one thread)`,
    header: ["recipe", "samples", "run s", "recording s", "share of run", "vs not recording"],
    rows,
    notes: [
      "recording s: NumericsRecorder.quantize's time minus the recipe's quantize inside it (copies, statistics, the scales' second encode)",
      "the default takes ~10 samples per run whatever its length, so a longer run pays a smaller share; --numerics-every 0 records nothing",
    ],
  };
}
