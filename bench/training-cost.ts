/**
 * `training-cost` section (issue 17 item 3): each shipped quantized recipe's training step time
 * divided by fp32's, on the wasm backend, at ResNet widths 4 and 16 — the goal is ≤ 1.2×. The
 * step is training.ts's (forward, loss, backward, Adam, with the recipe's quantizations); each
 * ratio is paired (measure.ts pairedRatio: every recipe window timed between two fp32 windows of
 * as many steps, median of PAIRS), so load drifting on a shared machine cancels to first order.
 * NUMFORGE_BENCH_RECIPES=a,b limits the recipes; recipes that scale the loss (posit8) are not
 * modelled by this step and are listed as such.
 */
import { readdirSync } from "node:fs";
import * as Effect from "effect/Effect";
import { createRegistry } from "../src/dsl/registry.ts";
import { createRecipeRegistry } from "../src/recipes/load.ts";
import { createBackend } from "../src/runtime/backends/select.ts";
import { batches, type Batch } from "../src/runtime/data/batches.ts";
import { loadMnist } from "../src/runtime/data/mnist.ts";
import { measure, pairedRatio } from "./measure.ts";
import { fixed, times, type Table } from "./table.ts";
import { numforgeTrainer, resnetOfWidth } from "./training.ts";

const BATCH_SIZE = 32;
const WIDTHS = [4, 16] as const;
const BATCH_COUNT = 8;
const WINDOW_SECONDS = 0.25;
/** Steps per window at least: at width 16 a 0.25 s window held 2–4 steps, and one slow step moved a ratio by ±0.3. */
const MIN_WINDOW_STEPS = 6;
const PAIRS = 7;
const GOAL = 1.2;

export async function trainingCostSection(): Promise<Table> {
  const data = loadMnist();
  const [channels] = data.train.sampleShape;
  const batchList: Batch[] = [];
  for (const b of batches(data.train, BATCH_SIZE, { seed: 0, epoch: 0, dropLast: true })) {
    if (batchList.length === BATCH_COUNT) break;
    batchList.push(b);
  }
  const wasm = await createBackend("wasm");
  const registry = createRecipeRegistry(createRegistry());
  const recipe = (name: string) => Effect.runSync(registry.get(name));
  const shipped = readdirSync(new URL("../recipes/", import.meta.url))
    .filter((f) => f.endsWith(".json") && f !== "recipe.schema.json" && f !== "fp32.json")
    .map((f) => f.slice(0, -".json".length))
    .sort();
  const only = process.env.NUMFORGE_BENCH_RECIPES?.split(",").filter((s) => s !== "");
  const names = only === undefined ? shipped : shipped.filter((n) => only.includes(n));
  const rows: string[][] = [];
  const skipped: string[] = [];
  for (const w of WIDTHS) {
    const config = resnetOfWidth(w, channels, data.train.classes);
    const fp32 = numforgeTrainer("fp32", wasm, recipe("fp32"), config, batchList, "fp32");
    fp32.step();
    const fp32Step = measure([{ name: "fp32", run: () => void fp32.step() }], { runs: 5, warmupRuns: 0, warmupMs: 0 }).get("fp32") ?? Number.NaN;
    const steps = Math.max(MIN_WINDOW_STEPS, Math.round(WINDOW_SECONDS / fp32Step));
    const window = (t: { step: () => number }) => ({ name: "w", run: () => { for (let s = 0; s < steps; s++) t.step(); } });
    for (const name of names) {
      const r = recipe(name);
      if (r.lossScaling.kind !== "none") {
        if (w === WIDTHS[0]) skipped.push(`${name} (loss scaling ${r.lossScaling.kind})`);
        continue;
      }
      const trainer = numforgeTrainer(name, wasm, r, config, batchList, "fp32");
      for (let s = 0; s < 3; s++) trainer.step(); // compiles the recipe's kernels, warms them
      const ratio = pairedRatio(window(fp32), window(trainer), PAIRS);
      rows.push([`w${w}`, name, fixed((1000 * fp32Step), 1), fixed(1000 * fp32Step * ratio, 1), times(ratio), ratio <= GOAL ? "met" : "not met"]);
    }
  }
  return {
    title: `Training step time of each shipped quantized recipe vs fp32, ResNet on MNIST digits, batch ${BATCH_SIZE}, wasm backend, 1 thread (paired, median of ${PAIRS})`,
    header: ["width", "recipe", "fp32 ms/step", "recipe ms/step", "vs fp32", `≤ ${GOAL}×`],
    rows,
    notes: [
      "ms/step: fp32's from 5 warm steps, the recipe's = fp32's × the paired ratio; the ratio is what the goal is about",
      ...(skipped.length > 0 ? [`not measured: ${skipped.join(", ")} (this step does not model loss scaling)`] : []),
    ],
  };
}
