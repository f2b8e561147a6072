/**
 * `numforge compare`: trains the reference model once per (recipe, seed), evaluates it, and writes
 * results.json, report.md and report.html into --out. Re-running the same command resumes.
 */
import * as Effect from "effect/Effect";
import { InputError, type SpecError } from "../../dsl/errors.ts";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { BackendName } from "../../runtime/backends/select.ts";
import type { ResultsFile } from "../../runtime/compare/results.ts";
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
  usage: "[--formats LIST] [--model resnet] [--epochs N] [--seeds K] [--out DIR] [--json] [--backend B] [--data DIR] [--batch-size N] [--steps-per-epoch N] [--width W] [--optimizer sgd|adam] [--lr X] [--jobs N]",
  description:
    "Each run trains the model on MNIST digits and evaluates it on the test split after every epoch. Writes " +
    "DIR/results.json (per run: per-step loss, per-epoch test accuracy, final accuracy, divergence, wall time), DIR/report.md " +
    "(mean ± std test accuracy per recipe, Δ vs fp32, diverged runs) and DIR/report.html (loss and accuracy curves). " +
    "results.json is rewritten after every run and a checkpoint after every epoch: run the same command again after an " +
    "interruption and it skips finished runs and resumes the unfinished one (runs already in DIR stay in its results and reports). Each entry of --formats is a recipe of recipes/ " +
    "(fp32, fp16 = standalone FP16, bf16, e5m2, fp8-hybrid, s2fp8, posit8, int8, mxfp8), a path to a recipe file, or a format " +
    "name, which means that format for every tensor role with fp32 master weights and accumulation.",
  positionals: [],
  flags: [
    { name: "formats", value: "LIST", description: `comma-separated recipes or formats (default ${DEFAULT_RECIPES.join(",")})` },
    { name: "model", value: "NAME", description: "the model to train: resnet (default)" },
    { name: "epochs", value: "N", description: "epochs per run (default 1)" },
    { name: "seeds", value: "K", description: "runs per recipe, with seeds 0..K-1 (default 1)" },
    { name: "out", value: "DIR", description: "output folder (default runs/compare)" },
    jsonFlag,
    { name: "backend", value: "B", description: "wasm, js or reference (default: wasm where WebAssembly SIMD validates, else js)" },
    { name: "data", value: "DIR", description: "a folder with the MNIST IDX files (default: the 10,000 digits of the mnist package, split 8,000/2,000)" },
    { name: "batch-size", value: "N", description: "training batch size (default 32)" },
    { name: "steps-per-epoch", value: "N", description: "train on only the first N batches of each epoch (quick runs)" },
    { name: "width", value: "W", description: "ResNet width: stem W, stages W, 2W, 4W (default 16)" },
    { name: "optimizer", value: "NAME", description: "sgd (momentum 0.9, weight decay 5e-4; default) or adam (a recipe may set its epsilon)" },
    { name: "lr", value: "X", description: "peak learning rate (default 0.2 for sgd, 3e-3 for adam)" },
    { name: "jobs", value: "N", description: "train N runs at once on worker threads (default 1; at most the number of cores is useful)" },
  ],
  examples: [
    "numforge compare --formats fp32,s2fp8,e5m2 --epochs 3 --seeds 3 --out runs/s2fp8",
    "numforge compare --formats fp32,fp16 --steps-per-epoch 50 --width 8 --out /tmp/quick --json",
  ],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const [{ createRecipeRegistry }, settingsModule, { createBackend, defaultBackendName, isBackendName, BACKEND_NAMES }] = yield* Effect.promise(() =>
        Promise.all([import("../../recipes/load.ts"), import("../../runtime/compare/settings.ts"), import("../../runtime/backends/select.ts")]),
      );
      const { MODEL_NAMES, OPTIMIZER_NAMES, DEFAULT_LEARNING_RATE } = settingsModule;
      const model = stringFlag(args, "model") ?? "resnet";
      if (!(MODEL_NAMES as readonly string[]).includes(model)) return yield* usage(`unknown model "${model}"; models: ${MODEL_NAMES.join(", ")}`);
      const backendName = stringFlag(args, "backend") ?? defaultBackendName();
      if (!isBackendName(backendName)) return yield* usage(`unknown backend "${backendName}"; backends: ${BACKEND_NAMES.join(", ")}`);
      const optimizer = stringFlag(args, "optimizer") ?? "sgd";
      if (!(OPTIMIZER_NAMES as readonly string[]).includes(optimizer)) return yield* usage(`unknown optimizer "${optimizer}"; optimizers: ${OPTIMIZER_NAMES.join(", ")}`);
      const lrText = stringFlag(args, "lr");
      const learningRate = lrText === undefined ? DEFAULT_LEARNING_RATE[optimizer as "sgd" | "adam"] : Number(lrText);
      if (!(learningRate > 0 && learningRate < 100)) return yield* usage(`--lr must be a number in (0, 100) (got "${lrText}")`);
      const epochs = yield* integer(args, "epochs", 1, 1000, 1);
      const seedCount = yield* integer(args, "seeds", 1, 100, 1);
      const batchSize = yield* integer(args, "batch-size", 2, 60000, 32);
      const width = yield* integer(args, "width", 1, 256, 16);
      const jobs = yield* integer(args, "jobs", 1, 256, 1);
      const stepsText = stringFlag(args, "steps-per-epoch");
      const stepsPerEpoch = stepsText === undefined ? null : yield* integer(args, "steps-per-epoch", 1, 1_000_000, 0);
      const out = stringFlag(args, "out") ?? "runs/compare";
      const dataDir = stringFlag(args, "data");

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

      const [{ loadMnist }, { IdxError }, { runComparison, runComparisonInWorkers, ComparisonError, comparisonPaths }, { resultsText }, { markdownReport }, { htmlReport }, { progressReporter }, { writeFileAtomic }, { COMPILER_VERSION }] =
        yield* Effect.promise(() =>
          Promise.all([
            import("../../runtime/data/mnist.ts"),
            import("../../runtime/data/idx.ts"),
            import("../../runtime/compare/comparison.ts"),
            import("../../runtime/compare/results.ts"),
            import("../../report/markdown.ts"),
            import("../../report/html.ts"),
            import("../../report/progress.ts"),
            import("../../runtime/checkpoint.ts"),
            import("../../package/package-files.ts"),
          ]),
        );
      const data = yield* Effect.try({
        try: () => loadMnist(dataDir === undefined ? { seed: 0 } : { dataDir }),
        catch: (e) => (e instanceof IdxError ? new InputError({ where: e.file, message: e.detail }) : new InputError({ where: dataDir ?? "mnist", message: (e as Error).message })),
      });
      if (batchSize > data.train.count) return yield* usage(`--batch-size ${batchSize} exceeds the ${data.train.count} training digits`);
      const backend = yield* Effect.promise(() => createBackend(backendName));
      const settings = {
        model: model as "resnet",
        width,
        epochs,
        batchSize,
        stepsPerEpoch,
        optimizer: optimizer as "sgd" | "adam",
        learningRate,
        data: dataDir === undefined ? { kind: "package" as const, splitSeed: 0 } : { kind: "idx" as const, dir: dataDir },
        backend: backend.name,
      };
      const paths = comparisonPaths(out);
      const json = booleanFlag(args, "json");
      const common = {
        settings,
        recipes,
        seeds: Array.from({ length: seedCount }, (_, i) => i),
        outDir: out,
        data,
        numforgeVersion: COMPILER_VERSION,
        onEvent: progressReporter(io.stderr, process.stderr.isTTY === true && !json),
        afterResults: (r: ResultsFile) => {
          writeFileAtomic(paths.markdown, markdownReport(r));
          writeFileAtomic(paths.html, htmlReport(r));
        },
      };
      const userError = (e: unknown) => {
        if (e instanceof ComparisonError) return new InputError({ where: out, message: e.message });
        throw e;
      };
      const results =
        jobs === 1
          ? yield* Effect.try({ try: () => runComparison({ ...common, backend }), catch: userError })
          : yield* Effect.tryPromise({ try: () => runComparisonInWorkers({ ...common, backendName: backend.name as BackendName, jobs }), catch: userError });
      if (json) {
        io.stdout(resultsText(results));
        return;
      }
      yield* printLine(io, markdownReport(results).split("\n## Recipes")[0].trimEnd());
      yield* printLine(io, `\nwrote ${paths.results}, ${paths.markdown} and ${paths.html}`);
    }),
};
