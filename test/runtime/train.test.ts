import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import type { Ctx } from "../../src/runtime/context.ts";
import type { Dataset, TrainTest } from "../../src/runtime/data/dataset.ts";
import { loadMnist } from "../../src/runtime/data/mnist.ts";
import type { Model } from "../../src/runtime/models/model.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { flatten } from "../../src/runtime/ops/shape.ts";
import { cosineDecay, linearWarmup } from "../../src/runtime/optim/schedule.ts";
import { sgd } from "../../src/runtime/optim/sgd.ts";
import type { Optimizer } from "../../src/runtime/optim/optimizer.ts";
import type { Schedule } from "../../src/runtime/optim/schedule.ts";
import { Rng } from "../../src/runtime/random.ts";
import { TrainingSession, type EpochRecord, type StepEvent } from "../../src/runtime/session.ts";
import { classificationTask } from "../../src/runtime/tasks/classification.ts";
import { parameter, type Tensor } from "../../src/runtime/tensor.ts";

const backend = createReferenceBackend();

/** Two Gaussian blobs in 4-D, linearly separable. */
function blobs(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const images = new Float32Array(count * 4);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2;
    for (let j = 0; j < 4; j++) images[i * 4 + j] = (labels[i] ? 1.5 : -1.5) + 0.5 * rng.normal();
  }
  return { images, labels, count, sampleShape: [4], classes: 2 };
}

function softmaxRegression(): Model {
  const w = parameter("fc.weight", [2, 4], new Float32Array(8));
  const b = parameter("fc.bias", [2], new Float32Array(2));
  return { name: "logreg", parameters: () => [w, b], forward: (ctx: Ctx, x: Tensor) => linear(ctx, flatten(ctx, x), w, b, "fc") };
}

interface RunOptions {
  readonly model: Model;
  readonly data: TrainTest;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly epochs: number;
  readonly batchSize: number;
  readonly stepsPerEpoch?: number;
  readonly onStep?: (e: StepEvent) => void;
  readonly onEpoch?: (e: EpochRecord) => void;
}

/** Trains a classifier to the end through a TrainingSession. */
function train(o: RunOptions): TrainingSession {
  const session = new TrainingSession({
    task: classificationTask({ name: o.model.name, model: o.model, data: o.data }),
    optimizer: o.optimizer, schedule: o.schedule, epochs: o.epochs, batchSize: o.batchSize, stepsPerEpoch: o.stepsPerEpoch, seed: 0, backend,
  });
  while (!session.finished) {
    const record = session.runEpoch(o.onStep);
    if (record !== null) o.onEpoch?.(record);
  }
  return session;
}

describe("trainer", () => {
  it("records every step's loss and every epoch's test accuracy, and reports progress", () => {
    const model = softmaxRegression();
    let stepEvents = 0;
    let epochEvents = 0;
    const r = train({
      model, data: { train: blobs(64, 1), test: blobs(32, 2) }, optimizer: sgd(model.parameters(), { momentum: 0.9 }),
      schedule: () => 0.1, epochs: 3, batchSize: 16, onStep: () => stepEvents++, onEpoch: () => epochEvents++,
    });
    expect(r.diverged).toBeNull();
    expect(r.step).toBe(12);
    expect(r.examples).toBe(12 * 16);
    expect(r.losses.length).toBe(12);
    expect(r.records.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(r.records[2].metrics.accuracy).toBe(1);
    expect(r.losses[11]).toBeLessThan(r.losses[0]);
    expect(stepEvents).toBe(12);
    expect(epochEvents).toBe(3);
  });

  it("a non-finite loss ends the run with diverged and the step, without throwing", () => {
    const model = softmaxRegression();
    const r = train({
      model, data: { train: blobs(64, 1), test: blobs(32, 2) }, optimizer: sgd(model.parameters()),
      schedule: (step) => (step === 2 ? Infinity : 0.1), epochs: 5, batchSize: 16,
    });
    expect(r.diverged?.step).toBe(3);
    expect(Number.isFinite(r.diverged!.loss)).toBe(false);
    expect(r.losses.length).toBe(3);
    expect(r.records.length).toBe(0);
  });

  it("a small ResNet trained in float32 with SGD + momentum reaches ≥ 90% test accuracy on MNIST digits", () => {
    const data = loadMnist({ seed: 0 });
    // Sized for speed on 2 cores (~200 images/s): a stride-2 stem, then two stride-2 stages with
    // projection shortcuts (14×14 → 7×7 → 4×4). Reaches ~93% after 200 steps.
    const model = createResNet({
      stemChannels: 8,
      stemStride: 2,
      stages: [{ channels: 16, blocks: 1, stride: 2 }, { channels: 32, blocks: 1, stride: 2 }],
      seed: 0,
    });
    const steps = 200; // 6,400 of the 8,000 training digits at batch 32
    const r = train({
      model, data, epochs: 1, batchSize: 32, stepsPerEpoch: steps,
      optimizer: sgd(model.parameters(), { momentum: 0.9, weightDecay: 5e-4 }),
      schedule: linearWarmup(20, cosineDecay(0.2, steps - 20)),
    });
    expect(r.diverged).toBeNull();
    expect(r.step).toBe(steps);
    expect(r.records[0].metrics.accuracy).toBeGreaterThanOrEqual(0.9);
  });
});
