/**
 * What a comparison trains with, besides the recipes and seeds: per model family, the size, the
 * data, the optimizer and schedule, the batching; and the backend. Two comparisons with equal
 * settings fingerprints train their (model, recipe, seed) runs alike, so finished runs of one
 * count for the other.
 */
import { createHash } from "node:crypto";
import { adam } from "../optim/adam.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import { cosineDecay, linearWarmup, type Schedule } from "../optim/schedule.ts";
import { sgd } from "../optim/sgd.ts";
import type { Tensor } from "../tensor.ts";

/** The optimizers `--optimizer` accepts. */
export const OPTIMIZER_NAMES = ["adam", "sgd"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Everything but the recipe and seed that decides the numbers of one model's runs. */
export interface ModelSettings {
  /** A model family of src/runtime/tasks/families.ts. */
  readonly model: string;
  /**
   * Size multiplier of the data (1: the default, which trains in minutes here; below 1 for quick
   * looks) and, rounded to a whole factor of at least 1, of the model's widths.
   */
  readonly scale: number;
  /** ResNet width (stem W, stages W, 2W, 4W); null for the other families. */
  readonly width: number | null;
  /**
   * ResNet only: training digits are randomly translated by up to this many pixels per axis
   * (data/augment.ts). Absent means none, which keeps the fingerprints of folders made before
   * the option existed.
   */
  readonly augmentShift?: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Batches per epoch (null: every full batch of the training split). */
  readonly stepsPerEpoch: number | null;
  readonly optimizer: OptimizerName;
  /** Peak learning rate, reached after a linear warm-up over the first 5% of the steps, then cosine decay to 0. */
  readonly learningRate: number;
  /** A user's data (an MNIST IDX folder, a MovieLens ratings file), or null: the family's embedded default. */
  readonly data: string | null;
}

/** The settings of a whole comparison: one entry per model, in the order they train. */
export interface ComparisonSettings {
  readonly models: readonly ModelSettings[];
  readonly backend: string;
}

/** The factor a family multiplies its model widths by: the scale rounded, at least 1. */
export function widthFactor(settings: ModelSettings): number {
  return Math.max(1, Math.round(settings.scale));
}

/** A short hash of the settings. */
export function settingsFingerprint(settings: ComparisonSettings): string {
  return createHash("sha256").update(JSON.stringify(settings)).digest("hex").slice(0, 16);
}

/** The settings that differ, as "name NEW (the folder's: OLD)" phrases (per model where both have it). */
export function settingsDifferences(wanted: ComparisonSettings, found: ComparisonSettings): string[] {
  const differences = (a: object, b: object, prefix: string): string[] => {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys]
      .filter((k) => JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k]))
      .map((k) => `${prefix}${k} ${JSON.stringify((a as Record<string, unknown>)[k])} (the folder's: ${JSON.stringify((b as Record<string, unknown>)[k])})`);
  };
  const out = wanted.backend === found.backend ? [] : differences({ backend: wanted.backend }, { backend: found.backend }, "");
  const foundModels = Array.isArray(found.models) ? found.models : [];
  const names = (list: readonly ModelSettings[]) => list.map((m) => m.model).join(",");
  if (names(wanted.models) !== names(foundModels)) return [...out, `models ${names(wanted.models)} (the folder's: ${names(foundModels) || "?"})`];
  wanted.models.forEach((m, i) => out.push(...differences(m, foundModels[i], wanted.models.length > 1 ? `${m.model} ` : "")));
  return out;
}

/** The optimizer of a run; a recipe's Adam epsilon replaces the default. */
export function buildOptimizer(settings: ModelSettings, params: readonly Tensor[], epsilon: number | null): Optimizer {
  return settings.optimizer === "adam"
    ? adam(params, { eps: epsilon ?? 1e-8 })
    : sgd(params, { momentum: 0.9, weightDecay: 5e-4 });
}

/** Linear warm-up over 5% of the steps, then cosine decay to 0. */
export function buildSchedule(settings: ModelSettings, totalSteps: number): Schedule {
  const warmup = Math.max(1, Math.round(totalSteps * 0.05));
  return linearWarmup(warmup, cosineDecay(settings.learningRate, Math.max(1, totalSteps - warmup)));
}
