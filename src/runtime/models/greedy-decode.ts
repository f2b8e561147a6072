/**
 * Greedy decoding of an encoder–decoder Transformer: the source is encoded once, then the
 * decoder is run on the growing prefix (BOS, then every token chosen so far) and the most
 * probable next token is appended, until every sequence has produced EOS or the prefix reaches
 * the maximum length. The decoder recomputes the whole prefix at every step (no key/value
 * cache): at G2P lengths (≤ 20 tokens) this costs little and keeps one decoder code path.
 */
import type { Ctx } from "../context.ts";
import { allocLike, Tensor } from "../tensor.ts";
import type { TokenBatch, Transformer } from "./transformer.ts";

/** Special token ids and the length limit of a decoding. */
export interface GreedyOptions {
  readonly bos: number;
  readonly eos: number;
  /** Longest decoder input (BOS included); a sequence without EOS by then is cut there. Default: the model's maxTargetLength. */
  readonly maxLength?: number;
}

/**
 * The greedy output of every source row, without BOS and EOS. Ties in the argmax go to the
 * lowest id. A row that never produces EOS yields maxLength − 1 tokens.
 */
export function greedyDecode(ctx: Ctx, model: Transformer, source: TokenBatch, sourcePadding: ArrayLike<number>, options: GreedyOptions): number[][] {
  const maxLength = options.maxLength ?? model.config.maxTargetLength;
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`greedyDecode: maxLength must be a positive integer, got ${maxLength}`);
  if (ctx.tape !== null) throw new Error("greedyDecode: decoding is inference; pass a context without a tape (evalContext)");
  const { batch } = source;
  const memory = model.encode(ctx, source, sourcePadding);
  const outputs: number[][] = Array.from({ length: batch }, () => []);
  const done = new Uint8Array(batch);
  let remaining = batch;
  let prefix = new Int32Array(batch).fill(options.bos);
  for (let length = 1; length < maxLength && remaining > 0; length++) {
    const hidden = model.decode(ctx, memory, sourcePadding, { ids: prefix, batch, length });
    const logits = model.project(ctx, lastPositions(hidden));
    const next = argmaxRows(logits);
    const grown = new Int32Array(batch * (length + 1));
    for (let b = 0; b < batch; b++) {
      grown.set(prefix.subarray(b * length, (b + 1) * length), b * (length + 1));
      grown[b * (length + 1) + length] = next[b];
      if (done[b]) continue;
      if (next[b] === options.eos) {
        done[b] = 1;
        remaining--;
      } else {
        outputs[b].push(next[b]);
      }
    }
    prefix = grown;
  }
  return outputs;
}

/** hidden [B, T, D] → its rows at position T − 1, [B, D] (a copy outside the tape: decoding records nothing). */
function lastPositions(hidden: Tensor): Tensor {
  const [batch, length, dim] = hidden.shape;
  const rows = allocLike(hidden.dtype, batch * dim);
  for (let b = 0; b < batch; b++) {
    const from = (b * length + length - 1) * dim;
    rows.set(hidden.data.subarray(from, from + dim), b * dim);
  }
  return new Tensor([batch, dim], rows);
}

/** The index of the (first) maximum of each row of logits [N, C]. */
function argmaxRows(logits: Tensor): Int32Array {
  const [n, c] = logits.shape;
  const d = logits.data;
  const best = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let j0 = 0;
    for (let j = 1; j < c; j++) if (d[r * c + j] > d[r * c + j0]) j0 = j;
    best[r] = j0;
  }
  return best;
}
