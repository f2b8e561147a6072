/**
 * One (model, recipe, seed) run of a comparison: built from the settings, resumed from its checkpoint
 * when one of the same run exists, trained epoch by epoch with a checkpoint after each, and
 * summarized as a RunResult. Used in-process and by the worker threads of `--jobs`.
 */
import { existsSync, renameSync } from "node:fs";
import { RecipePrecision } from "../../recipes/precision.ts";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { KernelBackend } from "../backends/js.ts";
import { accumulatorsOf, withAccumulators } from "../backends/accumulators.ts";
import { CheckpointError, readCheckpoint, writeCheckpoint, type Checkpoint } from "../checkpoint.ts";
import { TrainingSession, type EpochRecord, type StepEvent } from "../session.ts";
import { defaultInterval, NumericsRecorder } from "../numerics/recorder.ts";
import type { RunNumerics } from "../numerics/types.ts";
import { familyFor } from "../tasks/families.ts";
import type { MetricInfo } from "../tasks/task.ts";
import { jsonNumber, type RunResult } from "./results.ts";
import { buildOptimizer, buildSchedule, type ModelSettings } from "./settings.ts";

/** What happens during a run, for progress displays. */
export type RunEvent =
  | (RunId & { readonly kind: "run-start"; readonly index: number; readonly count: number; readonly totalSteps: number; readonly resumedAtEpoch: number; readonly metrics: readonly MetricInfo[] })
  | (RunId & { readonly kind: "step" } & StepEvent)
  | (RunId & { readonly kind: "epoch"; readonly record: EpochRecord })
  | (RunId & { readonly kind: "checkpoint-set-aside" } & SetAside);

/** A checkpoint that was not resumed from: where it was, where it went, and why. */
export interface SetAside {
  readonly path: string;
  readonly movedTo: string;
  readonly reason: string;
}

/** What names a run in a comparison. */
export interface RunId {
  readonly model: string;
  readonly recipe: string;
  readonly seed: number;
}

/** Which run, and where its checkpoint lives. */
export interface RunSpec {
  readonly settings: ModelSettings;
  readonly settingsFingerprint: string;
  readonly recipe: ResolvedRecipe;
  readonly seed: number;
  readonly checkpointPath: string;
  /** Position in the comparison, for progress displays. */
  readonly index: number;
  readonly count: number;
  /** Record numerics every this many steps (0: not at all; absent: about 10 samples per run). */
  readonly numericsEvery?: number;
}

/** What a checkpoint must carry to be resumed from: the run and the settings it was trained with. */
interface CheckpointTag {
  readonly model: string;
  readonly settingsFingerprint: string;
  readonly recipeFingerprint: string;
  readonly seed: number;
}

/** Trains (or finishes) one run; a checkpoint that is damaged or not this run's is set aside and the run starts over. */
export function trainRun(
  spec: RunSpec, backend: KernelBackend,
  onEvent?: (event: RunEvent) => void,
  afterCheckpoint?: (info: RunId & { readonly epoch: number }) => void,
): RunResult {
  const { settings, recipe, seed, checkpointPath } = spec;
  const start = () => {
    const task = familyFor(settings).createTask(settings, seed, { normalization: recipe.normalization });
    const optimizer = buildOptimizer(settings, task.parameters(), recipe.optimizer.epsilon);
    const stepsPerEpoch = Math.min(task.batchesPerEpoch(settings.batchSize), settings.stepsPerEpoch ?? Infinity);
    // The recorder only reads: the recipe's precision sees the same calls with or without it.
    const schedule = buildSchedule(settings, stepsPerEpoch * settings.epochs);
    const precision = new NumericsRecorder(new RecipePrecision(recipe, backend.kernels, seed), backend.kernels, spec.numericsEvery ?? defaultInterval(stepsPerEpoch * settings.epochs), schedule);
    const session = new TrainingSession({
      task, optimizer, precision, seed,
      // The recipe's declared accumulators reach the GEMMs of their pass (backends/accumulators.ts).
      backend: withAccumulators(backend, accumulatorsOf(recipe)),
      schedule,
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      stepsPerEpoch: settings.stepsPerEpoch ?? undefined,
      lossScaling: recipe.lossScaling,
    });
    return { task, session, precision };
  };
  let { task, session, precision } = start();
  const id: RunId = { model: task.name, recipe: recipe.name, seed };
  const tag: CheckpointTag = { model: settings.model, settingsFingerprint: spec.settingsFingerprint, recipeFingerprint: recipe.fingerprint, seed };
  const problem = existsSync(checkpointPath) ? resume(checkpointPath, tag, session, precision) : null;
  if (problem !== null) {
    // Restoring may have filled some of the parameters before it failed: start from fresh ones.
    ({ task, session, precision } = start());
    onEvent?.({ kind: "checkpoint-set-aside", ...id, ...setAside(checkpointPath, problem) });
  }
  onEvent?.({ kind: "run-start", ...id, index: spec.index, count: spec.count, totalSteps: session.totalSteps, resumedAtEpoch: session.epoch, metrics: task.metrics });
  while (!session.finished) {
    const record = session.runEpoch((e) => {
      precision.stepDone(e.step);
      onEvent?.({ kind: "step", ...id, ...e });
    });
    const c = session.checkpoint();
    writeCheckpoint(checkpointPath, { meta: { tag, session: c.meta, numerics: precision.numerics(session.step) }, arrays: c.arrays });
    if (record !== null) onEvent?.({ kind: "epoch", ...id, record });
    afterCheckpoint?.({ ...id, epoch: session.epoch });
  }
  const last = session.records[session.records.length - 1];
  const metric = task.metrics[0].key;
  const finished = session.diverged === null && last !== undefined;
  return {
    ...id,
    recipeFingerprint: recipe.fingerprint,
    losses: session.losses,
    epochs: session.records.map((r) => ({ epoch: r.epoch, steps: r.steps, trainLoss: jsonNumber(r.trainLoss), testLoss: jsonNumber(r.testLoss), metrics: r.metrics })),
    metric,
    finalMetric: finished ? last.metrics[metric] : null,
    finalMetrics: finished ? last.metrics : null,
    diverged: session.diverged === null ? null : { step: session.diverged.step, loss: jsonNumber(session.diverged.loss) },
    steps: session.step,
    examples: session.examples,
    wallSeconds: Math.round(session.elapsedMs) / 1000,
    lossScale: { final: session.lossScale.scale, skippedSteps: session.lossScale.skippedSteps },
    backend: backend.name,
    ...(precision.every > 0 ? { numerics: precision.numerics(session.step) } : {}),
  };
}

/** Restores `session` from the checkpoint at `path`; returns why it cannot be used, or null when it was. */
function resume(path: string, tag: CheckpointTag, session: TrainingSession, recorder: NumericsRecorder): { readonly kind: "damaged" | "foreign"; readonly reason: string } | null {
  let saved: Checkpoint;
  try {
    saved = readCheckpoint(path);
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    return { kind: e.problem === "damaged" ? "damaged" : "foreign", reason: e.detail };
  }
  const meta = saved.meta as { tag?: Partial<CheckpointTag>; session?: unknown; numerics?: RunNumerics } | null;
  const found = meta?.tag;
  if (JSON.stringify(found) !== JSON.stringify(tag)) {
    const differs = found === undefined ? ["no run tag"] : (Object.keys(tag) as (keyof CheckpointTag)[]).filter((k) => found[k] !== tag[k]).map((k) => `${k} ${JSON.stringify(found[k])}, this run's ${JSON.stringify(tag[k])}`);
    return { kind: "foreign", reason: `checkpoint of another run or settings (${differs.join("; ")})` };
  }
  try {
    session.restore({ meta: meta?.session, arrays: saved.arrays });
  } catch (e) {
    return { kind: "foreign", reason: `checkpoint does not fit this run (${(e as Error).message.replace(/^checkpoint: /, "")})` };
  }
  // Checkpoints written before numerics were recorded have none: the samples of later steps still come.
  if (meta?.numerics !== undefined) recorder.resume(meta.numerics);
  return null;
}

/** Moves an unusable checkpoint out of the way (never deletes it: it may be what someone wants to look at). */
function setAside(path: string, problem: { readonly kind: "damaged" | "foreign"; readonly reason: string }): SetAside {
  const movedTo = `${path}.${problem.kind}-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  renameSync(path, movedTo);
  return { path, movedTo, reason: problem.reason };
}
