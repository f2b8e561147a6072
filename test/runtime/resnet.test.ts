import { describe, expect, it } from "vitest";
import { evalContext } from "../../src/runtime/context.ts";
import { createResNet } from "../../src/runtime/models/resnet.ts";
import { softmaxCrossEntropy } from "../../src/runtime/ops/loss.ts";
import { Tensor } from "../../src/runtime/tensor.ts";
import { backend, gradCheck, randParam } from "./gradcheck.ts";

const tiny = {
  stemChannels: 3,
  stemPool: true,
  stages: [{ channels: 3, blocks: 1, stride: 1 }, { channels: 4, blocks: 2, stride: 2 }],
} as const;

describe("ResNet", () => {
  it("maps [N, 1, 28, 28] to [N, 10] with uniquely named parameters and projection shortcuts where needed", () => {
    const model = createResNet({ stemChannels: 4, stages: [{ channels: 4, blocks: 1, stride: 1 }, { channels: 8, blocks: 1, stride: 2 }] });
    const names = model.parameters().map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("stage1.block0.shortcut.weight");
    expect(names).not.toContain("stage0.block0.shortcut.weight"); // same width, stride 1: identity
    expect(model.parameters().find((p) => p.name === "head.weight")!.shape).toEqual([10, 8]);
    const x = new Tensor([2, 1, 28, 28], Float32Array.from(randParam("x", [2, 1, 28, 28], 1).data));
    const y = model.forward(evalContext(backend), x);
    expect(y.shape).toEqual([2, 10]);
  });

  it("initialization is seeded: same seed same weights, other seed other weights; He variance", () => {
    const a = createResNet({ seed: 3 }).parameters();
    const b = createResNet({ seed: 3 }).parameters();
    const c = createResNet({ seed: 4 }).parameters();
    expect(a.map((p) => Array.from(p.data))).toEqual(b.map((p) => Array.from(p.data)));
    expect(Array.from(a[0].data)).not.toEqual(Array.from(c[0].data));
    const w = a.find((p) => p.name === "stage2.block0.conv2.weight")!; // [64, 64, 3, 3]: fan-in 576
    let sq = 0;
    for (const v of w.data) sq += v * v;
    expect(sq / w.size).toBeCloseTo(2 / 576, 4);
  });

  it("whole-model gradients (float64, train-mode BN, residuals, pooling, loss) match finite differences", () => {
    const model = createResNet({ ...tiny, dtype: "float64", seed: 5 });
    const x = randParam("x", [3, 1, 28, 28], 2);
    const labels = [3, 1, 7];
    const params = model.parameters();
    const res = gradCheck((ctx) => softmaxCrossEntropy(ctx, model.forward(ctx, x), labels), [x, ...params], { sample: 6 });
    expect(res.maxRelError).toBeLessThan(1e-6);
  });

  it("eval mode leaves the running statistics alone", () => {
    const model = createResNet({ ...tiny, seed: 6 });
    const before = [...model.batchNormStates().values()].map((s) => Array.from(s.runningMean));
    const x = new Tensor([2, 1, 28, 28], Float32Array.from(randParam("x", [2, 1, 28, 28], 3).data));
    model.forward(evalContext(backend), x);
    expect([...model.batchNormStates().values()].map((s) => Array.from(s.runningMean))).toEqual(before);
  });
});
