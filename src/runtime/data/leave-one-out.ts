/**
 * The evaluation protocol of NCF (He et al. 2017 §4.1): leave-one-out. Each user's latest
 * interaction is held out as the test item and ranked against 99 items the user never
 * interacted with (sampled once, from a seed); everything else is training data. Every epoch
 * pairs each training positive with 4 negatives (the paper's default ratio), resampled from
 * (seed, epoch) so a resumed run sees the same ones.
 *
 * Training negatives avoid the user's *training* items only, as NCF's sampler does: the held-out
 * item is unknown at training time, so excluding it would leak the answer. Test negatives avoid
 * every item of the user, the held-out one included.
 */
import { permutation, Rng } from "../random.ts";
import { DataError } from "./data-error.ts";
import { describeUser, itemsOf, userLine, type ImplicitFeedback } from "./implicit.ts";

/** NCF's number of sampled negatives ranked against each test item. */
export const NCF_TEST_NEGATIVES = 99;
/** NCF's default number of sampled negatives per training positive and epoch. */
export const NCF_TRAIN_NEGATIVES = 4;

/** The held-out test items with their negatives, and the training interactions. */
export interface LeaveOneOut {
  readonly data: ImplicitFeedback;
  /** users + 1 offsets into `trainItems`; user u's training items are its interactions but the latest. */
  readonly trainOffsets: Int32Array;
  readonly trainItems: Int32Array;
  /** The latest item of every user. */
  readonly testItems: Int32Array;
  /** users × negativesPerUser distinct items per user, none of them an item of that user. */
  readonly testNegatives: Int32Array;
  readonly negativesPerUser: number;
}

/** Labelled (user, item) pairs, in the order a training epoch visits them. */
export interface TrainingExamples {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** 1 for an interaction, 0 for a sampled negative. */
  readonly labels: Float32Array;
}

/** Splits off every user's latest interaction and samples its test negatives from `seed`. */
export function leaveOneOut(data: ImplicitFeedback, seed: number, negativesPerUser = NCF_TEST_NEGATIVES): LeaveOneOut {
  const { users, items } = data;
  if (!Number.isInteger(negativesPerUser) || negativesPerUser < 1) {
    throw new RangeError(`leave-one-out: test negatives per user must be a positive integer, got ${negativesPerUser}`);
  }
  const trainOffsets = new Int32Array(users + 1);
  const trainItems = new Int32Array(data.interactions.length - users);
  const testItems = new Int32Array(users);
  const testNegatives = new Int32Array(users * negativesPerUser);
  const marked = new Int32Array(items).fill(-1);
  const rng = new Rng(seed).fork("leave-one-out test negatives");
  for (let u = 0; u < users; u++) {
    const own = itemsOf(data, u);
    if (own.length === 0) throw new DataError(data.source, userLine(data, u), `${describeUser(data, u)} has no interaction to hold out`);
    if (items - own.length < negativesPerUser) {
      throw new DataError(
        data.source,
        userLine(data, u),
        `${describeUser(data, u)} interacted with ${own.length} of ${items} items, leaving fewer than ${negativesPerUser} test negatives ` +
          `(each user's held-out item is ranked against ${negativesPerUser} items the user never had; the data needs more items)`,
      );
    }
    trainItems.set(own.subarray(0, own.length - 1), trainOffsets[u]);
    trainOffsets[u + 1] = trainOffsets[u] + own.length - 1;
    testItems[u] = own[own.length - 1];
    for (const i of own) marked[i] = u;
    for (let k = 0; k < negativesPerUser; k++) {
      const j = drawUnmarked(rng, marked, u);
      marked[j] = u;
      testNegatives[u * negativesPerUser + k] = j;
    }
  }
  if (trainItems.length === 0)
    throw new DataError(data.source, null, `every one of the ${users} users has a single interaction, which leave-one-out holds out for testing: nothing is left to train on`);
  return { data, trainOffsets, trainItems, testItems, testNegatives, negativesPerUser };
}

/** Every training positive followed by `negativesPerPositive` sampled negatives, shuffled; a pure function of (seed, epoch). */
export function epochExamples(split: LeaveOneOut, negativesPerPositive: number, seed: number, epoch: number): TrainingExamples {
  if (!Number.isInteger(negativesPerPositive) || negativesPerPositive < 0) {
    throw new RangeError(`training negatives per positive must be a non-negative integer, got ${negativesPerPositive}`);
  }
  const { trainOffsets, trainItems } = split;
  const { users: userCount, items: itemCount } = split.data;
  const group = 1 + negativesPerPositive;
  const n = trainItems.length * group;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const labels = new Float32Array(n);
  const marked = new Int32Array(itemCount).fill(-1);
  const rng = new Rng(seed).fork(`ncf training negatives epoch ${epoch}`);
  for (let u = 0; u < userCount; u++) {
    const start = trainOffsets[u], end = trainOffsets[u + 1];
    if (end - start >= itemCount && negativesPerPositive > 0) {
      throw new DataError(split.data.source, userLine(split.data, u), `${describeUser(split.data, u)} has every item in training, so no negative can be sampled`);
    }
    for (let p = start; p < end; p++) marked[trainItems[p]] = u;
    for (let p = start; p < end; p++) {
      const o = p * group;
      users.fill(u, o, o + group);
      items[o] = trainItems[p];
      labels[o] = 1;
      for (let k = 1; k < group; k++) items[o + k] = drawUnmarked(rng, marked, u);
    }
  }
  const order = permutation(n, new Rng(seed).fork(`ncf order epoch ${epoch}`));
  return { users: gather(users, order), items: gather(items, order), labels: gather(labels, order) };
}

/** A uniformly drawn item j with marked[j] ≠ user (rejection; callers guarantee one exists). */
function drawUnmarked(rng: Rng, marked: Int32Array, user: number): number {
  for (;;) {
    const j = rng.int(marked.length);
    if (marked[j] !== user) return j;
  }
}

function gather<T extends Int32Array | Float32Array>(values: T, order: Int32Array): T {
  const out = values.slice() as T;
  for (let i = 0; i < order.length; i++) out[i] = values[order[i]];
  return out;
}
