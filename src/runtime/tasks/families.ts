/**
 * The model families `numforge compare --model` trains: each names its defaults, loads its data
 * once per process, and builds the Task of one run. Adding a family is one file under
 * src/runtime/tasks and one line in FAMILIES.
 */
import type { ModelSettings, OptimizerName } from "../compare/settings.ts";
import { ncfFamily } from "./ncf.ts";
import { resnetFamily } from "./resnet.ts";
import { transformerFamily } from "./transformer-family.ts";
import type { MetricInfo, Task } from "./task.ts";

/** Per-run choices a recipe makes about the model itself. */
export interface TaskOptions {
  /** "standard": batch/layer norm with the standard deviation; "l1": their L1 versions (ShiftQuant recipes). */
  readonly normalization: "standard" | "l1";
}

/** The defaults a family trains with when the command line does not say. */
export interface FamilyDefaults {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerName;
  /** Peak learning rate per optimizer. */
  readonly learningRate: Readonly<Record<OptimizerName, number>>;
  /** ResNet width at scale 1 (null: the family has no width). */
  readonly width: number | null;
}

export interface ModelFamily {
  readonly name: string;
  /** One line for `numforge compare --help`. */
  readonly description: string;
  /** What `--data` points at for this family. */
  readonly dataHelp: string;
  readonly defaults: FamilyDefaults;
  /** The metrics its tasks report, primary first (the same as every task's `metrics`). */
  readonly metrics: readonly MetricInfo[];
  /** One sentence: model size and data, for reports. */
  describe(settings: ModelSettings): string;
  /** Loads (and caches, per process) the data the settings name; throws an Error naming the file on bad data. */
  load(settings: ModelSettings): void;
  /** The task of one run: the model initialized from `seed`, over the loaded data. */
  createTask(settings: ModelSettings, seed: number, options: TaskOptions): Task;
}

/** Every family, in the order `--model all` trains them. */
export const FAMILIES: readonly ModelFamily[] = [resnetFamily, transformerFamily, ncfFamily];

/** The family named `name`, or undefined. */
export function familyOf(name: string): ModelFamily | undefined {
  return FAMILIES.find((f) => f.name === name);
}

/** The family of `settings.model`; throws when unknown (settings come from the CLI, which checked). */
export function familyFor(settings: ModelSettings): ModelFamily {
  const family = familyOf(settings.model);
  if (family === undefined) throw new Error(`unknown model "${settings.model}"; models: ${FAMILIES.map((f) => f.name).join(", ")}`);
  return family;
}
