/**
 * A format comparison: every (model, recipe, seed) run trained and evaluated, results.json updated
 * after each run, a checkpoint written after each epoch. Running the same comparison again in the
 * same folder skips finished runs and resumes unfinished ones from their last checkpoint. A run
 * whose loss turns non-finite is recorded as diverged and the others go on.
 *
 * Several processes may share one folder (two `compare`s, `--shard` slices, Slurm array tasks, on
 * one machine or many): a run is trained only under its own lock (locks/RUN.lock), so no two
 * processes train it at once, and results.json is only rewritten under locks/results.lock by
 * re-reading it and adding to it, so no process drops another's finished runs. A run another
 * process holds is left for last, then waited for (and skipped if that process finished it).
 *
 * Runs train one after another in this thread (runComparison) or in worker threads
 * (runComparisonInWorkers, `--jobs N`); results.json is only ever written by this thread.
 */
import { rmSync } from "node:fs";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import { acquireLock, acquireLockSync, LockHeldError, readHolder, type LockHolder } from "../../io/lock.ts";
import type { KernelBackend } from "../backends/js.ts";
import type { BackendName } from "../backends/select.ts";
import { removeTemporariesOf } from "../checkpoint.ts";
import { familyFor } from "../tasks/families.ts";
import type { MetricInfo } from "../tasks/task.ts";
import { ComparisonError, fileSystemError, lockOwner, openComparisonFolder } from "./folder.ts";
import { comparisonGrid, inShard, type GridRun, type Shard } from "./grid.ts";
import { readResults, sameRun, withRun, writeResults, type ResultsFile, type RunResult } from "./results.ts";
import { trainRun, type RunEvent, type RunId, type RunSpec } from "./run.ts";
import { settingsDifferences, settingsFingerprint, type ComparisonSettings } from "./settings.ts";
import { WorkerPool } from "./workers.ts";

export { ComparisonError, comparisonPaths } from "./folder.ts";

/** What happens during a comparison, for progress displays. */
export type ComparisonEvent =
  | RunEvent
  | (RunId & { readonly kind: "run-skip"; readonly index: number; readonly count: number })
  /** Another process holds the run's lock: left for later (`waiting` false), or waited for now. */
  | (RunId & { readonly kind: "run-busy"; readonly index: number; readonly count: number; readonly holder: string; readonly lockPath: string; readonly waiting: boolean })
  | { readonly kind: "run-end"; readonly run: RunResult };

export interface ComparisonOptions {
  readonly settings: ComparisonSettings;
  readonly recipes: readonly ResolvedRecipe[];
  readonly seeds: readonly number[];
  readonly outDir: string;
  readonly numforgeVersion: string;
  /** Train only this slice of the grid (the rest is left to other processes sharing the folder). */
  readonly shard?: Shard;
  /** Record numerics every this many steps (0: not at all; absent: about 10 samples per run). */
  readonly numericsEvery?: number;
  readonly onEvent?: (event: ComparisonEvent) => void;
  /** Called under the results lock after results.json was rewritten (the CLI regenerates the reports here). */
  readonly afterResults?: (results: ResultsFile) => void;
}

/** How long a process waits for another to finish rewriting results.json (a rewrite takes milliseconds). */
const RESULTS_LOCK_TIMEOUT_MS = 120_000;

/** A holder as one phrase, e.g. "numforge compare (pid 12 on node3, since 2026-…)". */
export function describeHolder(holder: LockHolder | undefined): string {
  return holder === undefined ? "another process" : `${holder.what || "another process"} (pid ${holder.pid} on ${holder.hostname}, since ${holder.startedAt})`;
}

type Claim = { readonly kind: "finished" } | { readonly kind: "busy" } | { readonly kind: "claimed"; readonly release: () => void };

/**
 * A comparison folder opened for `options`: its results (read and updated under the lock), its
 * grid, and the per-run claims. Shared by the local drivers below and the Slurm executor.
 */
export function openComparison(options: ComparisonOptions) {
  const { settings } = options;
  const paths = openComparisonFolder(options.outDir);
  const fingerprint = settingsFingerprint(settings);
  const recipes = Object.fromEntries(options.recipes.map((r) => [r.name, { summary: r.summary, source: r.source, fingerprint: r.fingerprint }]));
  const metrics: Record<string, readonly MetricInfo[]> = {};
  const descriptions: Record<string, string> = {};
  for (const m of settings.models) {
    const family = familyFor(m);
    metrics[m.model] = family.metrics;
    descriptions[m.model] = family.describe(m);
  }
  const what = lockOwner();
  const emit = (event: ComparisonEvent) => options.onEvent?.(event);

  /** results.json as on disk (null when there is none yet), refused when it holds other settings. */
  const read = (): ResultsFile | null => {
    const found = readResults(paths.results);
    if (found !== null && found.settingsFingerprint !== fingerprint)
      throw new ComparisonError(paths.results, `holds a comparison with other settings (${settingsDifferences(settings, found.settings).join("; ")}); pass another --out, or move it away to start over`);
    return found;
  };

  /** Re-reads results.json under its lock, applies `change`, writes it back atomically (and the reports). */
  const update = (change: (results: ResultsFile) => ResultsFile = (r) => r): ResultsFile => {
    let release: () => void;
    try {
      release = acquireLockSync(paths.resultsLock, { wait: true, timeoutMs: RESULTS_LOCK_TIMEOUT_MS, what });
    } catch (e) {
      if (e instanceof LockHeldError) throw new ComparisonError(paths.results, e.message);
      throw e;
    }
    try {
      // Only the holder of this lock writes these files: any temporary of theirs is a killed writer's.
      for (const p of [paths.results, paths.markdown, paths.html]) removeTemporariesOf(p);
      const current = read();
      const next = change({
        format: "numforge-comparison/2",
        numforgeVersion: options.numforgeVersion,
        settings,
        settingsFingerprint: fingerprint,
        metrics: { ...current?.metrics, ...metrics },
        descriptions: { ...current?.descriptions, ...descriptions },
        recipes: { ...current?.recipes, ...recipes },
        runs: current?.runs ?? [],
        ...(current?.checkpointsSetAside === undefined ? {} : { checkpointsSetAside: current.checkpointsSetAside }),
      });
      writeResults(paths.results, next);
      options.afterResults?.(next);
      return next;
    } finally {
      release();
    }
  };

  const grid = comparisonGrid(settings.models, options.recipes, options.seeds);
  const plan = grid.filter((run) => inShard(run, options.shard));
  const finishedOnDisk = (run: GridRun) => read()?.runs.find((r) => sameRun(r, run.id))?.recipeFingerprint === run.recipe.fingerprint;
  const removeCheckpoint = (run: GridRun) => {
    rmSync(paths.checkpoint(run.id), { force: true });
    removeTemporariesOf(paths.checkpoint(run.id));
  };
  const runLock = (run: GridRun) => paths.runLock(run.id);
  const afterLock = (run: GridRun, release: () => void): Claim => {
    if (finishedOnDisk(run)) {
      // Another process finished it while we waited: its checkpoint is leftover.
      removeCheckpoint(run);
      release();
      return { kind: "finished" };
    }
    removeTemporariesOf(paths.checkpoint(run.id));
    return { kind: "claimed", release };
  };

  /** Takes the run's lock if it is free; a finished run's leftovers are tidied when nobody holds it. */
  const tryClaim = (run: GridRun): Claim => {
    let release: () => void;
    try {
      release = acquireLockSync(runLock(run), { what });
    } catch (e) {
      if (!(e instanceof LockHeldError)) throw e;
      if (finishedOnDisk(run)) return { kind: "finished" };
      emit({ kind: "run-busy", ...run.id, index: run.index, count: grid.length, holder: describeHolder(e.holder), lockPath: e.lockPath, waiting: false });
      return { kind: "busy" };
    }
    return afterLock(run, release);
  };
  const announceWait = (run: GridRun) =>
    emit({ kind: "run-busy", ...run.id, index: run.index, count: grid.length, holder: describeHolder(readHolder(runLock(run))), lockPath: runLock(run), waiting: true });
  /** Waits for the run's lock (however long the other process trains), then claims it unless it was finished meanwhile. */
  const waitClaimSync = (run: GridRun): Claim => {
    announceWait(run);
    return afterLock(run, acquireLockSync(runLock(run), { what, wait: true, timeoutMs: Infinity }));
  };
  const waitClaim = async (run: GridRun): Promise<Claim> => {
    announceWait(run);
    return afterLock(run, await acquireLock(runLock(run), { what, wait: true, timeoutMs: Infinity }));
  };

  const skipped = (run: GridRun) => emit({ kind: "run-skip", ...run.id, index: run.index, count: grid.length });
  const spec = (run: GridRun): RunSpec => ({
    settings: run.model, settingsFingerprint: fingerprint, recipe: run.recipe, seed: run.seed, checkpointPath: paths.checkpoint(run.id), index: run.index, count: grid.length,
    ...(options.numericsEvery === undefined ? {} : { numericsEvery: options.numericsEvery }),
  });
  /** Run events, with set-aside checkpoints recorded in results.json as they happen. */
  const onRunEvent = (event: RunEvent) => {
    if (event.kind === "checkpoint-set-aside") {
      const { model, recipe, seed, path, movedTo, reason } = event;
      update((r) => ({ ...r, checkpointsSetAside: [...(r.checkpointsSetAside ?? []), { model, recipe, seed, path, movedTo, reason, at: new Date().toISOString() }] }));
    }
    emit(event);
  };
  /** Records a finished run (replacing a run of an older version of the recipe), then lets go of it. */
  const finish = (run: GridRun, result: RunResult) => {
    update((r) => withRun(r, result));
    removeCheckpoint(run);
    emit({ kind: "run-end", run: result });
  };
  /** The results as they are on disk now, with every process's runs. */
  const final = (): ResultsFile => read() ?? update();

  update();
  return { paths, grid, plan, read, update, tryClaim, waitClaimSync, waitClaim, skipped, spec, onRunEvent, finish, final };
}

/** `f()`, with file-system failures a user can fix as ComparisonErrors. */
function userErrors<A>(f: () => A): A {
  try {
    return f();
  } catch (e) {
    throw fileSystemError(e) ?? e;
  }
}

/** Runs (or resumes) the comparison (or its shard) in this thread, one run after another; returns the folder's results. */
export function runComparison(
  options: ComparisonOptions & {
    readonly backend: KernelBackend;
    /** Called after each epoch's checkpoint is on disk (tests throw here to simulate a kill). */
    readonly afterCheckpoint?: (info: RunId & { readonly epoch: number }) => void;
  },
): ResultsFile {
  return userErrors(() => {
    const c = openComparison(options);
    const train = (run: GridRun, release: () => void) => {
      try {
        c.finish(run, trainRun(c.spec(run), options.backend, c.onRunEvent, options.afterCheckpoint));
      } finally {
        release();
      }
    };
    const later: GridRun[] = [];
    for (const run of c.plan) {
      const claim = c.tryClaim(run);
      if (claim.kind === "finished") c.skipped(run);
      else if (claim.kind === "busy") later.push(run);
      else train(run, claim.release);
    }
    for (const run of later) {
      const claim = c.waitClaimSync(run);
      if (claim.kind === "claimed") train(run, claim.release);
      else c.skipped(run);
    }
    return c.final();
  });
}

/**
 * Runs (or resumes) the comparison on `jobs` worker threads, each with its own `backend`;
 * results.json keeps the order in which runs finish. A run is claimed only when a worker is free
 * for it, so other processes sharing the folder can take the rest meanwhile.
 */
export async function runComparisonInWorkers(options: ComparisonOptions & { readonly backendName: BackendName; readonly jobs: number }): Promise<ResultsFile> {
  const c = userErrors(() => openComparison(options));
  const atStart = userErrors(c.read);
  const toTrain = c.plan.filter((run) => !atStart?.runs.some((r) => sameRun(r, run.id) && r.recipeFingerprint === run.recipe.fingerprint)).length;
  const lanes = Math.max(1, Math.min(options.jobs, toTrain));
  let pool: WorkerPool | null = null; // started with the first run to train: none when every run is done
  let failed = false; // one run failing stops the others from claiming more
  const train = (run: GridRun, release: () => void) =>
    (pool ??= new WorkerPool(lanes, options.backendName)).run(c.spec(run), c.onRunEvent).then((result) => userErrors(() => c.finish(run, result)))
      .catch((e: unknown) => {
        failed = true;
        throw e;
      })
      .finally(release);
  const queue = [...c.plan];
  const later: GridRun[] = [];
  const claimNext = async () => {
    for (let run = queue.shift(); run !== undefined && !failed; run = queue.shift()) {
      const claim = userErrors(() => c.tryClaim(run));
      if (claim.kind === "finished") c.skipped(run);
      else if (claim.kind === "busy") later.push(run);
      else await train(run, claim.release);
    }
  };
  const waitForOthers = async () => {
    for (let run = later.shift(); run !== undefined && !failed; run = later.shift()) {
      const claim = await c.waitClaim(run);
      if (claim.kind === "claimed") await train(run, claim.release);
      else c.skipped(run);
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, claimNext));
    await Promise.all(Array.from({ length: lanes }, waitForOthers));
  } finally {
    await (pool as WorkerPool | null)?.close();
  }
  return userErrors(c.final);
}
