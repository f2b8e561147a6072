/**
 * Implicit feedback (NCF, He et al. 2017 §2.1): which items each user interacted with, in time
 * order, and nothing about how much they liked them. Stored as compressed rows: user u's items
 * are `interactions[offsets[u] .. offsets[u + 1])`, oldest first.
 */

/** Users × items interactions, each user's in time order; every index is dense (0..users−1, 0..items−1). */
export interface ImplicitFeedback {
  /** Where the data came from (a file, or the generator and its settings), for reports and errors. */
  readonly source: string;
  readonly users: number;
  readonly items: number;
  /** users + 1 non-decreasing offsets into `interactions`, from 0 to interactions.length. */
  readonly offsets: Int32Array;
  /** Item indices, user by user, oldest first; a user never has the same item twice. */
  readonly interactions: Int32Array;
  /** The source's own id of every dense user index, when the source has ids (a MovieLens file). */
  readonly userIds?: Int32Array;
  /** The line of the source file where every dense user index first appears, when it is a file. */
  readonly userLines?: Int32Array;
}

/** User u as messages name it: the source's own id where it has ids ("user 196"), else "user index 7". */
export function describeUser(data: ImplicitFeedback, user: number): string {
  return data.userIds === undefined ? `user index ${user}` : `user ${data.userIds[user]}`;
}

/** The line of the source file where user u first appears, or null. */
export const userLine = (data: ImplicitFeedback, user: number): number | null => data.userLines?.[user] ?? null;

/** User u's items, oldest first (a view, not a copy). */
export function itemsOf(data: ImplicitFeedback, user: number): Int32Array {
  return data.interactions.subarray(data.offsets[user], data.offsets[user + 1]);
}

/** Number of interactions of every item (its popularity). */
export function itemCounts(data: ImplicitFeedback): Int32Array {
  const counts = new Int32Array(data.items);
  for (const i of data.interactions) counts[i]++;
  return counts;
}

/** Compressed rows from per-user item lists (already in time order). */
export function fromUserLists(source: string, items: number, lists: readonly ArrayLike<number>[]): ImplicitFeedback {
  const offsets = new Int32Array(lists.length + 1);
  for (let u = 0; u < lists.length; u++) offsets[u + 1] = offsets[u] + lists[u].length;
  const interactions = new Int32Array(offsets[lists.length]);
  for (let u = 0; u < lists.length; u++) interactions.set(lists[u], offsets[u]);
  const data = { source, users: lists.length, items, offsets, interactions };
  checkImplicit(data);
  return data;
}

/** Throws naming the first user whose row breaks an invariant of ImplicitFeedback. */
export function checkImplicit(data: ImplicitFeedback): void {
  const { users, items, offsets, interactions } = data;
  if (offsets.length !== users + 1 || offsets[0] !== 0 || offsets[users] !== interactions.length) {
    throw new RangeError(`${data.source}: offsets do not cover the ${interactions.length} interactions of ${users} users`);
  }
  const seen = new Int32Array(items).fill(-1);
  for (let u = 0; u < users; u++) {
    if (offsets[u + 1] < offsets[u]) throw new RangeError(`${data.source}: offsets of user ${u} decrease`);
    for (let p = offsets[u]; p < offsets[u + 1]; p++) {
      const i = interactions[p];
      if (!(Number.isInteger(i) && i >= 0 && i < items)) throw new RangeError(`${data.source}: user ${u} has item ${i}, outside 0..${items - 1}`);
      if (seen[i] === u) throw new RangeError(`${data.source}: user ${u} has item ${i} twice`);
      seen[i] = u;
    }
  }
}
