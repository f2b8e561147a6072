/**
 * One (recipe, seed) run of a comparison: built from the settings, resumed from its checkpoint
 * when one of the same run exists, trained epoch by epoch with a checkpoint after each, and
 * summarized as a RunResult. Used in-process and by the worker threads of `--jobs`.
 */
import { existsSync } from "node:fs";
import { RecipePrecision } from "../../recipes/precision.ts";
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { KernelBackend } from "../backends/js.ts";
import { readCheckpoint, writeCheckpoint } from "../checkpoint.ts";
import type { TrainTest } from "../data/dataset.ts";
import { TrainingSession, type StepEvent } from "../session.ts";
import type { EpochRecord } from "../train.ts";
import { jsonNumber, type RunResult } from "./results.ts";
import { buildModel, buildOptimizer, buildSchedule, type ComparisonSettings } from "./settings.ts";

/** What happens during a run, for progress displays. */
export type RunEvent =
  | { readonly kind: "run-start"; readonly recipe: string; readonly seed: number; readonly index: number; readonly count: number; readonly totalSteps: number; readonly resumedAtEpoch: number }
  | ({ readonly kind: "step"; readonly recipe: string; readonly seed: number } & StepEvent)
  | { readonly kind: "epoch"; readonly recipe: string; readonly seed: number; readonly record: EpochRecord };

/** Which run, and where its checkpoint lives. */
export interface RunSpec {
  readonly settings: ComparisonSettings;
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
  spec: RunSpec, backend: KernelBackend, data: TrainTest,
  onEvent?: (event: RunEvent) => void,
  afterCheckpoint?: (info: { readonly recipe: string; readonly seed: number; readonly epoch: number }) => void,
): RunResult {
  const { settings, recipe, seed, checkpointPath } = spec;
  const model = buildModel(settings, data, seed);
  const optimizer = buildOptimizer(settings, model.parameters(), recipe.optimizer.epsilon);
  const precision = new RecipePrecision(recipe, backend.kernels, seed);
  const stepsPerEpoch = Math.min(Math.floor(data.train.count / settings.batchSize), settings.stepsPerEpoch ?? Infinity);
  const session = new TrainingSession({
    model, data, optimizer, precision, backend, seed,
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
  onEvent?.({ kind: "run-start", recipe: recipe.name, seed, index: spec.index, count: spec.count, totalSteps: session.totalSteps, resumedAtEpoch: session.epoch });
  while (!session.finished) {
    const record = session.runEpoch((e) => onEvent?.({ kind: "step", recipe: recipe.name, seed, ...e }));
    const c = session.checkpoint();
    writeCheckpoint(checkpointPath, { meta: { tag, session: c.meta }, arrays: c.arrays });
    if (record !== null) onEvent?.({ kind: "epoch", recipe: recipe.name, seed, record });
    afterCheckpoint?.({ recipe: recipe.name, seed, epoch: session.epoch });
  }
  const last = session.records[session.records.length - 1];
  return {
    model: settings.model,
    recipe: recipe.name,
    recipeFingerprint: recipe.fingerprint,
    seed,
    losses: session.losses,
    epochs: session.records.map((r) => ({ epoch: r.epoch, steps: r.steps, trainLoss: jsonNumber(r.trainLoss), testLoss: jsonNumber(r.testLoss), testAccuracy: r.testAccuracy })),
    metric: "testAccuracy",
    finalMetric: session.diverged === null && last !== undefined ? last.testAccuracy : null,
    diverged: session.diverged === null ? null : { step: session.diverged.step, loss: jsonNumber(session.diverged.loss) },
    steps: session.step,
    images: session.images,
    wallSeconds: Math.round(session.elapsedMs) / 1000,
    lossScale: { final: session.lossScale.scale, skippedSteps: session.lossScale.skippedSteps },
    backend: backend.name,
  };
}
