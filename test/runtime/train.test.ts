import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import type { Ctx } from "../../src/runtime/context.ts";
import type { Dataset } from "../../src/runtime/data/dataset.ts";
import { loadMnist } from "../../src/runtime/data/mnist.ts";
import type { Model } from "../../src/runtime/models/model.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { linear } from "../../src/runtime/ops/linear.ts";
import { flatten } from "../../src/runtime/ops/shape.ts";
import { cosineDecay, linearWarmup } from "../../src/runtime/optim/schedule.ts";
import { sgd } from "../../src/runtime/optim/sgd.ts";
import { Rng } from "../../src/runtime/random.ts";
import { parameter, type Tensor } from "../../src/runtime/tensor.ts";
import { train, type ProgressEvent } from "../../src/runtime/train.ts";

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

describe("trainer", () => {
  it("records every step's loss and every epoch's test accuracy, and reports progress", () => {
    const model = softmaxRegression();
    const events: ProgressEvent[] = [];
    const r = train({
      model, data: { train: blobs(64, 1), test: blobs(32, 2) }, optimizer: sgd(model.parameters(), { momentum: 0.9 }),
      schedule: () => 0.1, epochs: 3, batchSize: 16, seed: 0, backend, onProgress: (e) => events.push(e),
    });
    expect(r.diverged).toBeNull();
    expect(r.steps).toBe(12);
    expect(r.losses.length).toBe(12);
    expect(r.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(r.epochs[2].testAccuracy).toBe(1);
    expect(r.losses[11]).toBeLessThan(r.losses[0]);
    expect(events.filter((e) => e.kind === "step").length).toBe(12);
    expect(events.filter((e) => e.kind === "epoch").length).toBe(3);
  });

  it("a non-finite loss ends the run with diverged and the step, without throwing", () => {
    const model = softmaxRegression();
    const r = train({
      model, data: { train: blobs(64, 1), test: blobs(32, 2) }, optimizer: sgd(model.parameters()),
      schedule: (step) => (step === 2 ? Infinity : 0.1), epochs: 5, batchSize: 16, seed: 0, backend,
    });
    expect(r.diverged?.step).toBe(3);
    expect(Number.isFinite(r.diverged!.loss)).toBe(false);
    expect(r.losses.length).toBe(3);
    expect(r.epochs.length).toBe(0);
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
      model, data, backend, seed: 0, epochs: 1, batchSize: 32, maxSteps: steps,
      optimizer: sgd(model.parameters(), { momentum: 0.9, weightDecay: 5e-4 }),
      schedule: linearWarmup(20, cosineDecay(0.2, steps - 20)),
    });
    expect(r.diverged).toBeNull();
    expect(r.steps).toBe(steps);
    expect(r.epochs[0].testAccuracy).toBeGreaterThanOrEqual(0.9);
  });
});
