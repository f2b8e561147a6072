import { describe, expect, it } from "vitest";
import { BOS, cmuDictFiles, EOS, g2pEntries, loadCmuDict, PAD, vocabulary } from "../../src/runtime/data/cmudict.ts";
import { g2pBatch } from "../../src/runtime/data/g2p-batch.ts";

const files = cmuDictFiles();
const entries = g2pEntries(files.dict, 2, 12);

describe("CMUdict as grapheme-to-phoneme data", () => {
  it("keeps exactly the primary entries of 2–12 capital letters", () => {
    const independent = Object.keys(files.dict).filter((w) => w.length >= 2 && w.length <= 12 && [...w].every((c) => c >= "A" && c <= "Z"));
    expect(entries.length).toBe(independent.length);
    expect(entries.length).toBeGreaterThan(100_000);
    const words = new Set(entries.map((e) => e.word));
    expect(words.has("HELLO") && words.has("OK")).toBe(true);
    for (const dropped of ["A", "HELLO(1)", "AARON'S", "A42128", "C1"]) {
      expect(Object.hasOwn(files.dict, dropped)).toBe(true);
      expect(words.has(dropped)).toBe(false);
    }
    expect(entries.every((e, i) => i === 0 || entries[i - 1].word < e.word)).toBe(true); // sorted, hence no duplicates
  });

  it("strips stress: HELLO is HH AH0 L OW1 → HH AH L OW, and no phoneme carries a digit", () => {
    expect(entries.find((e) => e.word === "HELLO")!.phonemes).toEqual(["HH", "AH", "L", "OW"]);
    expect(entries.find((e) => e.word === "XYLOPHONE")!.phonemes).toEqual(["Z", "AY", "L", "AH", "F", "OW", "N"]);
    const inventory = new Set(files.phones);
    expect(inventory.size).toBe(39);
    const outside = entries.flatMap((e) => e.phonemes.filter((p) => !inventory.has(p)));
    expect(outside).toEqual([]);
  });

  it("the split is disjoint, has the requested sizes and is the same for the same seed", () => {
    const a = loadCmuDict({ seed: 3, trainSize: 2000, testSize: 500 }, files);
    const b = loadCmuDict({ seed: 3, trainSize: 2000, testSize: 500 }, files);
    const c = loadCmuDict({ seed: 4, trainSize: 2000, testSize: 500 }, files);
    expect(a.train.length).toBe(2000);
    expect(a.test.length).toBe(500);
    const train = new Set(a.train.map((e) => e.word));
    expect(a.test.some((e) => train.has(e.word))).toBe(false);
    expect(b.train.map((e) => e.word)).toEqual(a.train.map((e) => e.word));
    expect(b.test.map((e) => e.word)).toEqual(a.test.map((e) => e.word));
    expect(c.test.map((e) => e.word)).not.toEqual(a.test.map((e) => e.word));
    // The test words of a seed do not depend on how many training words are taken.
    expect(loadCmuDict({ seed: 3, trainSize: 100, testSize: 500 }, files).test.map((e) => e.word)).toEqual(a.test.map((e) => e.word));
  });

  it("rejects impossible sizes and bounds, saying which", () => {
    expect(() => loadCmuDict({ seed: 0, trainSize: 200_000, testSize: 1 }, files)).toThrow(/200000 training \+ 1 test words exceed/);
    expect(() => loadCmuDict({ seed: 0, trainSize: 0, testSize: 1 }, files)).toThrow(/trainSize must be a positive integer/);
    expect(() => g2pEntries(files.dict, 5, 3)).toThrow(/letter bounds/);
  });
});

describe("padded G2P batches", () => {
  const letters = vocabulary(["A", "B", "C"]);
  const phonemes = vocabulary(["X", "Y"]);
  const batch = g2pBatch([{ word: "ABC", phonemes: ["X"] }, { word: "B", phonemes: ["Y", "X", "Y"] }], letters, phonemes);

  it("pads sources and shifts targets by one (BOS in, EOS out)", () => {
    const [a, b, c, x, y] = [3, 4, 5, 3, 4];
    expect(batch.sourceLength).toBe(3);
    expect(Array.from(batch.source)).toEqual([a, b, c, b, PAD, PAD]);
    expect(Array.from(batch.sourcePadding)).toEqual([0, 0, 0, 0, 1, 1]);
    expect(batch.targetLength).toBe(4);
    expect(Array.from(batch.targetIn)).toEqual([BOS, x, PAD, PAD, BOS, y, x, y]);
    expect(Array.from(batch.targetOut)).toEqual([x, EOS, PAD, PAD, y, x, y, EOS]);
    expect(Array.from(batch.targetPadding)).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    expect(batch.references).toEqual([[x], [y, x, y]]);
  });

  it("names the word with an unknown symbol", () => {
    expect(() => g2pBatch([{ word: "AZ", phonemes: ["X"] }], letters, phonemes)).toThrow(/the word AZ: unknown symbol "Z"/);
  });
});
