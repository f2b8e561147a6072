/**
 * MovieLens ratings as implicit feedback, as NCF uses them: every rating is an interaction,
 * whatever its value. Two layouts, told apart by the first rating line:
 * - ML-1M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`;
 * - ML-100K `u.data`: `user<TAB>item<TAB>rating<TAB>timestamp`.
 * Ids are remapped to dense indices in increasing id order; each user's interactions are
 * sorted by timestamp, equal timestamps keeping file order. Blank lines are skipped.
 */
import { readFileSync } from "node:fs";
import { DataError } from "./data-error.ts";
import { fromUserLists, type ImplicitFeedback } from "./implicit.ts";

/** A file that cannot be read as MovieLens ratings; the message starts with `file:line` (or `file`). */
export class MovieLensError extends DataError {
  override readonly name = "MovieLensError";
}

/** The interactions and the original ids behind the dense indices. */
export interface MovieLensData extends ImplicitFeedback {
  /** The file's UserID of every dense user index. */
  readonly userIds: Int32Array;
  /** The line of the file where every dense user index first appears. */
  readonly userLines: Int32Array;
  /** The file's MovieID of every dense item index. */
  readonly itemIds: Int32Array;
}

interface Layout {
  readonly name: string;
  readonly separator: string;
  readonly fields: string;
}

const ML_1M: Layout = { name: "ratings.dat (ML-1M)", separator: "::", fields: "UserID::MovieID::Rating::Timestamp" };
const ML_100K: Layout = { name: "u.data (ML-100K)", separator: "\t", fields: "user<TAB>item<TAB>rating<TAB>timestamp" };

/** Reads `path` (ratings.dat or u.data). */
export function loadMovieLens(path: string): MovieLensData {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new MovieLensError(path, null, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseMovieLens(text, path);
}

/** Parses the text of a ratings file; `file` only names it in errors. */
export function parseMovieLens(text: string, file: string): MovieLensData {
  const lines = text.split("\n");
  const lastLine = lines.pop() ?? "";
  if (lastLine.trim() !== "") {
    throw new MovieLensError(file, lines.length + 1, `truncated: the last line "${clip(lastLine)}" has no line break`);
  }
  let layout: Layout | null = null;
  const userOf: number[] = [], itemOf: number[] = [], timeOf: number[] = [], lineOf: number[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].endsWith("\r") ? lines[n].slice(0, -1) : lines[n];
    if (line.trim() === "") continue;
    layout ??= detectLayout(line, file, n + 1);
    const fields = line.split(layout.separator);
    if (fields.length !== 4) {
      throw new MovieLensError(file, n + 1, `expected 4 fields ${layout.fields} as in ${layout.name}, got ${fields.length} in "${clip(line)}"`);
    }
    userOf.push(positiveId(fields[0], "user id", file, n + 1));
    itemOf.push(positiveId(fields[1], "item id", file, n + 1));
    if (!/^-?\d+(\.\d+)?$/.test(fields[2].trim())) throw new MovieLensError(file, n + 1, `rating "${clip(fields[2])}" is not a number`);
    const t = fields[3].trim();
    if (!/^\d+$/.test(t)) throw new MovieLensError(file, n + 1, `timestamp "${clip(fields[3])}" is not a non-negative integer`);
    timeOf.push(Number(t));
    lineOf.push(n + 1);
  }
  if (userOf.length === 0) throw new MovieLensError(file, null, "empty: no ratings");
  return assemble(file, userOf, itemOf, timeOf, lineOf);
}

function assemble(file: string, userOf: number[], itemOf: number[], timeOf: number[], lineOf: number[]): MovieLensData {
  const userIds = Int32Array.from(new Set(userOf)).sort();
  const itemIds = Int32Array.from(new Set(itemOf)).sort();
  const userIndex = new Map<number, number>(Array.from(userIds, (id, i) => [id, i]));
  const itemIndex = new Map<number, number>(Array.from(itemIds, (id, i) => [id, i]));
  const rows: number[][] = Array.from({ length: userIds.length }, () => []);
  const userLines = new Int32Array(userIds.length);
  for (let r = 0; r < userOf.length; r++) {
    const u = userIndex.get(userOf[r])!;
    if (rows[u].length === 0) userLines[u] = lineOf[r];
    rows[u].push(r);
  }
  const lists = rows.map((rs) => {
    rs.sort((a, b) => timeOf[a] - timeOf[b] || a - b);
    const firstLine = new Map<number, number>();
    for (const r of rs) {
      const earlier = firstLine.get(itemOf[r]);
      if (earlier !== undefined) {
        throw new MovieLensError(file, Math.max(earlier, lineOf[r]), `user ${userOf[r]} rated item ${itemOf[r]} again (also on line ${Math.min(earlier, lineOf[r])})`);
      }
      firstLine.set(itemOf[r], lineOf[r]);
    }
    return rs.map((r) => itemIndex.get(itemOf[r])!);
  });
  return { ...fromUserLists(file, itemIds.length, lists), userIds, userLines, itemIds };
}

function detectLayout(line: string, file: string, lineNo: number): Layout {
  if (line.includes("::")) return ML_1M;
  if (line.includes("\t")) return ML_100K;
  throw new MovieLensError(file, lineNo, `neither ${ML_1M.fields} (${ML_1M.name}) nor ${ML_100K.fields} (${ML_100K.name}): "${clip(line)}"`);
}

function positiveId(field: string, what: string, file: string, line: number): number {
  const s = field.trim();
  const v = Number(s);
  if (!/^\d+$/.test(s) || v < 1 || v > 0x7fffffff) throw new MovieLensError(file, line, `${what} "${clip(field)}" is not a positive integer`);
  return v;
}

/** A field or line short enough to quote in a message. */
function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
