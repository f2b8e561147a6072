/**
 * The vectorizer's strided form (vectorize.ts tries it after the block form): a loop over blocks
 * of B consecutive elements whose body is straight-line code on each block — the Hadamard
 * rotation's butterflies (scaling/rotation/lower.ts), B loads, B·log2(B) adds and B stores per
 * block — runs 4 blocks at a time, one block per lane. The element vectorizer cannot take it: its
 * loads and stores sit at start + j, B apart between iterations, not at the loop index.
 *
 * The shape:
 *
 *   for i in [F, T) step 1:
 *     let s = P + i·B                        (or P + (i << log2 B)); P invariant, B a multiple of 4
 *     lets …                                 loads at s + j (0 ≤ j < B, constants) or invariant
 *     store buf[s + j] = …                   after every let, of values that read no memory;
 *                                            no stored buffer is read by the loop
 *
 * becomes, for the whole groups of 4 blocks (i + 4 ≤ T),
 *
 *   for g in [F, G) step 4:
 *     let s = P + g·B
 *     per buffer read and per quad q: 4 vector loads at s + kB + 4q, transposed (vector j, lane k:
 *       element s + kB + j — block g + k's element j)
 *     the lets on 4 lanes, lane k computing exactly what iteration g + k computes
 *     per buffer stored and quad q: the 4 values transposed back, 4 vector stores at s + kB + 4q
 *
 * and the original loop over [G, T) for the rest. Loads and stores move only whole quads (all of
 * s + 4q … s + 4q + 3 are read, or written, by every block), so the vector form touches no element
 * the scalar loop does not; that no stored buffer is read makes the order of blocks free. Every
 * block reads all it reads before it writes, within its own B elements, so a call that passes one
 * array as both a read and a stored buffer (the vectorizer's precondition: the same buffer, or
 * none overlapping) still gets the scalar loop's values: the 4 blocks' reads come before their writes.
 */
import type { Expr, Param, ScalarType, Stmt } from "../../codegen/ir/nodes.ts";
import { anySubexpression } from "../../codegen/ir/nodes.ts";
import { typeOf } from "../../codegen/ir/build.ts";
import { vectorOf, type SimdExpr, type SimdStmt } from "./simd-ir.ts";
import { bindLet, lanewise, transpose4 } from "./block-lanes.ts";
import type { KernelNames } from "./vectorize-blocks.ts";

const LANES = 4;

type Loop = Stmt & { kind: "for" };
type Store = Stmt & { kind: "store" };

class NotStrided extends Error {}
function refuse(why: string): never {
  throw new NotStrided(why);
}

const isRef = (e: Expr, name: string) => e.kind === "ref" && e.name === name;
const ref = (type: SimdExpr["type"], name: string) => ({ kind: "ref", type, name }) as const satisfies SimdExpr;
const i32c = (value: number): SimdExpr => ({ kind: "const", type: "i32", value });
const add = (a: SimdExpr, b: SimdExpr): SimdExpr => ({ kind: "binary", op: "add", type: "i32", a, b });

/** The block's size B and invariant base P when `value` is P + i·B or P + (i << log2 B) (either order), else null. */
function stridedStart(value: Expr, index: string): { base: Expr; size: number } | null {
  if (value.kind !== "binary" || value.op !== "add" || value.type !== "i32") return null;
  const scaled = (e: Expr): number | null => {
    if (e.kind !== "binary" || e.type !== "i32" || !isRef(e.a, index) || e.b.kind !== "const") return null;
    if (e.op === "mul") return e.b.value;
    if (e.op === "shl" && e.b.value >= 0 && e.b.value < 31) return 2 ** e.b.value;
    return null;
  };
  for (const [base, term] of [[value.a, value.b], [value.b, value.a]] as const) {
    const size = scaled(term);
    if (size !== null && !anySubexpression(base, (e) => isRef(e, index))) return { base, size };
  }
  return null;
}

/** The j of an index s + j (s itself: 0), or null. */
function offsetFrom(index: Expr, start: string): number | null {
  if (isRef(index, start)) return 0;
  if (index.kind === "binary" && index.op === "add" && index.type === "i32") {
    if (isRef(index.a, start) && index.b.kind === "const") return index.b.value;
    if (isRef(index.b, start) && index.a.kind === "const") return index.a.value;
  }
  return null;
}

/** The parts of a loop in the strided shape. */
interface StridedLoop {
  readonly start: Stmt & { kind: "let" };
  readonly base: Expr;
  readonly size: number;
  readonly lets: readonly (Stmt & { kind: "let" })[];
  readonly stores: readonly Store[];
}

/** The loop's parts, or NotStrided with the first condition it fails. */
function match(loop: Loop, names: KernelNames, storage: ReadonlyMap<string, Param>): StridedLoop {
  if (loop.step !== 1) refuse(`step ${loop.step}`);
  const [first, ...rest] = loop.body;
  if (first?.kind !== "let") refuse("the body does not start with the block's start");
  const shape = stridedStart(first.value, loop.index);
  if (shape === null) refuse("the block's start is not P + i·B");
  const { size } = shape;
  if (size < LANES || size % LANES !== 0) refuse(`blocks of ${size} (not a multiple of ${LANES})`);
  const lets: (Stmt & { kind: "let" })[] = [];
  const stores: Store[] = [];
  for (const s of rest) {
    if (s.kind === "let") {
      if (stores.length > 0) refuse(`let ${s.name} after a store`);
      lets.push(s);
    } else if (s.kind === "store") {
      if (anySubexpression(s.value, (e) => e.kind === "load" || e.kind === "lookup")) refuse(`a store to ${s.buffer} of a value that reads memory`);
      stores.push(s);
    } else refuse(`a ${s.kind} statement in the body`);
  }
  for (const s of [first, ...lets]) if (names.bound.get(s.name) !== 1) refuse(`${s.name} is bound more than once in the kernel`);
  const fourBytes = (buffer: string) => {
    const p = storage.get(buffer);
    if (p?.kind !== "buffer" || (p.storage !== "f32" && p.storage !== "i32" && p.storage !== "u32")) refuse(`${buffer} is not a buffer of 32-bit elements`);
  };
  // Every position a buffer is read or written at, by j; whole quads only.
  const quads = (positions: ReadonlySet<number>, what: string) => {
    for (const j of positions) {
      if (j < 0 || j >= size) refuse(`${what} at s + ${j}, outside the block`);
      const q = j - (j % LANES);
      for (let l = q; l < q + LANES; l++) if (!positions.has(l)) refuse(`${what} at s + ${j} but not at s + ${l} (a part of a quad)`);
    }
  };
  const stored = new Map<string, Set<number>>();
  for (const s of stores) {
    const j = offsetFrom(s.index, first.name);
    if (j === null) refuse(`a store to ${s.buffer} away from the block's start`);
    fourBytes(s.buffer);
    const at = stored.get(s.buffer) ?? stored.set(s.buffer, new Set()).get(s.buffer)!;
    if (at.has(j)) refuse(`two stores to ${s.buffer} at s + ${j}`);
    at.add(j);
  }
  for (const [buffer, at] of stored) quads(at, `a store to ${buffer}`);
  const read = new Map<string, Set<number>>();
  const perBlock = new Set([loop.index, first.name, ...lets.map((s) => s.name)]);
  const values = [...lets.map((s) => s.value), ...stores.map((s) => s.value)];
  // Every load is at s + j or invariant; the index and the start are read only in those indices.
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "load": {
        if (stored.has(e.buffer)) refuse(`the blocks read ${e.buffer}, which they store to`);
        const j = offsetFrom(e.index, first.name);
        if (j === null) {
          if (anySubexpression(e.index, (x) => x.kind === "load" || (x.kind === "ref" && perBlock.has(x.name)))) refuse(`a load from ${e.buffer} away from the block's start`);
          return;
        }
        fourBytes(e.buffer);
        (read.get(e.buffer) ?? read.set(e.buffer, new Set()).get(e.buffer)!).add(j);
        return;
      }
      case "lookup":
        return refuse("a table lookup (no gather in this form)");
      case "ref":
        if (e.name === loop.index || e.name === first.name) refuse(`${e.name} read outside a load or store index`);
        return;
      case "const":
        return;
      case "unary":
      case "convert":
        return visit(e.arg);
      case "binary":
      case "compare":
        visit(e.a);
        return visit(e.b);
      case "select":
        visit(e.cond);
        visit(e.then);
        return visit(e.else);
      default:
        return refuse(`a ${e.kind} node`);
    }
  };
  values.forEach(visit);
  for (const [buffer, at] of read) quads(at, `a load from ${buffer}`);
  return { start: first, base: shape.base, size, lets, stores };
}

/** The 4-lane form of the loop (lane k = block g + k). */
class StridedVectorizer {
  private readonly vectors = new Map<string, SimdExpr>();
  private readonly body: SimdStmt[] = [];
  /** Per buffer read and quad, its 4 transposed vectors. */
  private readonly transposed = new Map<string, readonly SimdExpr[]>();
  /** Per buffer stored and quad, the values stored so far (by j mod 4). */
  private readonly pending = new Map<string, SimdExpr[]>();
  private readonly start: SimdExpr;

  constructor(
    private readonly loop: Loop,
    private readonly parts: StridedLoop,
    private readonly fresh: (hint: string) => string,
  ) {
    this.start = ref("i32", fresh(`${parts.start.name}_x${LANES}`));
  }

  run(): SimdStmt[] {
    const { loop, parts } = this;
    const pre: SimdStmt[] = [];
    const scalar = (hint: string, e: Expr): SimdExpr => {
      if (e.kind === "const" || e.kind === "ref") return e;
      const name = this.fresh(`${loop.index}_${hint}`);
      pre.push({ kind: "let", name, value: e });
      return ref("i32", name);
    };
    const from = scalar("from", loop.from);
    const to = scalar("to", loop.to);
    // G = F + ⌊max(T − F, 0) / 4⌋·4: the groups of 4 whole blocks.
    const count: SimdExpr = { kind: "binary", op: "max", type: "i32", a: { kind: "binary", op: "sub", type: "i32", a: to, b: from }, b: i32c(0) };
    const groupEnd = this.fresh(`${loop.index}_groups_end`);
    pre.push({ kind: "let", name: groupEnd, value: add(from, { kind: "binary", op: "and", type: "i32", a: count, b: i32c(-LANES) }) });
    const group = this.fresh(`${loop.index}_x${LANES}`);
    const start: SimdExpr = add(parts.base, { kind: "binary", op: "mul", type: "i32", a: ref("i32", group), b: i32c(parts.size) });
    this.body.push({ kind: "let", name: (this.start as { name: string }).name, value: start });
    for (const s of parts.lets) {
      const value = this.vec(s.value);
      const name = this.fresh(`${s.name}_x${LANES}`);
      this.body.push({ kind: "let", name, value });
      this.vectors.set(s.name, ref(typeOf(s.value) === "bool" ? "boolx4" : value.type, name));
    }
    for (const s of parts.stores) this.store(s);
    const vectorLoop: SimdStmt = { kind: "for", index: group, from, to: ref("i32", groupEnd), step: LANES, body: this.body };
    return [...pre, vectorLoop, { ...loop, from: ref("i32", groupEnd) }];
  }

  /** Element s + kB + at of each block k, as a vector offset from the group's start. */
  private at(k: number, at: number): SimdExpr {
    const offset = k * this.parts.size + at;
    return offset === 0 ? this.start : add(this.start, i32c(offset));
  }

  /** Keeps a store's 4-lane value; the quad's 4th transposes them back into 4 vector stores (lane j of store k: block k's element s + q + j). */
  private store(s: Store): void {
    const j = offsetFrom(s.index, this.parts.start.name)!;
    const q = j - (j % LANES);
    const key = `${s.buffer}@${q}`;
    const values = this.pending.get(key) ?? this.pending.set(key, []).get(key)!;
    values[j - q] = this.bind(`${s.buffer}_value`, this.vec(s.value));
    if (values.filter((v) => v !== undefined).length < LANES) return;
    const type = (values[0].type as string).replace("x4", "") as ScalarType;
    const rows = transpose4(values, type, (hint, v) => this.bind(`${s.buffer}_${hint}`, v));
    rows.forEach((row, k) => this.body.push({ kind: "store", buffer: s.buffer, index: this.at(k, q), value: row }));
  }

  /** Vector j of quad q of a buffer read: lane k = block k's element s + q + j. */
  private load(buffer: string, type: ScalarType, j: number): SimdExpr {
    const q = j - (j % LANES);
    const key = `${buffer}@${q}`;
    let vectors = this.transposed.get(key);
    if (vectors === undefined) {
      const rows = [0, 1, 2, 3].map((k) => this.bind(`${buffer}_block`, { kind: "load", type: vectorOf(type), buffer, index: this.at(k, q) }));
      vectors = transpose4(rows, type, (hint, v) => this.bind(`${buffer}_${hint}`, v));
      this.transposed.set(key, vectors);
    }
    return vectors[j - q];
  }

  /** Lane k: the value for block g + k. */
  private vec(e: Expr): SimdExpr {
    return lanewise(e, {
      variant: (x) => this.variant(x),
      refuse,
      leaf: (x) => {
        if (x.kind === "ref") return this.vectors.get(x.name) ?? refuse(`${x.name} read before it is bound`);
        if (x.kind === "load") return this.load(x.buffer, x.type as ScalarType, offsetFrom(x.index, this.parts.start.name)!);
        return refuse("a table lookup (no gather in this form)");
      },
    });
  }

  private bind(hint: string, v: SimdExpr): SimdExpr {
    return bindLet(this.body, this.fresh, hint, v);
  }

  /** Whether e differs between blocks: reads a load at the block's start or a let of the body. */
  private variant(e: Expr): boolean {
    const start = this.parts.start.name;
    return anySubexpression(e, (x) => (x.kind === "load" && offsetFrom(x.index, start) !== null) || (x.kind === "ref" && this.vectors.has(x.name)));
  }
}

/**
 * The strided form of a loop (see the module comment), or the reason it does not apply. `params`
 * are the kernel's parameters (only buffers of 32-bit elements move as vectors).
 */
export function vectorizeStrided(loop: Loop, names: KernelNames, params: readonly Param[], fresh: (hint: string) => string): SimdStmt[] | string {
  try {
    const parts = match(loop, names, new Map(params.map((p) => [p.name, p])));
    return new StridedVectorizer(loop, parts, fresh).run();
  } catch (error) {
    if (error instanceof NotStrided) return error.message;
    throw error;
  }
}
