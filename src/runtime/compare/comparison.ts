/**
 * A format comparison: every (model, recipe, seed) run trained and evaluated, results.json rewritten
 * atomically after each run, a checkpoint written after each epoch. Running the same comparison
 * again in the same folder skips finished runs and resumes unfinished ones from their last
 * checkpoint. A run whose loss turns non-finite is recorded as diverged and the others go on.
 * Runs train one after another in this thread (runComparison) or in worker threads
 * (runComparisonInWorkers, `--jobs N`); results.json is only ever written by this thread.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { KernelBackend } from "../backends/js.ts";
import type { BackendName } from "../backends/select.ts";
import { familyFor } from "../tasks/families.ts";
import type { MetricInfo } from "../tasks/task.ts";
import { readResults, writeResults, type ResultsFile, type RunResult } from "./results.ts";
import { trainRun, type RunEvent, type RunId, type RunSpec } from "./run.ts";
import { settingsDifferences, settingsFingerprint, type ComparisonSettings } from "./settings.ts";
import { WorkerPool } from "./workers.ts";

/** What happens during a comparison, for progress displays. */
export type ComparisonEvent =
  | RunEvent
  | (RunId & { readonly kind: "run-skip"; readonly index: number; readonly count: number })
  | { readonly kind: "run-end"; readonly run: RunResult };

/** A comparison that cannot go on as asked (its folder holds other work): a user error. */
export class ComparisonError extends Error {}

export interface ComparisonOptions {
  readonly settings: ComparisonSettings;
  readonly recipes: readonly ResolvedRecipe[];
  readonly seeds: readonly number[];
  readonly outDir: string;
  readonly numforgeVersion: string;
  readonly onEvent?: (event: ComparisonEvent) => void;
  /** Called after results.json was rewritten (the CLI regenerates the reports here). */
  readonly afterResults?: (results: ResultsFile) => void;
}

/** The files of a comparison folder. */
export function comparisonPaths(outDir: string) {
  return {
    results: join(outDir, "results.json"),
    checkpoints: join(outDir, "checkpoints"),
    checkpoint: (run: RunId) => join(outDir, "checkpoints", `${run.model}-${run.recipe}-seed${run.seed}.ckpt`),
    markdown: join(outDir, "report.md"),
    html: join(outDir, "report.html"),
  };
}

/** The folder's state and the runs left to do. */
function prepare(options: ComparisonOptions) {
  const { settings, outDir } = options;
  const paths = comparisonPaths(outDir);
  mkdirSync(paths.checkpoints, { recursive: true });
  const fingerprint = settingsFingerprint(settings);
  let existing: ResultsFile | null;
  try {
    existing = readResults(paths.results);
  } catch (e) {
    throw new ComparisonError((e as Error).message);
  }
  if (existing !== null && existing.settingsFingerprint !== fingerprint) {
    throw new ComparisonError(
      `${paths.results} holds a comparison with other settings (${settingsDifferences(settings, existing.settings).join("; ")}); pass another --out, or move it away to start over`,
    );
  }
  const runs: RunResult[] = [...(existing?.runs ?? [])];
  const recipesInfo = { ...(existing?.recipes ?? {}) };
  for (const r of options.recipes) recipesInfo[r.name] = { summary: r.summary, source: r.source, fingerprint: r.fingerprint };
  const metrics: Record<string, readonly MetricInfo[]> = {};
  const descriptions: Record<string, string> = {};
  for (const m of settings.models) {
    const family = familyFor(m);
    metrics[m.model] = family.metrics;
    descriptions[m.model] = family.describe(m);
  }
  const snapshot = (): ResultsFile => ({
    format: "numforge-comparison/2",
    numforgeVersion: options.numforgeVersion,
    settings,
    settingsFingerprint: fingerprint,
    metrics,
    descriptions,
    recipes: recipesInfo,
    runs: [...runs],
  });
  const save = () => {
    const results = snapshot();
    writeResults(paths.results, results);
    options.afterResults?.(results);
  };
  save();

  const plan = settings.models.flatMap((model) => options.recipes.flatMap((recipe) => options.seeds.map((seed) => ({ model, recipe, seed }))));
  const sameRun = (r: RunId, s: RunId) => r.model === s.model && r.recipe === s.recipe && r.seed === s.seed;
  const pending: RunSpec[] = [];
  plan.forEach(({ model, recipe, seed }, index) => {
    const id: RunId = { model: model.model, recipe: recipe.name, seed };
    const checkpointPath = paths.checkpoint(id);
    const done = runs.find((r) => sameRun(r, id));
    if (done !== undefined && done.recipeFingerprint === recipe.fingerprint) {
      rmSync(checkpointPath, { force: true });
      options.onEvent?.({ kind: "run-skip", ...id, index, count: plan.length });
    } else {
      pending.push({ settings: model, settingsFingerprint: fingerprint, recipe, seed, checkpointPath, index, count: plan.length });
    }
  });

  /** Records a finished run (replacing a run of an older version of the recipe) and saves. */
  const finish = (spec: RunSpec, result: RunResult) => {
    const old = runs.findIndex((r) => sameRun(r, result));
    if (old >= 0) runs[old] = result;
    else runs.push(result);
    save();
    rmSync(spec.checkpointPath, { force: true });
    options.onEvent?.({ kind: "run-end", run: result });
  };
  return { pending, finish, snapshot };
}

/** Runs (or resumes) the comparison in this thread, one run after another; returns the final results. */
export function runComparison(
  options: ComparisonOptions & {
    readonly backend: KernelBackend;
    /** Called after each epoch's checkpoint is on disk (tests throw here to simulate a kill). */
    readonly afterCheckpoint?: (info: RunId & { readonly epoch: number }) => void;
  },
): ResultsFile {
  const { pending, finish, snapshot } = prepare(options);
  for (const spec of pending) finish(spec, trainRun(spec, options.backend, options.onEvent, options.afterCheckpoint));
  return snapshot();
}

/**
 * Runs (or resumes) the comparison on `jobs` worker threads, each with its own `backend`;
 * results.json keeps the order in which runs finish.
 */
export async function runComparisonInWorkers(options: ComparisonOptions & { readonly backendName: BackendName; readonly jobs: number }): Promise<ResultsFile> {
  const { pending, finish, snapshot } = prepare(options);
  if (pending.length === 0) return snapshot();
  const pool = new WorkerPool(Math.min(options.jobs, pending.length), options.backendName);
  try {
    await Promise.all(pending.map((spec) => pool.run(spec, (event) => options.onEvent?.(event)).then((result) => finish(spec, result))));
  } finally {
    await pool.close();
  }
  return snapshot();
}
