/** "Did you mean" for names: the known names a mistyped one is closest to (no filesystem, so the explorer page shares it). */

/** The candidates nearest in edit distance (at most 2 edits, only the closest tier), at most 3. */
export function closeMatches(name: string, candidates: readonly string[]): string[] {
  if (name.length > Math.max(0, ...candidates.map((c) => c.length)) + 2) return [];
  const scored = candidates.map((c) => ({ c, d: editDistance(name.toLowerCase(), c) })).filter(({ d }) => d <= 2);
  const best = Math.min(...scored.map(({ d }) => d));
  return scored
    .filter(({ d }) => d === best)
    .sort((a, b) => a.c.localeCompare(b.c))
    .slice(0, 3)
    .map(({ c }) => c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

