/** Padded batches of grapheme-to-phoneme pairs for an encoder–decoder trained with teacher forcing. */
import { BOS, encodeSymbols, EOS, PAD, type G2PEntry, type Vocabulary } from "./cmudict.ts";

/**
 * B words, each row padded with PAD to the batch's longest. With n phonemes in a word, its
 * decoder input is BOS p1 … pn and its target p1 … pn EOS: both n + 1 real positions.
 */
export interface G2PBatch {
  readonly size: number;
  readonly sourceLength: number;
  readonly targetLength: number;
  /** [B·S] letter ids. */
  readonly source: Int32Array;
  /** [B·S] 1 where the source position is padding. */
  readonly sourcePadding: Uint8Array;
  /** [B·T] BOS then the phoneme ids: the teacher-forced decoder input. */
  readonly targetIn: Int32Array;
  /** [B·T] the phoneme ids then EOS: what each decoder position must predict. */
  readonly targetOut: Int32Array;
  /** [B·T] 1 where the target position is padding (in both targetIn and targetOut). */
  readonly targetPadding: Uint8Array;
  /** Each word's phoneme ids without BOS/EOS: the references of the sequence metrics. */
  readonly references: readonly (readonly number[])[];
}

/** Encodes `entries` (at least one) with the letter and phoneme vocabularies. */
export function g2pBatch(entries: readonly G2PEntry[], letters: Vocabulary, phonemes: Vocabulary): G2PBatch {
  if (entries.length === 0) throw new RangeError("g2pBatch: a batch needs at least one word");
  const sources = entries.map((e) => encodeSymbols(letters, [...e.word], `g2pBatch: the word ${e.word}`));
  const references = entries.map((e) => encodeSymbols(phonemes, e.phonemes, `g2pBatch: the pronunciation of ${e.word}`));
  const size = entries.length;
  const sourceLength = Math.max(...sources.map((s) => s.length));
  const targetLength = Math.max(...references.map((r) => r.length)) + 1;
  const source = new Int32Array(size * sourceLength).fill(PAD);
  const sourcePadding = new Uint8Array(size * sourceLength).fill(1);
  const targetIn = new Int32Array(size * targetLength).fill(PAD);
  const targetOut = new Int32Array(size * targetLength).fill(PAD);
  const targetPadding = new Uint8Array(size * targetLength).fill(1);
  for (let b = 0; b < size; b++) {
    const s = sources[b];
    const so = b * sourceLength;
    source.set(s, so);
    sourcePadding.fill(0, so, so + s.length);
    const r = references[b];
    const to = b * targetLength;
    targetIn[to] = BOS;
    targetIn.set(r, to + 1);
    targetOut.set(r, to);
    targetOut[to + r.length] = EOS;
    targetPadding.fill(0, to, to + r.length + 1);
  }
  return { size, sourceLength, targetLength, source, sourcePadding, targetIn, targetOut, targetPadding, references };
}
