import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { editDistance, phonemeErrorRate, SequenceScore, wordAccuracy } from "../../src/runtime/metrics/sequence.ts";

const codes = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

describe("Levenshtein edit distance", () => {
  it("matches hand-computed distances", () => {
    expect(editDistance(codes("kitten"), codes("sitting"))).toBe(3); // k→s, e→i, +g
    expect(editDistance(codes("flaw"), codes("lawn"))).toBe(2); // −f, +n
    expect(editDistance(codes("abc"), codes("cab"))).toBe(2); // +c, −c (no transpositions)
    expect(editDistance(codes("abc"), codes("abc"))).toBe(0);
    expect(editDistance([], codes("abc"))).toBe(3);
    expect(editDistance(codes("abcd"), [])).toBe(4);
    expect(editDistance([], [])).toBe(0);
  });

  it("is a metric: symmetric, zero only for equal sequences, bounded by the longer length, triangle inequality", () => {
    const seq = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 });
    fc.assert(fc.property(seq, seq, seq, (a, b, c) => {
      const ab = editDistance(a, b);
      expect(ab).toBe(editDistance(b, a));
      expect(ab === 0).toBe(a.length === b.length && a.every((x, i) => x === b[i]));
      expect(ab).toBeLessThanOrEqual(Math.max(a.length, b.length));
      expect(ab).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
      expect(ab).toBeLessThanOrEqual(editDistance(a, c) + editDistance(c, b));
    }));
  });
});

describe("phoneme error rate and word accuracy", () => {
  const hypotheses = [[1, 2, 3], [4, 5], [9], []];
  const references = [[1, 2, 3], [4, 6, 7], [9], [8, 8]];

  it("PER pools edits over words: (0 + 2 + 0 + 2) / (3 + 3 + 1 + 2)", () => {
    expect(phonemeErrorRate(hypotheses, references)).toBe(4 / 9);
  });

  it("word accuracy counts exact matches: 2 of 4", () => {
    expect(wordAccuracy(hypotheses, references)).toBe(0.5);
  });

  it("a running score over batches equals the score of all pairs at once", () => {
    const score = new SequenceScore();
    score.add(hypotheses[0], references[0]);
    score.add(hypotheses[1], references[1]);
    const rest = new SequenceScore();
    for (let i = 2; i < 4; i++) rest.add(hypotheses[i], references[i]);
    for (let i = 2; i < 4; i++) score.add(hypotheses[i], references[i]);
    expect(score.phonemeErrorRate).toBe(4 / 9);
    expect(score.wordAccuracy).toBe(0.5);
    expect(rest.phonemeErrorRate).toBe(2 / 3);
  });

  it("PER exceeds 1 when hypotheses are longer than the references", () => {
    expect(phonemeErrorRate([[1, 2, 3, 4]], [[5]])).toBe(4);
  });

  it("empty input scores 0; mismatched lists are an error", () => {
    expect(new SequenceScore().phonemeErrorRate).toBe(0);
    expect(new SequenceScore().wordAccuracy).toBe(0);
    expect(() => wordAccuracy([[1]], [])).toThrow(/1 hypotheses but 0 references/);
  });
});
