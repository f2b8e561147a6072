/**
 * `numforge compare`: trains the reference model once per (recipe, seed), evaluates it, and writes
 * results.json, report.md and report.html into --out. Re-running the same command resumes.
 */
import * as Effect from "effect/Effect";
import { InputError, type SpecError } from "../../dsl/errors.ts";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { BackendName } from "../../runtime/backends/select.ts";
import type { ResultsFile } from "../../runtime/compare/results.ts";
import type { ModelSettings, OptimizerName } from "../../runtime/compare/settings.ts";
import type { CommandDefinition, ParsedArgs } from "../command.ts";
import { jsonFlag } from "../command.ts";
import { UsageError } from "../errors.ts";
import { printLine } from "../io.ts";
import { booleanFlag, stringFlag } from "../options.ts";

/** The comparison `npm start` runs: every shipped recipe but mxfp8. */
export const DEFAULT_RECIPES = ["fp32", "fp16", "bf16", "e5m2", "fp8-hybrid", "s2fp8", "posit8", "int8"] as const;

const usage = (message: string) => new UsageError({ command: "compare", message });

/** An integer flag in [min, max], or `fallback` when absent. */
function integer(args: ParsedArgs, name: string, min: number, max: number, fallback: number): Effect.Effect<number, UsageError> {
  const text = stringFlag(args, name);
  if (text === undefined) return Effect.succeed(fallback);
  const value = Number(text);
  return text.trim() !== "" && Number.isInteger(value) && value >= min && value <= max
    ? Effect.succeed(value)
    : Effect.fail(usage(`--${name} must be an integer in ${min}..${max} (got "${text}")`));
}

export const command: CommandDefinition = {
  usage: "[--formats LIST] [--model resnet|transformer|ncf|all] [--epochs N] [--seeds K] [--out DIR] [--json] [--backend B] [--data PATH] [--scale S] [--batch-size N] [--steps-per-epoch N] [--width W] [--augment-shift PX] [--optimizer sgd|adam] [--lr X] [--jobs N] [--numerics-every N] [--shard I/N] [--executor local|slurm] [--slurm OPTIONS] [--no-wait]",
  description:
    "Trains each model once per (recipe, seed) and evaluates it on its test split after every epoch: a residual CNN on MNIST digits " +
    "(test accuracy), a Transformer on grapheme-to-phoneme conversion of the CMU Pronouncing Dictionary (word accuracy, phoneme error rate) " +
    "and NCF (NeuMF) on implicit feedback (HR@10, NDCG@10); --model all trains the three. Writes DIR/results.json (per run: per-step " +
    "loss, per-epoch metrics, final metrics, divergence, wall time), DIR/report.md (mean ± std per recipe, Δ vs fp32, diverged runs; with " +
    "several models one combined table, rows recipes and columns models) and DIR/report.html (loss and metric curves). results.json is " +
    "rewritten after every run and a checkpoint after every epoch: run the same command again after an interruption and it skips finished " +
    "runs and resumes the unfinished one (a damaged or foreign checkpoint is set aside, not used). Several processes may share one --out (two " +
    "compares, --shard slices, --executor slurm tasks): each run trains under its own lock and results.json is merged, never overwritten. Each entry of --formats is a recipe of recipes/ (fp32; fp16 = standalone FP16; bf16; fp16-sr and " +
    "bf16-sr = standalone 16-bit with stochastically rounded weight updates; fp16-amax-state and fp16-sr-amax-state = the same with " +
    "amax-scaled fp16 Adam state; e5m2, fp8-hybrid, fp8-deepseek, s2fp8, posit8, int8, mxfp8, mxfp4, " +
    "nvfp4, e2m1, shiftquant4, shiftquant6, shiftquant8), a path to a recipe file, or a format name, which means that format for " +
    "every tensor role with fp32 master weights and accumulation.",
  positionals: [],
  flags: [
    { name: "formats", value: "LIST", description: `comma-separated recipes or formats (default ${DEFAULT_RECIPES.join(",")})` },
    { name: "model", value: "NAME", description: "resnet (default), transformer, ncf, or all" },
    { name: "epochs", value: "N", description: "epochs per run (default per model: resnet 1, transformer 3, ncf 5)" },
    { name: "seeds", value: "K", description: "runs per recipe, with seeds 0..K-1 (default 1)" },
    { name: "out", value: "DIR", description: "output folder (default runs/compare)" },
    jsonFlag,
    { name: "backend", value: "B", description: "wasm, js, webgpu (GEMMs on a WebGPU device) or reference (default: wasm where WebAssembly SIMD validates, else js)" },
    { name: "data", value: "PATH", description: "the model's data instead of the embedded default: resnet: a folder of MNIST IDX files; ncf: a MovieLens ratings.dat or u.data file" },
    { name: "scale", value: "S", description: "make the data S times larger and the models round(S) times wider (default 1: minutes per run here; below 1 for a quick look)" },
    { name: "batch-size", value: "N", description: "training batch size (default per model: resnet 32)" },
    { name: "steps-per-epoch", value: "N", description: "train on only the first N batches of each epoch (quick runs)" },
    { name: "width", value: "W", description: "ResNet width: stem W, stages W, 2W, 4W (default 8 × round(scale))" },
    { name: "augment-shift", value: "PX", description: "ResNet: translate each training digit by a random shift of up to PX pixels per axis (default 0: no augmentation)" },
    { name: "optimizer", value: "NAME", description: "sgd (momentum 0.9, weight decay 5e-4) or adam (a recipe may set its epsilon); default per model" },
    { name: "lr", value: "X", description: "peak learning rate (default per model and optimizer)" },
    { name: "jobs", value: "N", description: "train N runs at once on worker threads (default 1; at most the number of cores is useful)" },
    { name: "numerics-every", value: "N", description: "record quantization statistics (underflow, saturation, SQNR, log2 histograms, scales) at every GEMM operand every N steps (default: about 10 samples per run; 0: none); see docs/numerics.md" },
    { name: "executor", value: "E", description: "local (default: train here) or slurm: submit the runs not yet finished as one Slurm job array, one task per run, all writing into --out (a folder every node sees: see docs/cluster.md); waits for the array and writes the reports" },
    { name: "slurm", value: "OPTIONS", description: 'sbatch options for --executor slurm, e.g. --slurm="--partition=cpu --time=2:00:00 --cpus-per-task=2"' },
    { name: "no-wait", description: "with --executor slurm: return once the array is submitted; the same command later shows progress, resubmits runs whose task died, and writes the reports when every run is finished" },
    { name: "shard", value: "I/N", description: "train only slice I of N of the grid (runs whose position mod N is I-1), for fanning a sweep out over machines or jobs that share --out; a plain compare over the folder then finds every run done and writes the merged report" },
  ],
  examples: [
    "numforge compare --formats fp32,s2fp8,e5m2 --epochs 3 --seeds 3 --out runs/s2fp8",
    "numforge compare --model all --formats fp32,fp16,s2fp8,shiftquant4 --seeds 3 --out runs/papers",
    "numforge compare --formats fp32,fp16 --steps-per-epoch 50 --width 4 --out /tmp/quick --json",
    'numforge compare --model all --seeds 3 --out /shared/runs/papers --executor slurm --slurm="--partition=cpu --time=4:00:00"',
  ],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const [{ createRecipeRegistry }, { OPTIMIZER_NAMES }, { FAMILIES, familyOf }, { createBackend, defaultBackendName, isBackendName, BACKEND_NAMES }, { parseShard }] = yield* Effect.promise(() =>
        Promise.all([import("../../recipes/load.ts"), import("../../runtime/compare/settings.ts"), import("../../runtime/tasks/families.ts"), import("../../runtime/backends/select.ts"), import("../../runtime/compare/grid.ts")]),
      );
      const familyNames = FAMILIES.map((f) => f.name);
      const modelFlag = stringFlag(args, "model") ?? "resnet";
      if (modelFlag !== "all" && familyOf(modelFlag) === undefined) return yield* usage(`unknown model "${modelFlag}"; models: ${familyNames.join(", ")}, all`);
      const families = modelFlag === "all" ? FAMILIES : [familyOf(modelFlag)!];
      const backendName = stringFlag(args, "backend") ?? defaultBackendName();
      if (!isBackendName(backendName)) return yield* usage(`unknown backend "${backendName}"; backends: ${BACKEND_NAMES.join(", ")}`);
      const optimizerFlag = stringFlag(args, "optimizer");
      if (optimizerFlag !== undefined && !(OPTIMIZER_NAMES as readonly string[]).includes(optimizerFlag)) return yield* usage(`unknown optimizer "${optimizerFlag}"; optimizers: ${OPTIMIZER_NAMES.join(", ")}`);
      const lrText = stringFlag(args, "lr");
      const lrFlag = lrText === undefined ? undefined : Number(lrText);
      if (lrFlag !== undefined && !(lrFlag > 0 && lrFlag < 100)) return yield* usage(`--lr must be a number in (0, 100) (got "${lrText}")`);
      const epochsText = stringFlag(args, "epochs");
      const epochsFlag = epochsText === undefined ? undefined : yield* integer(args, "epochs", 1, 1000, 0);
      const seedCount = yield* integer(args, "seeds", 1, 100, 1);
      const scaleText = stringFlag(args, "scale");
      const scale = scaleText === undefined ? 1 : Number(scaleText);
      if (!(scale >= 0.01 && scale <= 64)) return yield* usage(`--scale must be a number in 0.01..64 (got "${scaleText}")`);
      const batchText = stringFlag(args, "batch-size");
      const batchFlag = batchText === undefined ? undefined : yield* integer(args, "batch-size", 2, 1_000_000, 0);
      const widthText = stringFlag(args, "width");
      const widthFlag = widthText === undefined ? undefined : yield* integer(args, "width", 1, 256, 0);
      const augmentShift = yield* integer(args, "augment-shift", 0, 8, 0);
      if (augmentShift > 0 && !families.some((f) => f.name === "resnet")) return yield* usage("--augment-shift translates digits: it applies to --model resnet (or all)");
      const jobs = yield* integer(args, "jobs", 1, 256, 1);
      const numericsText = stringFlag(args, "numerics-every");
      const numericsEvery = numericsText === undefined ? undefined : yield* integer(args, "numerics-every", 0, 1_000_000, 0);
      const stepsText = stringFlag(args, "steps-per-epoch");
      const stepsPerEpoch = stepsText === undefined ? null : yield* integer(args, "steps-per-epoch", 1, 1_000_000, 0);
      const out = stringFlag(args, "out") ?? "runs/compare";
      const shardText = stringFlag(args, "shard");
      const shard = shardText === undefined ? undefined : parseShard(shardText);
      if (typeof shard === "string") return yield* usage(shard);
      const { checkOutFolder, ComparisonError } = yield* Effect.promise(() => import("../../runtime/compare/folder.ts"));
      const userError = (e: unknown) => {
        if (e instanceof ComparisonError) return new InputError({ where: e.where, message: e.message });
        throw e;
      };
      yield* Effect.try({ try: () => checkOutFolder(out), catch: userError });
      const executor = stringFlag(args, "executor") ?? "local";
      if (executor !== "local" && executor !== "slurm") return yield* usage(`unknown executor "${executor}"; executors: local, slurm`);
      for (const name of ["slurm", "no-wait"]) {
        if (args.flags.has(name) && executor !== "slurm") return yield* usage(`--${name} applies to --executor slurm`);
      }
      if (executor === "slurm" && jobs > 1) return yield* usage('--jobs trains runs at once on this machine; with --executor slurm each run is its own array task (more CPUs per task: --slurm="--cpus-per-task=N")');
      const { splitOptions, runComparisonOnSlurm } = yield* Effect.promise(() => import("../../runtime/compare/slurm.ts"));
      const sbatchOptions = splitOptions(stringFlag(args, "slurm") ?? "");
      if (typeof sbatchOptions === "string") return yield* usage(sbatchOptions);
      const dataPath = stringFlag(args, "data");
      if (dataPath !== undefined && families.length > 1) return yield* usage("--data names one model's data; use it with a single --model");

      const names = (stringFlag(args, "formats") ?? DEFAULT_RECIPES.join(",")).split(",").map((s) => s.trim());
      if (names.some((n) => n === "")) return yield* usage("--formats has an empty entry");
      const duplicate = names.find((n, i) => names.indexOf(n) !== i);
      if (duplicate !== undefined) return yield* usage(`--formats names ${duplicate} twice`);
      const recipeRegistry = createRecipeRegistry(registry);
      const recipes: ResolvedRecipe[] = [];
      for (const name of names) {
        recipes.push(
          yield* recipeRegistry.get(name).pipe(
            Effect.mapError((e): SpecError | UsageError => (e._tag === "UnknownRecipeError" ? usage(e.toString()) : e)),
          ),
        );
      }
      const recipeNamesSeen = recipes.map((r) => r.name);
      const clash = recipeNamesSeen.find((n, i) => recipeNamesSeen.indexOf(n) !== i);
      if (clash !== undefined) return yield* usage(`two entries of --formats are recipes named ${clash}`);

      const [{ runComparison, runComparisonInWorkers, comparisonPaths }, { resultsText }, { markdownReport }, { htmlReport }, { progressReporter }, { writeFileAtomic }, { COMPILER_VERSION }] =
        yield* Effect.promise(() =>
          Promise.all([
            import("../../runtime/compare/comparison.ts"),
            import("../../runtime/compare/results.ts"),
            import("../../report/markdown.ts"),
            import("../../report/html.ts"),
            import("../../report/progress.ts"),
            import("../../runtime/checkpoint.ts"),
            import("../../package/package-files.ts"),
          ]),
        );
      const models: ModelSettings[] = families.map((family) => {
        const optimizer = (optimizerFlag ?? family.defaults.optimizer) as OptimizerName;
        return {
          model: family.name,
          scale,
          width: family.defaults.width === null ? null : widthFlag ?? family.defaults.width * Math.max(1, Math.round(scale)),
          // Only image models augment; absent rather than 0 keeps older folders' fingerprints.
          ...(family.name === "resnet" && augmentShift > 0 ? { augmentShift } : {}),
          epochs: epochsFlag ?? family.defaults.epochs,
          batchSize: batchFlag ?? family.defaults.batchSize,
          stepsPerEpoch,
          optimizer,
          learningRate: lrFlag ?? family.defaults.learningRate[optimizer],
          data: dataPath ?? null,
        };
      });
      for (const [i, family] of families.entries()) {
        yield* Effect.try({ try: () => family.load(models[i]), catch: (e) => dataError(e, dataPath ?? family.name) });
      }
      const backend = yield* Effect.tryPromise({
        try: () => createBackend(backendName),
        catch: (e) => new InputError({ where: `--backend ${backendName}`, message: e instanceof Error ? e.message : String(e) }),
      });
      const settings = { models, backend: backend.name };
      const paths = comparisonPaths(out);
      const json = booleanFlag(args, "json");
      const common = {
        settings,
        recipes,
        seeds: Array.from({ length: seedCount }, (_, i) => i),
        outDir: out,
        shard,
        ...(numericsEvery === undefined ? {} : { numericsEvery }),
        numforgeVersion: COMPILER_VERSION,
        onEvent: progressReporter(io.stderr, process.stderr.isTTY === true && !json, undefined, families.length > 1),
        afterResults: (r: ResultsFile) => {
          writeFileAtomic(paths.markdown, markdownReport(r));
          writeFileAtomic(paths.html, htmlReport(r));
        },
      };
      // A Slurm task is this same command for one run: every flag that shapes the settings, the backend as resolved here.
      const local = new Set(["out", "shard", "executor", "slurm", "no-wait", "json", "jobs", "backend"]);
      const taskArgs = [...args.flags].filter(([name]) => !local.has(name)).map(([name, value]) => (value === true ? `--${name}` : `--${name}=${value}`));
      const onSlurm = Effect.tryPromise({
        try: async () => {
          await backend.close?.(); // the tasks train; this process only submits and collects
          return runComparisonOnSlurm({
            comparison: common, taskArgs: [...taskArgs, `--backend=${backend.name}`], sbatchOptions, wait: !booleanFlag(args, "no-wait"),
            say: (line) => io.stderr(`${line}\n`),
          });
        },
        catch: userError,
      });
      if (executor === "slurm") {
        const outcome = yield* onSlurm;
        if (!outcome.complete && outcome.lost.length > 0)
          return yield* Effect.fail(new InputError({ where: out, message: `${outcome.lost.length} run${outcome.lost.length === 1 ? "" : "s"} ended without a result (${outcome.lost.join("; ")}); run the same command again to resubmit ${outcome.lost.length === 1 ? "it" : "them"}` }));
        if (json) {
          io.stdout(resultsText(outcome.results));
          return;
        }
        if (!outcome.complete) {
          yield* printLine(io, `${outcome.submitted.length > 0 ? `submitted slurm job ${outcome.submitted.join(", ")}` : "runs are still queued or running in slurm"}; run the same command again to see progress and, once every run is finished, write the reports`);
          return;
        }
        yield* printLine(io, markdownReport(outcome.results).split("\nA diverged run stopped")[0].trimEnd());
        yield* printLine(io, `\nwrote ${paths.results}, ${paths.markdown} and ${paths.html}`);
        return;
      }
      const runs =
        jobs === 1
          ? Effect.try({ try: () => runComparison({ ...common, backend }), catch: userError })
          : Effect.tryPromise({
              try: async () => {
                // Each worker builds its own backend: this one only proved the backend opens here (a webgpu one holds a GPU thread).
                await backend.close?.();
                return runComparisonInWorkers({ ...common, backendName: backend.name as BackendName, jobs });
              },
              catch: userError,
            });
      const results = yield* runs.pipe(Effect.ensuring(Effect.promise(async () => backend.close?.())));
      if (json) {
        io.stdout(resultsText(results));
        return;
      }
      yield* printLine(io, markdownReport(results).split("\nA diverged run stopped")[0].trimEnd());
      yield* printLine(io, `\nwrote ${paths.results}, ${paths.markdown} and ${paths.html}`);
    }),
};

/** A data set that cannot be read, as a user error naming the file (and line, where the loader knows it). */
function dataError(e: unknown, where: string): InputError {
  if (e instanceof Error && "file" in e && "detail" in e) {
    const line = "line" in e && typeof e.line === "number" ? `:${e.line}` : "";
    return new InputError({ where: `${String(e.file)}${line}`, message: String(e.detail) });
  }
  return new InputError({ where, message: e instanceof Error ? e.message : String(e) });
}
