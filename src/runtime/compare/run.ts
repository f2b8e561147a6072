/**
 * One (model, recipe, seed) run of a comparison: built from the settings, resumed from its checkpoint
 * when one of the same run exists, trained epoch by epoch with a checkpoint after each, and
 * summarized as a RunResult. Used in-process and by the worker threads of `--jobs`.
 */
import { existsSync } from "node:fs";
import { RecipePrecision } from "../../recipes/precision.ts";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { KernelBackend } from "../backends/js.ts";
import { readCheckpoint, writeCheckpoint } from "../checkpoint.ts";
import { TrainingSession, type EpochRecord, type StepEvent } from "../session.ts";
import { familyFor } from "../tasks/families.ts";
import type { MetricInfo } from "../tasks/task.ts";
import { jsonNumber, type RunResult } from "./results.ts";
import { buildOptimizer, buildSchedule, type ModelSettings } from "./settings.ts";

/** What happens during a run, for progress displays. */
export type RunEvent =
  | (RunId & { readonly kind: "run-start"; readonly index: number; readonly count: number; readonly totalSteps: number; readonly resumedAtEpoch: number; readonly metrics: readonly MetricInfo[] })
  | (RunId & { readonly kind: "step" } & StepEvent)
  | (RunId & { readonly kind: "epoch"; readonly record: EpochRecord });

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
}

interface CheckpointTag {
  readonly settingsFingerprint: string;
  readonly recipeFingerprint: string;
  readonly seed: number;
}

/** Trains (or finishes) one run. */
export function trainRun(
  spec: RunSpec, backend: KernelBackend,
  onEvent?: (event: RunEvent) => void,
  afterCheckpoint?: (info: RunId & { readonly epoch: number }) => void,
): RunResult {
  const { settings, recipe, seed, checkpointPath } = spec;
  const task = familyFor(settings).createTask(settings, seed, { normalization: recipe.normalization });
  const optimizer = buildOptimizer(settings, task.parameters(), recipe.optimizer.epsilon);
  const precision = new RecipePrecision(recipe, backend.kernels, seed);
  const stepsPerEpoch = Math.min(task.batchesPerEpoch(settings.batchSize), settings.stepsPerEpoch ?? Infinity);
  const id: RunId = { model: task.name, recipe: recipe.name, seed };
  const session = new TrainingSession({
    task, optimizer, precision, backend, seed,
    schedule: buildSchedule(settings, stepsPerEpoch * settings.epochs),
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    stepsPerEpoch: settings.stepsPerEpoch ?? undefined,
    lossScaling: recipe.lossScaling,
  });
  const tag: CheckpointTag = { settingsFingerprint: spec.settingsFingerprint, recipeFingerprint: recipe.fingerprint, seed };
  if (existsSync(checkpointPath)) {
    const saved = readCheckpoint(checkpointPath);
    const meta = saved.meta as { tag?: CheckpointTag; session?: unknown };
    if (JSON.stringify(meta.tag) === JSON.stringify(tag)) session.restore({ meta: meta.session, arrays: saved.arrays });
  }
  onEvent?.({ kind: "run-start", ...id, index: spec.index, count: spec.count, totalSteps: session.totalSteps, resumedAtEpoch: session.epoch, metrics: task.metrics });
  while (!session.finished) {
    const record = session.runEpoch((e) => onEvent?.({ kind: "step", ...id, ...e }));
    const c = session.checkpoint();
    writeCheckpoint(checkpointPath, { meta: { tag, session: c.meta }, arrays: c.arrays });
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
  };
}
