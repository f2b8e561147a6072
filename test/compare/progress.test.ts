import { describe, expect, it } from "vitest";
import { progressReporter } from "../../src/report/progress.ts";
import type { RunResult } from "../../src/runtime/compare/results.ts";
import { ACCURACY } from "../../src/runtime/tasks/classification.ts";

const run: RunResult = {
  model: "resnet", recipe: "s2fp8", recipeFingerprint: "x", seed: 1, losses: [1, 0.5], epochs: [{ epoch: 0, steps: 2, trainLoss: 0.7, testLoss: 0.6, metrics: { accuracy: 0.9 } }],
  metric: "accuracy", finalMetric: 0.9, finalMetrics: { accuracy: 0.9 }, diverged: null, steps: 2, examples: 64, wallSeconds: 1.5, lossScale: { final: 1, skippedSteps: 0 }, backend: "wasm",
};

function feed(terminal: boolean): string {
  let out = "";
  let t = 0;
  const report = progressReporter((s) => (out += s), terminal, () => (t += 200));
  const id = { model: "resnet", recipe: "s2fp8", seed: 1 };
  report({ kind: "run-skip", model: "resnet", recipe: "fp32", seed: 0, index: 0, count: 2 });
  report({ kind: "run-start", ...id, index: 1, count: 2, totalSteps: 20, resumedAtEpoch: 0, metrics: [ACCURACY] });
  for (let step = 1; step <= 20; step++) report({ kind: "step", ...id, step, epoch: 0, loss: 1 / step, lr: 0.1, totalSteps: 20 });
  report({ kind: "epoch", ...id, record: { epoch: 0, steps: 20, trainLoss: 0.7, testLoss: 0.6, metrics: { accuracy: 0.9 } } });
  report({ kind: "run-end", run });
  return out;
}

describe("comparison progress", () => {
  it("plain lines when stderr is not a terminal: no carriage returns, every line names its run", () => {
    const out = feed(false);
    expect(out).not.toContain("\r");
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toBe("[1/2] fp32 seed 0: already finished, skipped");
    expect(lines[1]).toBe("[2/2] s2fp8 seed 1: training, 20 steps");
    expect(lines.filter((l) => l.includes(": step ")).length).toBe(9); // every tenth, not the last
    expect(lines.at(-2)).toBe("[2/2] s2fp8 seed 1: epoch 1: test acc 90.00%, test loss 0.6000");
    expect(lines.at(-1)).toBe("[2/2] s2fp8 seed 1: test acc 90.00%, 2 steps, 1.5 s");
  });

  it("a bar redrawn in place on a terminal, cleared before each permanent line", () => {
    const out = feed(true);
    expect(out).toContain("\r\x1b[K[2/2] s2fp8 seed 1 ████████████████████████ 20/20 loss 0.050");
    expect(out).toContain("\r\x1b[K[2/2] s2fp8 seed 1: epoch 1: test acc 90.00%");
    expect(out.match(/\n/g)).toHaveLength(3); // the skip, epoch and end lines; steps only redraw
  });
});
