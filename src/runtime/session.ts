/**
 * A resumable training run: the trainer of train.ts cut at epoch boundaries, with loss scaling,
 * a step-aware precision, and a checkpoint of everything that changes between epochs
 * (parameters, batch-norm running statistics, optimizer state, scaler and precision state, the
 * step counter that drives the schedule, the batch order and stochastic rounding, and the
 * metrics so far). Restoring a checkpoint into a fresh session built from the same options and
 * running on gives the same numbers as never stopping.
 */
import type { Backend } from "./backend.ts";
import type { Checkpoint, StoredArray } from "./checkpoint.ts";
import { trainContext } from "./context.ts";
import { LossScaler, type LossScaleConfig, type LossScaleState } from "./loss-scale.ts";
import type { Optimizer } from "./optim/optimizer.ts";
import type { Schedule } from "./optim/schedule.ts";
import { identityPrecision, type Precision } from "./precision.ts";
import type { Task } from "./tasks/task.ts";

/** A precision that may depend on the step and may carry state between calls (RecipePrecision). */
export interface SessionPrecision extends Precision {
  setStep?(step: number): void;
  state?(): Readonly<Record<string, Readonly<Record<string, StoredArray>>>>;
  restore?(state: Readonly<Record<string, Readonly<Record<string, StoredArray>>>>): void;
}

/** Everything a run depends on; the same options give the same numbers. */
export interface SessionOptions {
  /** The model, its data, loss and evaluation. */
  readonly task: Task;
  /** Built over `task.parameters()`. */
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly epochs: number;
  readonly batchSize: number;
  /** Seeds the batch order (with the epoch) and, through the precision, stochastic rounding. */
  readonly seed: number;
  readonly backend: Backend;
  readonly precision?: SessionPrecision;
  readonly lossScaling?: LossScaleConfig;
  /** Use only the first S batches of each epoch (quick runs); default: all of them. */
  readonly stepsPerEpoch?: number;
}

/** Metrics after one epoch: the training loss and the task's evaluation on its test split. */
export interface EpochRecord {
  readonly epoch: number;
  /** Steps completed so far, over all epochs. */
  readonly steps: number;
  readonly trainLoss: number;
  readonly testLoss: number;
  /** Every metric of `task.metrics`, by key. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** Reported after every step. */
export interface StepEvent {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  readonly totalSteps: number;
}

/** Where a run stopped on a non-finite value: the 0-based step and the loss there (NaN when the weights went bad). */
export interface Divergence {
  readonly step: number;
  readonly loss: number;
}

interface Meta {
  readonly version: 2;
  readonly epoch: number;
  readonly step: number;
  readonly losses: number[];
  readonly records: EpochRecord[];
  readonly diverged: { readonly step: number; readonly loss: string } | null;
  readonly elapsedMs: number;
  readonly examples: number;
  readonly lossScale: LossScaleState;
  readonly counters: Readonly<Record<string, number>>;
  readonly precisionKeys: readonly string[];
}

/** One (model, precision, seed) training run, advanced an epoch at a time. */
export class TrainingSession {
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Completed epochs. */
  epoch = 0;
  /** Completed steps (also the 0-based index of the next one). */
  step = 0;
  readonly losses: number[] = [];
  readonly records: EpochRecord[] = [];
  diverged: Divergence | null = null;
  /** Training and evaluation time, summed over every process that worked on the run. */
  elapsedMs = 0;
  /** Training examples seen (images, words, user–item pairs). */
  examples = 0;
  private readonly precision: SessionPrecision;
  private readonly scaler: LossScaler;

  constructor(private readonly options: SessionOptions) {
    const perEpoch = options.task.batchesPerEpoch(options.batchSize);
    if (perEpoch === 0) throw new RangeError(`training ${options.task.name}: batch size ${options.batchSize} leaves no full batch of training data`);
    this.stepsPerEpoch = Math.min(perEpoch, options.stepsPerEpoch ?? Infinity);
    this.totalSteps = this.stepsPerEpoch * options.epochs;
    this.precision = options.precision ?? identityPrecision;
    this.scaler = new LossScaler(options.lossScaling ?? { kind: "none" });
    // Standalone recipes store the parameters in a narrow format from the start.
    for (const p of options.task.parameters()) if (this.precision.active("master", p.name)) this.precision.quantize("master", p.data, p.name);
  }

  /** No epoch left, or diverged. */
  get finished(): boolean {
    return this.diverged !== null || this.epoch >= this.options.epochs;
  }

  get lossScale(): LossScaleState {
    return this.scaler.state();
  }

  /** Trains one epoch and evaluates on the test set; returns its record, or null if the run diverged. */
  runEpoch(onStep?: (event: StepEvent) => void): EpochRecord | null {
    if (this.finished) throw new Error("training: the run is already finished");
    const { task, optimizer, schedule, batchSize, seed, backend } = this.options;
    const params = optimizer.params;
    const start = performance.now();
    const epoch = this.epoch;
    let lossSum = 0;
    let steps = 0;
    try {
      for (const batch of task.trainBatches(batchSize, seed, epoch)) {
        if (steps >= this.stepsPerEpoch) break;
        this.precision.setStep?.(this.step);
        const ctx = trainContext(backend, this.precision);
        const lossT = batch.loss(ctx);
        const loss = lossT.data[0];
        if (!Number.isFinite(loss)) {
          this.diverged = { step: this.step, loss };
          return null;
        }
        const seedGradient = lossT.data instanceof Float64Array ? Float64Array.of(this.scaler.scale) : Float32Array.of(this.scaler.scale);
        ctx.tape.backward(lossT, seedGradient);
        const lr = schedule(this.step);
        if (this.scaler.unscale(params)) optimizer.step(lr, this.precision);
        optimizer.zeroGrad();
        this.losses.push(loss);
        lossSum += loss;
        steps++;
        this.examples += batch.examples;
        this.step++;
        onStep?.({ step: this.step, epoch, loss, lr, totalSteps: this.totalSteps });
      }
      if (!params.every((p) => p.data.every(Number.isFinite))) {
        // The last update of the epoch broke the weights: no later loss would show it.
        this.diverged = { step: this.step - 1, loss: Number.NaN };
        return null;
      }
      this.precision.setStep?.(this.step);
      const test = task.evaluate(backend, this.precision);
      const record: EpochRecord = { epoch, steps: this.step, trainLoss: lossSum / Math.max(1, steps), testLoss: test.loss, metrics: test.metrics };
      this.records.push(record);
      this.epoch++;
      return record;
    } finally {
      this.elapsedMs += performance.now() - start;
    }
  }

  /** Everything needed to continue this run in a fresh session built from the same options. */
  checkpoint(): Checkpoint {
    const arrays = new Map<string, StoredArray>();
    for (const p of this.options.task.parameters()) arrays.set(`param/${p.name}`, p.data);
    for (const [site, s] of this.options.task.normStates?.() ?? []) {
      arrays.set(`bn/${site}/mean`, s.runningMean);
      arrays.set(`bn/${site}/var`, s.runningVar);
    }
    const opt = this.options.optimizer.state();
    for (const [site, buffer] of Object.entries(opt.buffers)) arrays.set(`opt/${site}`, buffer);
    const precisionState = this.precision.state?.() ?? {};
    for (const [key, buffers] of Object.entries(precisionState)) {
      for (const [name, buffer] of Object.entries(buffers)) arrays.set(`prec/${key}/${name}`, buffer);
    }
    const meta: Meta = {
      version: 2,
      epoch: this.epoch,
      step: this.step,
      losses: this.losses,
      records: this.records,
      diverged: this.diverged === null ? null : { step: this.diverged.step, loss: String(this.diverged.loss) },
      elapsedMs: this.elapsedMs,
      examples: this.examples,
      lossScale: this.scaler.state(),
      counters: opt.counters,
      precisionKeys: Object.keys(precisionState),
    };
    return { meta, arrays };
  }

  /** Loads a checkpoint of a session with the same options; throws naming what does not fit. */
  restore(checkpoint: Checkpoint): void {
    const meta = checkpoint.meta as Meta;
    if (meta?.version !== 2) throw new Error("checkpoint: unknown version");
    // A count that does not fit this run would end it early as finished, or index past its data.
    const count = (x: unknown, max: number) => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= max;
    const counts = count(meta.epoch, this.options.epochs) && count(meta.step, this.totalSteps)
      && Array.isArray(meta.losses) && meta.losses.length === meta.step && Array.isArray(meta.records) && meta.records.length === meta.epoch
      && (meta.diverged !== null || meta.step === meta.epoch * this.stepsPerEpoch);
    if (!counts) throw new Error(`checkpoint: epoch ${meta.epoch}, step ${meta.step} do not fit a run of ${this.options.epochs} epochs of ${this.stepsPerEpoch} steps`);
    const take = (name: string, into: StoredArray) => {
      const saved = checkpoint.arrays.get(name);
      if (saved === undefined || saved.length !== into.length || saved.constructor !== into.constructor)
        throw new Error(`checkpoint: ${name} is missing or does not fit (${into.length} ${into.constructor.name} expected)`);
      into.set(saved as never);
    };
    for (const p of this.options.task.parameters()) take(`param/${p.name}`, p.data);
    for (const [site, s] of this.options.task.normStates?.() ?? []) {
      take(`bn/${site}/mean`, s.runningMean);
      take(`bn/${site}/var`, s.runningVar);
    }
    const buffers: Record<string, StoredArray> = {};
    for (const site of Object.keys(this.options.optimizer.state().buffers)) {
      const saved = checkpoint.arrays.get(`opt/${site}`);
      if (saved === undefined) throw new Error(`checkpoint: no optimizer buffer ${site}`);
      buffers[site] = saved;
    }
    this.options.optimizer.restore({ buffers: buffers as Record<string, Float32Array>, counters: meta.counters });
    const precisionState: Record<string, Record<string, StoredArray>> = {};
    for (const key of meta.precisionKeys) {
      const prefix = `prec/${key}/`;
      precisionState[key] = {};
      for (const [name, array] of checkpoint.arrays) if (name.startsWith(prefix)) precisionState[key][name.slice(prefix.length)] = array;
    }
    this.precision.restore?.(precisionState);
    this.scaler.restore(meta.lossScale);
    this.epoch = meta.epoch;
    this.step = meta.step;
    this.losses.splice(0, this.losses.length, ...meta.losses);
    this.records.splice(0, this.records.length, ...meta.records);
    this.diverged = meta.diverged === null ? null : { step: meta.diverged.step, loss: Number(meta.diverged.loss) };
    this.elapsedMs = meta.elapsedMs;
    this.examples = meta.examples;
  }
}
