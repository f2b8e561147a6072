/** Classification metrics over logits; no gradients. */
import type { Tensor } from "./tensor.ts";

/** How many rows of logits [N, C] have their (first) maximum at the label. */
export function countCorrect(logits: Tensor, labels: ArrayLike<number>): number {
  const [n, c] = logits.shape;
  const d = logits.data;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (d[r * c + j] > d[r * c + best]) best = j;
    if (best === labels[r]) correct++;
  }
  return correct;
}
