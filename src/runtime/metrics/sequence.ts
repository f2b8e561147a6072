/**
 * Sequence metrics of grapheme-to-phoneme conversion: phoneme error rate (PER) = total
 * Levenshtein edits (substitutions, insertions, deletions, each costing 1) over the total
 * reference length, pooled over words rather than averaged per word; word accuracy = the
 * fraction of words whose hypothesis equals the reference exactly.
 */

/** Minimum number of single-symbol substitutions, insertions and deletions turning `a` into `b`. */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = b.length;
  let previous = Int32Array.from({ length: n + 1 }, (_, j) => j);
  let current = new Int32Array(n + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= n; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(substitution, previous[j] + 1, current[j - 1] + 1);
    }
    [previous, current] = [current, previous];
  }
  return previous[n];
}

/** Running totals over (hypothesis, reference) pairs, so batches can be scored one by one. */
export class SequenceScore {
  private edits = 0;
  private referenceLength = 0;
  private exact = 0;
  private words = 0;

  /** Adds one word: its predicted and its reference symbol ids. */
  add(hypothesis: ArrayLike<number>, reference: ArrayLike<number>): void {
    const d = editDistance(hypothesis, reference);
    this.edits += d;
    this.referenceLength += reference.length;
    if (d === 0) this.exact++;
    this.words++;
  }

  /** Σ edits / Σ reference lengths (can exceed 1 when hypotheses are long); 0 before any edit, ∞ for edits against empty references only. */
  get phonemeErrorRate(): number {
    if (this.edits === 0) return 0;
    return this.edits / this.referenceLength;
  }

  /** Exact matches / words; 0 before any word. */
  get wordAccuracy(): number {
    return this.words === 0 ? 0 : this.exact / this.words;
  }
}

/** PER of paired hypotheses and references. */
export function phonemeErrorRate(hypotheses: readonly ArrayLike<number>[], references: readonly ArrayLike<number>[]): number {
  return scorePairs(hypotheses, references).phonemeErrorRate;
}

/** Word accuracy of paired hypotheses and references. */
export function wordAccuracy(hypotheses: readonly ArrayLike<number>[], references: readonly ArrayLike<number>[]): number {
  return scorePairs(hypotheses, references).wordAccuracy;
}

function scorePairs(hypotheses: readonly ArrayLike<number>[], references: readonly ArrayLike<number>[]): SequenceScore {
  if (hypotheses.length !== references.length) {
    throw new RangeError(`sequence metrics: ${hypotheses.length} hypotheses but ${references.length} references`);
  }
  const score = new SequenceScore();
  hypotheses.forEach((h, i) => score.add(h, references[i]));
  return score;
}
