/**
 * Top-K ranking metrics for one relevant item per user ranked among sampled negatives, as NCF
 * evaluates (He et al. 2017 §4.1): HR@K is 1 when the test item is in the top K, NDCG@K is
 * 1/log2(rank + 2) for a 0-based rank below K, 0 otherwise; both are averaged over users.
 *
 * Ties count against the model: a negative is ranked above the test item unless it scores
 * strictly lower. A constant scorer therefore ranks every test item last instead of first, and
 * a NaN score (the test item's or a negative's) never helps. Reference implementations that
 * count only strictly greater scores report higher numbers on tied scores.
 */

/** 0-based rank of the test item among its candidates: the number of negatives not scored strictly below it. */
export function rankOfPositive(positive: number, negatives: ArrayLike<number>, start = 0, end = negatives.length): number {
  let rank = 0;
  for (let j = start; j < end; j++) if (!(negatives[j] < positive)) rank++;
  return rank;
}

/** 1 when `rank` (0-based) is within the top k, else 0. */
export function hitAt(rank: number, k: number): number {
  return rank < k ? 1 : 0;
}

/** The NDCG@k of one relevant item at 0-based `rank` (the ideal DCG is 1). */
export function ndcgAt(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/** HR@K and NDCG@K averaged over users, as fractions in [0, 1]. */
export interface RankingMetrics {
  readonly hitRatio: number;
  readonly ndcg: number;
}

/**
 * Scores laid out user by user, `candidates` each, the test item first and its negatives after
 * it → HR@k and NDCG@k averaged over the users.
 */
export function rankingMetrics(scores: ArrayLike<number>, candidates: number, k: number): RankingMetrics {
  if (!Number.isInteger(candidates) || candidates < 1 || scores.length % candidates !== 0) {
    throw new RangeError(`rankingMetrics: ${scores.length} scores are not groups of ${candidates} candidates`);
  }
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`rankingMetrics: K must be a positive integer, got ${k}`);
  const users = scores.length / candidates;
  if (users === 0) throw new RangeError("rankingMetrics: no users to average over");
  let hits = 0;
  let ndcg = 0;
  for (let u = 0, o = 0; u < users; u++, o += candidates) {
    const rank = rankOfPositive(scores[o], scores, o + 1, o + candidates);
    hits += hitAt(rank, k);
    ndcg += ndcgAt(rank, k);
  }
  return { hitRatio: hits / users, ndcg: ndcg / users };
}
