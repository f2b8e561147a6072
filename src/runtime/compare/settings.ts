/**
 * What a comparison trains with, besides the recipe and the seed: the model, the data, the
 * optimizer and schedule, the batching. Two comparisons with equal settings fingerprints train
 * their (recipe, seed) runs alike, so finished runs of one count for the other.
 */
import { createHash } from "node:crypto";
import type { TrainTest } from "../data/dataset.ts";
import { createResNet, type ResNet } from "../models/resnet.ts";
import { adam } from "../optim/adam.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import { cosineDecay, linearWarmup, type Schedule } from "../optim/schedule.ts";
import { sgd } from "../optim/sgd.ts";
import type { Tensor } from "../tensor.ts";

/** The models `--model` accepts. */
export const MODEL_NAMES = ["resnet"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The optimizers `--optimizer` accepts. */
export const OPTIMIZER_NAMES = ["adam", "sgd"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Everything but the recipes and seeds that decides the numbers of a run. */
export interface ComparisonSettings {
  readonly model: ModelName;
  /** ResNet width: a stride-2 stem of `width` channels, then stages of width, 2·width (stride 2) and 4·width (stride 2). */
  readonly width: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Batches per epoch (null: every full batch of the training split). */
  readonly stepsPerEpoch: number | null;
  readonly optimizer: OptimizerName;
  /** Peak learning rate, reached after a linear warm-up over the first 5% of the steps, then cosine decay to 0. */
  readonly learningRate: number;
  /** Where the digits come from: the mnist package (8,000/2,000 split, seed 0) or an IDX folder. */
  readonly data: { readonly kind: "package"; readonly splitSeed: number } | { readonly kind: "idx"; readonly dir: string };
  readonly backend: string;
}

/** The default learning rate of each optimizer. */
export const DEFAULT_LEARNING_RATE: Readonly<Record<OptimizerName, number>> = { adam: 3e-3, sgd: 0.2 };

/** A short hash of the settings. */
export function settingsFingerprint(settings: ComparisonSettings): string {
  return createHash("sha256").update(JSON.stringify(settings)).digest("hex").slice(0, 16);
}

/** The settings that differ, as "name NEW (the folder's: OLD)" phrases. */
export function settingsDifferences(wanted: ComparisonSettings, found: ComparisonSettings): string[] {
  const keys = new Set([...Object.keys(wanted), ...Object.keys(found)]) as Set<keyof ComparisonSettings>;
  return [...keys]
    .filter((k) => JSON.stringify(wanted[k]) !== JSON.stringify(found[k]))
    .map((k) => `${k} ${JSON.stringify(wanted[k])} (the folder's: ${JSON.stringify(found[k])})`);
}

/** The model of a run (the seed draws its initial weights). */
export function buildModel(settings: ComparisonSettings, data: TrainTest, seed: number): ResNet {
  const w = settings.width;
  return createResNet({
    inChannels: data.train.sampleShape[0],
    classes: data.train.classes,
    stemChannels: w,
    stemStride: 2,
    stages: [
      { channels: w, blocks: 1, stride: 1 },
      { channels: 2 * w, blocks: 1, stride: 2 },
      { channels: 4 * w, blocks: 1, stride: 2 },
    ],
    seed,
  });
}

/** The optimizer of a run; a recipe's Adam epsilon replaces the default. */
export function buildOptimizer(settings: ComparisonSettings, params: readonly Tensor[], epsilon: number | null): Optimizer {
  return settings.optimizer === "adam"
    ? adam(params, { eps: epsilon ?? 1e-8 })
    : sgd(params, { momentum: 0.9, weightDecay: 5e-4 });
}

/** Linear warm-up over 5% of the steps, then cosine decay to 0. */
export function buildSchedule(settings: ComparisonSettings, totalSteps: number): Schedule {
  const warmup = Math.max(1, Math.round(totalSteps * 0.05));
  return linearWarmup(warmup, cosineDecay(settings.learningRate, Math.max(1, totalSteps - warmup)));
}
