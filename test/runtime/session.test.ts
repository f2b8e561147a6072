import { describe, expect, it } from "vitest";
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/runtime/checkpoint.ts";
import type { Dataset } from "../../src/runtime/data/dataset.ts";
import { LossScaler } from "../../src/runtime/loss-scale.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { adam } from "../../src/runtime/optim/adam.ts";
import { constant } from "../../src/runtime/optim/schedule.ts";
import { sgd } from "../../src/runtime/optim/sgd.ts";
import { Rng } from "../../src/runtime/random.ts";
import { TrainingSession, type SessionOptions } from "../../src/runtime/session.ts";
import { classificationTask } from "../../src/runtime/tasks/classification.ts";
import type { Precision } from "../../src/runtime/precision.ts";
import { parameter } from "../../src/runtime/tensor.ts";

const backend = createReferenceBackend();

function noiseDigits(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  const images = new Float32Array(count * 64);
  for (let i = 0; i < images.length; i++) images[i] = rng.normal() + 0.5 * labels[Math.floor(i / 64)] * ((i % 64) / 64);
  return { images, labels, count, sampleShape: [1, 8, 8], classes: 10 };
}

function task(model: ReturnType<typeof createResNet>) {
  return classificationTask({ name: "resnet", model, data: { train: noiseDigits(64, 1), test: noiseDigits(20, 2) } });
}

function options(seed: number): SessionOptions {
  const model = createResNet({ stemChannels: 4, stemStride: 1, stages: [{ channels: 4, blocks: 1, stride: 2 }], seed });
  return {
    task: task(model), optimizer: adam(model.parameters()), schedule: constant(1e-2),
    epochs: 3, batchSize: 16, seed, backend, lossScaling: { kind: "dynamic", initial: 2 ** 10, growthFactor: 2, backoffFactor: 0.5, growthInterval: 3 },
  };
}

describe("training session", () => {
  it("a checkpoint restored into a fresh session continues with the very same numbers", () => {
    const straight = new TrainingSession(options(5));
    while (!straight.finished) straight.runEpoch();

    const first = new TrainingSession(options(5));
    first.runEpoch();
    const bytes = encodeCheckpoint(first.checkpoint());
    const second = new TrainingSession(options(5));
    second.restore(decodeCheckpoint(bytes, "memory"));
    expect(second.epoch).toBe(1);
    while (!second.finished) second.runEpoch();

    expect(second.losses).toEqual(straight.losses);
    expect(second.records).toEqual(straight.records);
    expect(second.lossScale).toEqual(straight.lossScale);
    expect(second.step).toBe(12);
  });

  it("refuses a checkpoint of another model", () => {
    const a = new TrainingSession(options(1));
    const other = options(1);
    const bigger = task(createResNet({ stemChannels: 6, stemStride: 1, stages: [{ channels: 4, blocks: 1, stride: 2 }] }));
    expect(() => new TrainingSession({ ...other, task: bigger, optimizer: adam(bigger.parameters()) }).restore(a.checkpoint())).toThrow(/stem.weight is missing or does not fit/);
  });

  it("checkpoint bytes that are not a checkpoint are refused with the file name", () => {
    expect(() => decodeCheckpoint(new TextEncoder().encode("hello world, not a checkpoint"), "x.ckpt")).toThrow("x.ckpt: not a numforge checkpoint");
  });
});

describe("loss scaling", () => {
  const param = () => {
    const p = parameter("w", [2], Float32Array.of(1, 2));
    p.grad = Float32Array.of(8, 16);
    return p;
  };

  it("static: divides the gradients by the scale", () => {
    const p = param();
    const s = new LossScaler({ kind: "static", scale: 8 });
    expect(s.unscale([p])).toBe(true);
    expect(Array.from(p.grad!)).toEqual([1, 2]);
  });

  it("dynamic: an overflow skips the step and backs off; clean steps grow the scale", () => {
    const s = new LossScaler({ kind: "dynamic", initial: 1024, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2 });
    const bad = param();
    bad.grad![1] = Infinity;
    expect(s.unscale([bad])).toBe(false);
    expect(s.scale).toBe(512);
    expect(s.skippedSteps).toBe(1);
    expect(s.unscale([param()])).toBe(true);
    expect(s.scale).toBe(512);
    const p = param();
    expect(s.unscale([p])).toBe(true);
    expect(Array.from(p.grad!)).toEqual([8 / 512, 16 / 512]);
    expect(s.scale).toBe(1024);
  });

  it("a session with a dynamic scaler skips overflowing steps instead of diverging", () => {
    const o = options(2);
    // Errors stored in a format whose largest finite value is 65504 (as fp16): beyond it, ±Inf.
    const narrowErrors: Precision = {
      name: "narrow errors",
      active: (role) => role === "error",
      quantize: (_, t) => { for (let i = 0; i < t.length; i++) if (Math.abs(t[i]) > 65504) t[i] = Math.sign(t[i]) * Infinity; },
      quantizesAlongK: () => false,
      rotates: () => false,
      quantizesColumnsInPlace: () => true,
      differs: () => false,
    };
    const session = new TrainingSession({
      ...o, precision: narrowErrors, optimizer: sgd(o.task.parameters(), { momentum: 0.9 }),
      lossScaling: { kind: "dynamic", initial: 1e30, growthFactor: 2, backoffFactor: 1e-6, growthInterval: 1000 },
    });
    session.runEpoch();
    expect(session.diverged).toBeNull();
    expect(session.lossScale.skippedSteps).toBeGreaterThanOrEqual(3);
    expect(session.lossScale.scale).toBeLessThan(1e13);
    for (const p of o.task.parameters()) expect(p.data.every(Number.isFinite)).toBe(true);
  });
});
