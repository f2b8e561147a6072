import { describe, expect, it } from "vitest";
import { batches } from "../../src/runtime/data/batches.ts";
import { loadMnist, loadMnistPackage, splitDataset, splitIndices } from "../../src/runtime/data/mnist.ts";
import { hash32, permutation, Rng } from "../../src/runtime/random.ts";

describe("MNIST from the mnist package", () => {
  const all = loadMnistPackage();

  it("has the 10,000 normalized 28×28 digits with every class present", () => {
    expect(all.count).toBe(10000);
    expect(all.images.length).toBe(10000 * 784);
    const perClass = new Array(10).fill(0);
    for (const l of all.labels) perClass[l]++;
    expect(perClass).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let sum = 0;
    for (const v of all.images) sum += v;
    expect(Math.abs(sum / all.images.length)).toBeLessThan(0.1); // roughly centred
  });

  it("the 8,000 / 2,000 split is deterministic for a seed, disjoint and complete", () => {
    const a = splitIndices(10000, 8000, 42);
    const b = splitIndices(10000, 8000, 42);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(a.train.length).toBe(8000);
    expect(a.test.length).toBe(2000);
    const seen = new Uint8Array(10000);
    for (const i of a.train) seen[i]++;
    for (const i of a.test) seen[i]++;
    expect(seen.every((v) => v === 1)).toBe(true);
    const c = splitIndices(10000, 8000, 43);
    expect(Array.from(c.test)).not.toEqual(Array.from(a.test));
  });

  it("loadMnist applies the split: same seed, same test images", () => {
    const x = loadMnist({ seed: 7 });
    const y = splitDataset(all, 8000, 7);
    expect(x.train.count).toBe(8000);
    expect(x.test.count).toBe(2000);
    expect(Buffer.from(x.test.labels.buffer).equals(Buffer.from(y.test.labels.buffer))).toBe(true);
    expect(Buffer.from(x.train.images.buffer).equals(Buffer.from(y.train.images.buffer))).toBe(true);
    const { test } = splitIndices(10000, 8000, 7);
    expect(Array.from(x.test.images.subarray(784, 1568))).toEqual(Array.from(all.images.subarray(test[1] * 784, test[1] * 784 + 784)));
  });

  it("batches are shuffled by (seed, epoch) reproducibly and cover the set", () => {
    const { test } = splitDataset(all, 8000, 1);
    const labelsOf = (seed: number, epoch: number) =>
      [...batches(test, 300, { seed, epoch })].map((b) => Array.from(b.labels)).flat();
    const e0 = labelsOf(5, 0);
    expect(e0).toEqual(labelsOf(5, 0));
    expect(e0).not.toEqual(labelsOf(5, 1));
    expect(e0.length).toBe(2000);
    expect([...e0].sort()).toEqual(Array.from(test.labels).sort());
    const shapes = [...batches(test, 300, { dropLast: true })].map((b) => b.x.shape);
    expect(shapes.length).toBe(6);
    expect(shapes[0]).toEqual([300, 1, 28, 28]);
  });
});

describe("seeded randomness", () => {
  it("is a pure function of (seed, stream, counter)", () => {
    expect(hash32(1, 2, 3)).toBe(hash32(1, 2, 3));
    expect(hash32(1, 2, 3)).not.toBe(hash32(1, 2, 4));
    const a = new Rng(9).fork("x");
    const b = new Rng(9).fork("x");
    expect([a.uniform(), a.uniform()]).toEqual([b.uniform(), b.uniform()]);
    const p = permutation(1000, new Rng(3));
    expect(new Set(p).size).toBe(1000);
    let mean = 0;
    const r = new Rng(4);
    for (let i = 0; i < 20000; i++) mean += r.normal() / 20000;
    expect(Math.abs(mean)).toBeLessThan(0.03);
  });
});
