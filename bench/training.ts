/**
 * `training` section: images/s of whole training steps of the ResNet (forward, softmax
 * cross-entropy, backward, Adam) at batch 32 on MNIST digits, for numforge at fp32 on the js,
 * wasm and webgpu backends (webgpu where an adapter opens; on a machine without a GPU that is
 * Mesa's lavapipe, a CPU rasterizer), for the s2fp8, e4m3 and int8 recipes on the wasm backend, and for the same
 * model in TensorFlow.js on its wasm backend (bench/peers/tfjs-train.ts), all in one process.
 *
 * Each trainer is warmed up, then the trainers run round-robin (measure.ts), each timing windows
 * of whole steps (about WINDOW_SECONDS each), and the median window gives its images/s. Both
 * sides run on one thread: numforge has no workers, tfjs-wasm loads its single-threaded binary.
 *
 * The timed step is written here from the runtime's pieces (model.forward, softmaxCrossEntropy,
 * tape.backward, optimizer.step) so it does not depend on the session's driver.
 */
import * as Effect from "effect/Effect";
import { createRegistry } from "../src/dsl/registry.ts";
import { createRecipeRegistry } from "../src/recipes/load.ts";
import { RecipePrecision } from "../src/recipes/precision.ts";
import type { ResolvedRecipe } from "../src/recipes/types.ts";
import type { KernelBackend } from "../src/runtime/backends/js.ts";
import { createBackend, type BackendName } from "../src/runtime/backends/select.ts";
import type { GpuBackend } from "../src/runtime/backends/webgpu.ts";
import { trainContext } from "../src/runtime/context.ts";
import { batches, type Batch } from "../src/runtime/data/batches.ts";
import { loadMnist } from "../src/runtime/data/mnist.ts";
import { createResNet, defaultResNetConfig, type ResNetConfig } from "../src/runtime/models/resnet.ts";
import { softmaxCrossEntropy } from "../src/runtime/ops/loss.ts";
import { adam } from "../src/runtime/optim/adam.ts";
import { CLOCK, measure, pairedRatio } from "./measure.ts";
import { prepareTfjsResNetStep } from "./peers/tfjs-train.ts";
import { fixed, times, type Table } from "./table.ts";

const BATCH_SIZE = 32;
/** ResNet widths: 4 is `npm start`'s; 16 shows how the figures scale with 16× the GEMM work. */
const WIDTHS = [4, 16] as const;
/** Recipes measured beside fp32, on the fastest backend. */
const LOW_PRECISION_RECIPES = ["s2fp8", "e4m3", "int8"] as const;
/** Distinct batches each trainer cycles through. */
const BATCH_COUNT = 8;
/** Steps timed during warm-up (after one untimed step that compiles the recipe's kernels); their median sizes the windows. */
const WARMUP_STEPS = 5;
/** Target length of a timed window on the bench clock; its step count is fixed per trainer after warm-up. */
const WINDOW_SECONDS = 0.3;
const WINDOWS = 7;
/** Windows of a recipe, each between two of its baseline's, for the step time ratio. */
const PAIRS = 9;
const LEARNING_RATE = 1e-3;

/**
 * The comparison's ResNet of a width (compare/settings.ts buildModel): a stride-2 stem of `width`
 * channels, then one basic block each of width, 2·width (stride 2) and 4·width (stride 2).
 */
export function resnetOfWidth(width: number, inChannels: number, classes: number): ResNetConfig {
  return {
    ...defaultResNetConfig,
    inChannels,
    classes,
    stemChannels: width,
    stemStride: 2,
    stemPool: false,
    stages: [
      { channels: width, blocks: 1, stride: 1 },
      { channels: 2 * width, blocks: 1, stride: 2 },
      { channels: 4 * width, blocks: 1, stride: 2 },
    ],
  };
}

/** One trainer: a step trains on the next batch and returns its loss. */
interface Trainer {
  readonly name: string;
  /** The numforge fp32 trainer on the same backend, whose step time this one's is divided by (null: not numforge). */
  readonly baseline: string | null;
  readonly step: () => number;
}

/** numforge's training step for `recipe` on `backend`, built as the comparison builds a run (Adam, the recipe's epsilon). */
export function numforgeTrainer(name: string, backend: KernelBackend, recipe: ResolvedRecipe, config: ResNetConfig, data: readonly Batch[], baseline: string): Trainer {
  if (recipe.lossScaling.kind !== "none") throw new Error(`training bench: recipe ${recipe.name} scales the loss, which this step does not model`);
  const model = createResNet(config);
  const optimizer = adam(model.parameters(), { eps: recipe.optimizer.epsilon ?? 1e-8 });
  const precision = new RecipePrecision(recipe, backend.kernels, config.seed);
  // Standalone recipes keep the weights in their format from the start (as a session does).
  for (const p of model.parameters()) if (precision.active("master", p.name)) precision.quantize("master", p.data, p.name);
  let step = 0;
  return {
    name,
    baseline,
    step() {
      const batch = data[step % data.length];
      precision.setStep(step++);
      const ctx = trainContext(backend, precision);
      const loss = softmaxCrossEntropy(ctx, model.forward(ctx, batch.x), batch.labels);
      ctx.tape.backward(loss);
      optimizer.step(LEARNING_RATE, precision);
      optimizer.zeroGrad();
      return loss.data[0];
    },
  };
}

/** Number of trainable values of a numforge model. */
const parameterCount = (config: ResNetConfig) => createResNet(config).parameters().reduce((s, p) => s + p.size, 0);

interface Measured {
  readonly trainer: Trainer;
  readonly stepsPerWindow: number;
  readonly imagesPerSecond: number;
  /** Step time / the baseline's, paired (measure.ts pairedRatio); null without a baseline. */
  readonly vsBaseline: number | null;
  readonly lastLoss: number;
}

/** Warms every trainer up, sizes its window, then times the windows round-robin. */
function measureTrainers(trainers: readonly Trainer[]): Measured[] {
  const lastLoss = new Map<string, number>();
  const windows = trainers.map((t) => {
    t.step();
    const stepSeconds = measure([{ name: t.name, run: () => void t.step() }], { runs: WARMUP_STEPS, warmupRuns: 0, warmupMs: 0 }).get(t.name) ?? Number.NaN;
    return Math.max(1, Math.round(WINDOW_SECONDS / stepSeconds));
  });
  /** `steps` steps of a trainer, as one timed run. */
  const window = (t: Trainer, steps: number) => ({
    name: t.name,
    run: () => {
      for (let s = 0; s < steps; s++) lastLoss.set(t.name, t.step());
    },
  });
  const seconds = measure(
    trainers.map((t, i) => window(t, windows[i])),
    { runs: WINDOWS, warmupRuns: 0, warmupMs: 0 },
  );
  // The paired windows have equal step counts, so their time ratio is the step time ratio.
  return trainers.map((trainer, i) => {
    const baseline = trainers.find((t) => t.name === trainer.baseline);
    const vsBaseline =
      baseline === undefined ? null : baseline === trainer ? 1 : pairedRatio(window(baseline, windows[i]), window(trainer, windows[i]), PAIRS);
    return {
      trainer,
      stepsPerWindow: windows[i],
      imagesPerSecond: (windows[i] * BATCH_SIZE) / (seconds.get(trainer.name) ?? Number.NaN),
      vsBaseline,
      lastLoss: lastLoss.get(trainer.name) ?? Number.NaN,
    };
  });
}

export async function trainingSection(relaxed: boolean): Promise<Table> {
  const data = loadMnist();
  const [channels, height, width] = data.train.sampleShape;
  const batchList: Batch[] = [];
  for (const b of batches(data.train, BATCH_SIZE, { seed: 0, epoch: 0, dropLast: true })) {
    if (batchList.length === BATCH_COUNT) break;
    batchList.push(b);
  }
  const backends = new Map<BackendName, KernelBackend>();
  for (const name of ["js", "wasm"] as const) backends.set(name, await createBackend(name));
  let gpuNote: string;
  try {
    const gpu = (await createBackend("webgpu")) as GpuBackend;
    backends.set("webgpu", gpu);
    gpuNote =
      `webgpu: GEMMs on ${gpu.adapter} through the backend's GPU thread (one blocking round trip per GEMM), quantization on the wasm kernels; ` +
      (CLOCK === "cpu" ? "its CPU time counts every thread of the process (lavapipe's rasterizer threads too); on a real GPU time with NUMFORGE_BENCH_CLOCK=wall" : "wall-clock time");
  } catch (error) {
    gpuNote = `webgpu: not measured, no device (${error instanceof Error ? error.message.split(";")[0] : String(error)})`;
  }
  const recipeRegistry = createRecipeRegistry(createRegistry());
  const recipe = (name: string) => Effect.runSync(recipeRegistry.get(name));
  const rows: string[][] = [];
  let peer = "";
  for (const w of WIDTHS) {
    const config = resnetOfWidth(w, channels, data.train.classes);
    // NCHW with one channel is NHWC: the batches go to tfjs as they are.
    const tfjs = await prepareTfjsResNetStep(config, batchList.map((b) => ({ images: b.x.data as Float32Array, labels: b.labels })), [height, width], LEARNING_RATE);
    peer = tfjs.label;
    try {
      const ours = parameterCount(config);
      if (tfjs.parameterCount !== ours) throw new Error(`training bench: the tfjs ResNet has ${tfjs.parameterCount} parameters, numforge's ${ours}`);
      const wasm = backends.get("wasm")!;
      const trainers: Trainer[] = [
        numforgeTrainer("fp32 js", backends.get("js")!, recipe("fp32"), config, batchList, "fp32 js"),
        numforgeTrainer("fp32 wasm", wasm, recipe("fp32"), config, batchList, "fp32 wasm"),
        ...(backends.has("webgpu") ? [numforgeTrainer("fp32 webgpu", backends.get("webgpu")!, recipe("fp32"), config, batchList, "fp32 webgpu")] : []),
        ...LOW_PRECISION_RECIPES.map((r) => numforgeTrainer(`${r} wasm`, wasm, recipe(r), config, batchList, "fp32 wasm")),
        { name: "tfjs-wasm", baseline: null, step: tfjs.step },
      ];
      const measured = measureTrainers(trainers);
      const rate = (name: string) => measured.find((m) => m.trainer.name === name)?.imagesPerSecond ?? Number.NaN;
      for (const m of measured) {
        const { trainer } = m;
        rows.push([
          `w${w} (${ours.toLocaleString("en-US")} params)`,
          trainer.name,
          fixed(m.imagesPerSecond, 0),
          fixed((1000 * BATCH_SIZE) / m.imagesPerSecond, 1),
          times(m.imagesPerSecond / rate("tfjs-wasm")),
          m.vsBaseline === null ? "—" : times(m.vsBaseline),
          String(m.stepsPerWindow),
          fixed(m.lastLoss, 3),
        ]);
      }
    } finally {
      tfjs.dispose();
    }
  }
  await backends.get("webgpu")?.close?.();
  return {
    title: `Training throughput, ResNet on MNIST digits, batch ${BATCH_SIZE}, Adam (images/s, 1 thread, median of ${WINDOWS} windows after ${WARMUP_STEPS + 1} warm-up steps)`,
    header: ["model", "trainer", "images/s", "ms/step", "vs tfjs-wasm", "step time vs fp32", "steps/window", "last loss"],
    rows,
    notes: [
      `step: forward, softmax cross-entropy, backward, Adam update (lr ${LEARNING_RATE}), loss read back; batch norm in training mode; the first ${BATCH_COUNT} batches of the digits cycled`,
      `numforge: the runtime's backends (select.ts createBackend); wasm GEMM with ${relaxed ? "f32x4.relaxed_madd (relaxed SIMD validated)" : "plain SIMD (relaxed SIMD not validated)"}; s2fp8, int8: shipped recipes; e4m3: the bare format for every role (no scaling)`,
      `step time vs fp32: this trainer's step time / numforge fp32's on the same backend (the recipes' quantization overhead), the median of ${PAIRS} windows each timed between two fp32 windows of as many steps (drifting load cancels); last loss: at the last timed step (e4m3 with no scaling diverges, the work per step is the same)`,
      `one thread each (CPU time still counts V8's GC helper threads, on both sides); tfjs-wasm: the same architecture and parameter count in tfjs-core ops (NHWC), tf.train.adam, single-threaded binary (${peer}); it has no Conv2DBackpropFilter kernel, so the peer registers one built from its own Transpose/Conv2D (XNNPACK)/Slice kernels`,
      gpuNote,
      "the machine is shared: absolute figures are noisy; vs tfjs-wasm compares trainers measured round-robin in one run, step time vs fp32 is paired (above)",
    ],
  };
}
