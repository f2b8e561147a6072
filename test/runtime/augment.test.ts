import { describe, expect, it } from "vitest";
import { augmentRng, randomTranslate } from "../../src/runtime/data/augment.ts";
import type { Dataset } from "../../src/runtime/data/dataset.ts";
import { classificationTask } from "../../src/runtime/tasks/classification.ts";
import { Rng } from "../../src/runtime/random.ts";
import { Tensor } from "../../src/runtime/tensor.ts";

const H = 7;
const W = 9;

/** A batch of [B, C, H, W] distinct random values (so each shift gives a different result). */
function batch(b: number, c: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor([b, c, H, W], Float32Array.from({ length: b * c * H * W }, () => 1 + rng.uniform()));
}

/** The plane translated by (dy, dx) with zero fill, computed pixel by pixel. */
function translated(plane: Float32Array, dy: number, dx: number): Float32Array {
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const sy = y - dy;
    const sx = x - dx;
    out[y * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? plane[sy * W + sx] : 0;
  }
  return out;
}

describe("random translation of training images", () => {
  it("moves every sample, all its channels alike, by one shift within the bound, zero-filling the border; shifts cover the range", () => {
    const max = 2;
    const x = batch(200, 2, 1);
    const before = x.data.slice() as Float32Array;
    randomTranslate(x, max, new Rng(5));
    const seen = new Set<string>();
    for (let b = 0; b < 200; b++) {
      const plane = (c: number, data: Float32Array) => data.subarray((b * 2 + c) * H * W, (b * 2 + c + 1) * H * W);
      const matches: string[] = [];
      for (let dy = -max; dy <= max; dy++) for (let dx = -max; dx <= max; dx++) {
        if ([0, 1].every((c) => translated(plane(c, before), dy, dx).every((v, i) => v === plane(c, x.data as Float32Array)[i]))) matches.push(`${dy},${dx}`);
      }
      expect(matches, `sample ${b}`).toHaveLength(1);
      seen.add(matches[0]);
    }
    expect(seen.size).toBe((2 * max + 1) ** 2);
  });

  it("is a function of (seed, epoch, batch): a resumed run augments as an uninterrupted one", () => {
    const a = batch(8, 1, 2);
    const b = batch(8, 1, 2);
    const c = batch(8, 1, 2);
    randomTranslate(a, 3, augmentRng(0, 1, 4));
    randomTranslate(b, 3, augmentRng(0, 1, 4));
    randomTranslate(c, 3, augmentRng(0, 1, 5));
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
  });

  it("0 leaves the images alone; bad bounds and shapes are refused", () => {
    const x = batch(3, 1, 3);
    const before = x.data.slice();
    randomTranslate(x, 0, new Rng(0));
    expect(x.data).toEqual(before);
    expect(() => randomTranslate(x, 1.5, new Rng(0))).toThrow(/maxShift/);
    expect(() => randomTranslate(new Tensor([2, 3], new Float32Array(6)), 1, new Rng(0))).toThrow(/\[B, C, H, W\]/);
  });
});

describe("a classification task with augmentShift", () => {
  /** Records the inputs its forward pass sees. */
  function taskSeeing(shift: number, seen: Float32Array[]) {
    const rng = new Rng(9);
    const images = Float32Array.from({ length: 16 * H * W }, () => rng.uniform());
    const data: Dataset = { images, labels: new Uint8Array(16), count: 16, sampleShape: [1, H, W], classes: 2 };
    const model = {
      name: "spy",
      parameters: () => [],
      forward: (_ctx: unknown, x: Tensor) => {
        seen.push(x.data.slice() as Float32Array);
        return new Tensor([x.shape[0], 2], new Float32Array(x.shape[0] * 2));
      },
    };
    return classificationTask({ name: "spy", model, data: { train: data, test: data }, augmentShift: shift });
  }
  const inputs = (shift: number, epoch: number) => {
    const seen: Float32Array[] = [];
    for (const batch of taskSeeing(shift, seen).trainBatches(4, 3, epoch)) batch.loss({ training: true } as never);
    return seen;
  };

  it("trains on translated images, the same ones for the same (seed, epoch)", () => {
    const plain = inputs(0, 0);
    const shifted = inputs(2, 0);
    expect(shifted).toHaveLength(4);
    expect(shifted.some((x, b) => x.some((v, i) => v !== plain[b][i]))).toBe(true);
    expect(inputs(2, 0)).toEqual(shifted);
  });
});
