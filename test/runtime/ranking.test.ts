import { describe, expect, it } from "vitest";
import { hitAt, ndcgAt, rankingMetrics, rankOfPositive } from "../../src/runtime/metrics/ranking.ts";

/** One user's 100 candidates: the test item scored `positive`, then `above` negatives at 1 + positive and the rest below it. */
function user(positive: number, above: number, tiedAbove = 0): number[] {
  const negatives = Array.from({ length: 99 }, (_, j) => (j < above ? positive + 1 : j < above + tiedAbove ? positive : positive - 1 - j));
  return [positive, ...negatives];
}

describe("rank of the test item", () => {
  it("counts the negatives scored above it", () => {
    expect(rankOfPositive(5, [1, 2, 3])).toBe(0);
    expect(rankOfPositive(2, [3, 1, 4, 0])).toBe(2);
    expect(rankOfPositive(-1, [3, 1, 4, 0])).toBe(4);
  });

  it("counts a tied negative as ranked above (ties are held against the model)", () => {
    expect(rankOfPositive(2, [3, 1, 2, 0])).toBe(2);
    expect(rankOfPositive(0.5, [0.5, 0.5, 0.5])).toBe(3);
    expect(rankOfPositive(-0, [0])).toBe(1);
  });

  it("ranks a NaN test item last and counts a NaN negative above", () => {
    expect(rankOfPositive(NaN, [1, 2, 3])).toBe(3);
    expect(rankOfPositive(5, [1, NaN, 3])).toBe(1);
  });

  it("reads only the slice it is given", () => {
    expect(rankOfPositive(2, [9, 9, 3, 1, 9], 2, 4)).toBe(1);
  });
});

describe("HR@K and NDCG@K of one user", () => {
  it("are 1 at rank 0", () => {
    expect(hitAt(0, 10)).toBe(1);
    expect(ndcgAt(0, 10)).toBe(1);
  });

  it("count rank K−1 and drop rank K (0-based ranks)", () => {
    expect(hitAt(9, 10)).toBe(1);
    expect(ndcgAt(9, 10)).toBeCloseTo(1 / Math.log2(11), 15);
    expect(hitAt(10, 10)).toBe(0);
    expect(ndcgAt(10, 10)).toBe(0);
  });

  it("give NDCG 1/log2(3) at rank 1 and 1/2 at rank 2", () => {
    expect(ndcgAt(1, 10)).toBeCloseTo(0.6309297535714575, 15);
    expect(ndcgAt(2, 3)).toBe(0.5);
    expect(ndcgAt(2, 2)).toBe(0);
  });
});

describe("rankingMetrics over users (test item first, 99 negatives)", () => {
  it("averages hand-computed ranks 0, 2, 9, 10 and 15", () => {
    const scores = [...user(3, 0), ...user(3, 2), ...user(0, 9), ...user(1, 10), ...user(2, 15)];
    const m = rankingMetrics(scores, 100, 10);
    expect(m.hitRatio).toBe(3 / 5);
    expect(m.ndcg).toBeCloseTo((1 + 0.5 + 1 / Math.log2(11)) / 5, 15);
  });

  it("pushes a test item out of the top 10 through ties at the boundary", () => {
    expect(rankingMetrics(user(1, 9, 0), 100, 10).hitRatio).toBe(1);
    expect(rankingMetrics(user(1, 8, 1), 100, 10).hitRatio).toBe(1);
    expect(rankingMetrics(user(1, 9, 1), 100, 10).hitRatio).toBe(0);
    expect(rankingMetrics(user(1, 0, 10), 100, 10).hitRatio).toBe(0);
  });

  it("gives a constant scorer HR@10 = 0, not 1", () => {
    const m = rankingMetrics(new Float32Array(100 * 7).fill(0.25), 100, 10);
    expect(m).toEqual({ hitRatio: 0, ndcg: 0 });
  });

  it("rejects scores that are not whole groups, K < 1 and no users", () => {
    expect(() => rankingMetrics(new Float64Array(150), 100, 10)).toThrow(/150 scores are not groups of 100/);
    expect(() => rankingMetrics(new Float64Array(100), 100, 0)).toThrow(/K must be a positive integer/);
    expect(() => rankingMetrics(new Float64Array(0), 100, 10)).toThrow(/no users/);
  });
});
