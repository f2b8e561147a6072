import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateImplicitFeedback, plantedUtility } from "../../src/runtime/data/implicit-generator.ts";
import { itemCounts, itemsOf, type ImplicitFeedback } from "../../src/runtime/data/implicit.ts";
import { epochExamples, leaveOneOut } from "../../src/runtime/data/leave-one-out.ts";
import { loadMovieLens, parseMovieLens } from "../../src/runtime/data/movielens.ts";
import { rankingMetrics } from "../../src/runtime/metrics/ranking.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/movielens/${name}`, import.meta.url));
const small = { users: 400, items: 600 } as const;
const rows = (data: ImplicitFeedback) => Array.from({ length: data.users }, (_, u) => Array.from(itemsOf(data, u)));

describe("implicit-feedback generator", () => {
  const { data, planted } = generateImplicitFeedback({ seed: 1, ...small });

  it("is a pure function of its seed", () => {
    const again = generateImplicitFeedback({ seed: 1, ...small }).data;
    expect(again.interactions).toEqual(data.interactions);
    expect(again.offsets).toEqual(data.offsets);
    expect(generateImplicitFeedback({ seed: 2, ...small }).data.interactions).not.toEqual(data.interactions);
  });

  it("gives every user 20–40 distinct items", () => {
    const counts = rows(data).map((r) => r.length);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...counts)).toBeLessThanOrEqual(40);
    expect(new Set(counts).size).toBeGreaterThan(10);
    for (const r of rows(data)) expect(new Set(r).size).toBe(r.length);
  });

  it("plants the popularity skew: the 10% most popular items get several times the interactions of the less popular half", () => {
    const skew = (d: ImplicitFeedback, logPopularity: Float64Array) => {
      const counts = itemCounts(d);
      const order = Array.from({ length: d.items }, (_, i) => i).sort((a, b) => logPopularity[b] - logPopularity[a]);
      const mean = (ix: number[]) => ix.reduce((s, i) => s + counts[i], 0) / ix.length;
      return mean(order.slice(0, d.items / 10)) / mean(order.slice(d.items / 2));
    };
    expect(skew(data, planted.logPopularity)).toBeGreaterThan(3);
    const flat = generateImplicitFeedback({ seed: 1, ...small, zipfExponent: 0 });
    expect(flat.planted.logPopularity.every((v) => v === 0)).toBe(true);
    expect(skew(flat.data, planted.logPopularity)).toBeLessThan(1.5);
  });

  it("plants preferences a ranker can find: the true utility ranks held-out items far above chance and above popularity", () => {
    const split = leaveOneOut(data, 0);
    const oracle: number[] = [], popularity: number[] = [];
    for (let u = 0; u < data.users; u++) {
      for (const i of [split.testItems[u], ...split.testNegatives.subarray(u * 99, (u + 1) * 99)]) {
        oracle.push(plantedUtility(planted, u, i));
        popularity.push(planted.logPopularity[i]);
      }
    }
    const best = rankingMetrics(oracle, 100, 10).hitRatio;
    const popular = rankingMetrics(popularity, 100, 10).hitRatio;
    expect(best).toBeGreaterThan(0.6);
    expect(popular).toBeGreaterThan(0.2);
    expect(best).toBeGreaterThan(popular + 0.2);
  });

  it("rejects impossible settings", () => {
    expect(() => generateImplicitFeedback({ seed: 0, users: 3, items: 10 })).toThrow(/max ≤ items/);
    expect(() => generateImplicitFeedback({ seed: 0, scale: 0 })).toThrow(/scale must be positive/);
    expect(() => generateImplicitFeedback({ seed: 0, ...small, rank: 0 })).toThrow(/rank must be a positive integer/);
  });
});

describe("MovieLens loader", () => {
  it("reads ratings.dat (ML-1M): dense ids in id order, each user's items by timestamp, ties in file order", () => {
    const d = loadMovieLens(fixture("ratings.dat"));
    expect(Array.from(d.userIds)).toEqual([1, 2, 10]);
    expect(Array.from(d.itemIds)).toEqual([661, 914, 1193, 1357, 3068]);
    expect(rows(d)).toEqual([[2, 1, 0], [3, 4, 2], [4, 0, 1]]);
    expect(d.source).toBe(fixture("ratings.dat"));
  });

  it("reads u.data (ML-100K, tab-separated)", () => {
    const d = loadMovieLens(fixture("u.data"));
    expect(Array.from(d.userIds)).toEqual([22, 186, 196]);
    expect(Array.from(d.itemIds)).toEqual([51, 242, 302, 377]);
    expect(rows(d)).toEqual([[3], [1, 2], [0, 1]]);
  });

  it("accepts CRLF line ends and blank lines", () => {
    expect(rows(parseMovieLens("5::7::1::20\r\n\r\n5::3::4::10\r\n", "x.dat"))).toEqual([[0, 1]]);
  });

  it("rejects malformed files with file:line", () => {
    expect(() => loadMovieLens(fixture("bad-fields.dat"))).toThrow(`${fixture("bad-fields.dat")}:3: expected 4 fields UserID::MovieID::Rating::Timestamp as in ratings.dat (ML-1M), got 3 in "2::1357::5"`);
    expect(() => loadMovieLens(fixture("bad-id.data"))).toThrow(`${fixture("bad-id.data")}:2: item id "abc" is not a positive integer`);
    expect(() => loadMovieLens(fixture("truncated.dat"))).toThrow(`${fixture("truncated.dat")}:3: truncated: the last line "2::1357::5::9782" has no line break`);
    expect(() => loadMovieLens(fixture("duplicate.dat"))).toThrow(`${fixture("duplicate.dat")}:3: user 1 rated item 1193 again (also on line 1)`);
    expect(() => loadMovieLens(fixture("empty.dat"))).toThrow(`${fixture("empty.dat")}: empty: no ratings`);
    expect(() => loadMovieLens(fixture("missing.dat"))).toThrow(`${fixture("missing.dat")}: cannot read: ENOENT`);
  });

  it("rejects lines of another layout, bad timestamps and unknown layouts", () => {
    expect(() => parseMovieLens("1::2::3::4\n1\t3\t3\t5\n", "r.dat")).toThrow(/^r\.dat:2: expected 4 fields UserID::MovieID/);
    expect(() => parseMovieLens("1::2::3::-4\n", "r.dat")).toThrow(`r.dat:1: timestamp "-4" is not a non-negative integer`);
    expect(() => parseMovieLens("1::0::3::4\n", "r.dat")).toThrow(`r.dat:1: item id "0" is not a positive integer`);
    expect(() => parseMovieLens("1::2::x::4\n", "r.dat")).toThrow(`r.dat:1: rating "x" is not a number`);
    expect(() => parseMovieLens("\n1,2,3,4\n", "r.csv")).toThrow(/^r\.csv:2: neither UserID::MovieID::Rating::Timestamp/);
  });
});

describe("leave-one-out split", () => {
  it("holds out each user's latest item and ranks it against items the user never had (MovieLens fixture)", () => {
    const split = leaveOneOut(loadMovieLens(fixture("ratings.dat")), 3, 2);
    expect(Array.from(split.testItems)).toEqual([0, 2, 1]);
    expect(Array.from(split.trainOffsets)).toEqual([0, 2, 4, 6]);
    expect(Array.from(split.trainItems)).toEqual([2, 1, 3, 4, 4, 0]);
    const negatives = [0, 1, 2].map((u) => Array.from(split.testNegatives.subarray(2 * u, 2 * u + 2)).sort());
    expect(negatives).toEqual([[3, 4], [0, 1], [2, 3]]);
    expect(() => leaveOneOut(split.data, 3, 3)).toThrow(/ratings\.dat:1: user 1 interacted with 3 of 5 items, leaving fewer than 3 test negatives/);
  });

  const data = generateImplicitFeedback({ seed: 4, ...small }).data;
  const split = leaveOneOut(data, 7);

  it("holds out exactly one item per user, the latest, and trains on the rest in order", () => {
    expect(split.trainItems.length).toBe(data.interactions.length - data.users);
    for (let u = 0; u < data.users; u++) {
      const own = Array.from(itemsOf(data, u));
      expect(split.testItems[u]).toBe(own[own.length - 1]);
      expect(Array.from(split.trainItems.subarray(split.trainOffsets[u], split.trainOffsets[u + 1]))).toEqual(own.slice(0, -1));
    }
  });

  it("draws 99 distinct test negatives per user, none of them the user's, fixed by the seed", () => {
    for (let u = 0; u < data.users; u++) {
      const own = new Set(itemsOf(data, u));
      const neg = Array.from(split.testNegatives.subarray(u * 99, (u + 1) * 99));
      expect(new Set(neg).size).toBe(99);
      expect(neg.some((i) => own.has(i))).toBe(false);
    }
    expect(leaveOneOut(data, 7).testNegatives).toEqual(split.testNegatives);
    expect(leaveOneOut(data, 8).testNegatives).not.toEqual(split.testNegatives);
  });

  it("pairs every training positive with 4 negatives outside the user's training items, resampled per epoch from (seed, epoch)", () => {
    const ex = epochExamples(split, 4, 11, 0);
    expect(ex.labels.length).toBe(5 * split.trainItems.length);
    const positives = new Map<string, number>();
    let negatives = 0, misplaced = 0;
    for (let n = 0; n < ex.labels.length; n++) {
      const u = ex.users[n], i = ex.items[n];
      const inTraining = split.trainItems.subarray(split.trainOffsets[u], split.trainOffsets[u + 1]).includes(i);
      if (ex.labels[n] === 1) {
        if (!inTraining) misplaced++;
        positives.set(`${u} ${i}`, (positives.get(`${u} ${i}`) ?? 0) + 1);
      } else {
        if (ex.labels[n] !== 0 || inTraining) misplaced++;
        negatives++;
      }
    }
    expect(misplaced).toBe(0);
    expect(positives.size).toBe(split.trainItems.length);
    expect(Math.max(...positives.values())).toBe(1);
    expect(negatives).toBe(4 * split.trainItems.length);
    expect(Array.from(ex.labels.subarray(0, 10))).not.toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);

    const again = epochExamples(split, 4, 11, 0);
    expect(again.items).toEqual(ex.items);
    expect(again.users).toEqual(ex.users);
    expect(epochExamples(split, 4, 11, 1).items).not.toEqual(ex.items);
    expect(epochExamples(split, 4, 12, 0).items).not.toEqual(ex.items);
  });
});
