/**
 * The vectorizer's block form (vectorize.ts calls it first on every loop): a loop over blocks
 * whose inner element loop keeps an ordered reduction — S2FP8's statistics, a float32 sum
 * sequential within each chunk of 256 — runs 4 blocks at a time, one block per lane. The inner
 * vectorizer cannot help such a loop: its sum runs lane after lane on one scalar chain, bound by
 * the latency of a float add. Here each lane's accumulator takes its own block's elements in the
 * block's order, so every lane computes exactly what the scalar loop computes for that block,
 * whatever the update (ordered float sums included), while the 4 chains run side by side.
 *
 * The shape, as forBlocks (lower/scaling/common.ts) writes it:
 *
 *   var c = …                               a block counter, assigned only at the end of the loop body
 *   for s in [F, T) step B:                 B a multiple of 4
 *     let e = min(s + B, T)
 *     var a = init …                        accumulators (init invariant)
 *     for i in [s, e): lets and `a = …`     loads at i only, no stores, no reads of s, e or c
 *     store buf[c] = f(a, …) …              the block's results, at the counter
 *     c = c + 1
 *
 * becomes, for the whole groups of 4 blocks (s + 4B ≤ T: every block of the group is full),
 *
 *   for s in [F, G) step 4B:
 *     var a = splat(init) …
 *     for p in [s, s + B) step 4:
 *       per buffer read: 4 vector loads at p + kB, transposed (8 lane selections, one shuffle each)
 *       for j in 0..3 (unrolled): lets and updates on 4 lanes, lane k reading element p + j + kB
 *     vector store buf[c] (lane k at c + k); c = c + 4
 *
 * and the original loop over [G, T) for the rest (its inner loop vectorized as usual). The
 * unrolled copies keep each block's elements in order, so ordered sums stay exact; the transpose
 * replaces 4 single-lane loads per element vector (nvfp4 statistics ~1.4x faster for it);
 * lookups gather lane by lane. A select
 * that is exactly an integer maximum or minimum (integerExtreme; the flat amax statistics write
 * their update so, to stay an ordered reduction that comes here) is one i32x4.max/min per 4
 * elements instead of a compare and a bitselect.
 */
import { typeOf } from "../../codegen/ir/build.ts";
import type { Expr, ScalarType, Stmt } from "../../codegen/ir/nodes.ts";
import { anySubexpression } from "../../codegen/ir/nodes.ts";
import { vectorOf, type SimdExpr, type SimdStmt } from "./simd-ir.ts";
import { bindLet, lanewise, transpose4 } from "./block-lanes.ts";

const LANES = 4;

type Loop = Stmt & { kind: "for" };

class NotBlocks extends Error {}
function refuse(why: string): never {
  throw new NotBlocks(why);
}

const same = (a: Expr, b: Expr) => JSON.stringify(a) === JSON.stringify(b);
const isRef = (e: Expr, name: string) => e.kind === "ref" && e.name === name;
const ref = (type: SimdExpr["type"], name: string) => ({ kind: "ref", type, name }) as const satisfies SimdExpr;
const i32c = (value: number): SimdExpr => ({ kind: "const", type: "i32", value });
const add = (a: SimdExpr, b: SimdExpr): SimdExpr => ({ kind: "binary", op: "add", type: "i32", a, b });

/** What a kernel's names are: how often each is bound, how often each is assigned. */
export interface KernelNames {
  readonly bound: ReadonlyMap<string, number>;
  readonly assigned: ReadonlyMap<string, number>;
}

/** The parts of a loop in the block shape. */
interface BlockLoop {
  readonly counter: string;
  readonly accumulators: ReadonlyMap<string, Stmt & { kind: "var" }>;
  readonly inner: Loop;
  readonly stores: readonly (Stmt & { kind: "store" })[];
}

/** The loop's parts, or NotBlocks. */
function match(loop: Loop, names: KernelNames, ordered: (inner: Loop, accumulators: ReadonlySet<string>) => boolean): BlockLoop {
  const B = loop.step;
  if (B < LANES || B % LANES !== 0) refuse(`step ${B} is not a multiple of ${LANES}`);
  const body = loop.body;
  const last = body[body.length - 1];
  if (last?.kind !== "assign") refuse("the loop does not end by advancing a counter");
  const counter = last.name;
  const advance = last.value;
  if (!(advance.kind === "binary" && advance.op === "add" && advance.type === "i32" && isRef(advance.a, counter) && advance.b.kind === "const" && advance.b.value === 1))
    refuse("the counter does not advance by 1");
  if (names.assigned.get(counter) !== 1 || names.bound.get(counter) !== 1) refuse("the counter is assigned elsewhere");
  const [endLet, ...rest] = body.slice(0, -1);
  if (endLet?.kind !== "let") refuse("the loop body does not start with its block's end");
  const end = endLet.value;
  const blockEnd: Expr = { kind: "binary", op: "add", type: "i32", a: { kind: "ref", type: "i32", name: loop.index }, b: { kind: "const", type: "i32", value: B } };
  if (!(end.kind === "binary" && end.op === "min" && same(end.a, blockEnd) && same(end.b, loop.to))) refuse("the block's end is not min(start + step, to)");
  const accumulators = new Map<string, Stmt & { kind: "var" }>();
  let at = 0;
  for (; at < rest.length && rest[at].kind === "var"; at++) {
    const v = rest[at] as Stmt & { kind: "var" };
    if (v.type !== "f32" && v.type !== "i32" && v.type !== "u32") refuse(`accumulator ${v.name} of type ${v.type}`);
    if (v.init.kind !== "const") refuse(`accumulator ${v.name} starts at a computed value`);
    accumulators.set(v.name, v);
  }
  const inner = rest[at];
  if (inner?.kind !== "for" || inner.step !== 1 || !isRef(inner.from, loop.index) || !isRef(inner.to, endLet.name)) refuse("no inner element loop over [start, end)");
  const stores = rest.slice(at + 1);
  for (const s of stores) {
    if (s.kind !== "store" || !isRef(s.index, counter)) refuse("a statement after the inner loop other than a store at the counter");
  }
  // Names whose values differ between blocks, other than the accumulators: readable by no lane.
  const perBlock = new Set([loop.index, endLet.name, counter, inner.index]);
  for (const s of inner.body) {
    if (s.kind === "let") {
      if (names.bound.get(s.name) !== 1) refuse(`${s.name} is bound more than once in the kernel`);
    } else if (s.kind === "assign") {
      if (!accumulators.has(s.name)) refuse(`the inner loop assigns ${s.name}, not an accumulator of the block`);
    } else refuse(`a ${s.kind} statement in the inner loop`);
    const value = s.value;
    if (anySubexpression(value, (e) => e.kind === "ref" && perBlock.has(e.name) && e.name !== inner.index)) refuse("the inner loop reads the block's start, end or counter");
  }
  const stored = new Set(stores.map((s) => (s as Stmt & { kind: "store" }).buffer));
  if (inner.body.some((s) => (s.kind === "let" || s.kind === "assign") && anySubexpression(s.value, (e) => e.kind === "load" && stored.has(e.buffer))))
    refuse("the inner loop reads a buffer the blocks store to");
  for (const s of stores) {
    const value = (s as Stmt & { kind: "store" }).value;
    if (anySubexpression(value, (e) => e.kind === "load" || e.kind === "lookup" || (e.kind === "ref" && perBlock.has(e.name)))) refuse("a block's store reads memory or the block's position");
  }
  if (!ordered(inner, new Set(accumulators.keys()))) refuse("no ordered reduction (the inner vectorizer keeps a partial per lane)");
  return { counter, accumulators, inner, stores: stores as (Stmt & { kind: "store" })[] };
}

/** The 4-lane form of the block loop (lane k = block k of a group). */
class BlockVectorizer {
  private readonly vectors = new Map<string, SimdExpr>();
  private readonly body: SimdStmt[] = [];
  /** Which copy of the unrolled body is being built: position p + at of each block. */
  private at = 0;
  /** Per buffer, its 4 transposed vectors at the iteration's position (vector j: p + j of each block). */
  private readonly transposed = new Map<string, readonly SimdExpr[]>();
  /** Scalars computed once before the groups (the loop's bounds). */
  private readonly bindings = new Map<string, SimdExpr>();

  constructor(
    private readonly loop: Loop,
    private readonly parts: BlockLoop,
    private readonly fresh: (hint: string) => string,
    private readonly position: string,
  ) {}

  run(): SimdStmt[] {
    const { loop, parts } = this;
    const B = loop.step;
    const from = this.scalar("from", loop.from);
    const to = this.scalar("to", loop.to);
    const pre: SimdStmt[] = [];
    for (const [name, e] of this.bindings) pre.push({ kind: "let", name, value: e });
    // G = F + ⌊max(T − F, 0) / 4B⌋·4B: the groups whose 4 blocks are all full.
    const count: SimdExpr = { kind: "binary", op: "max", type: "i32", a: { kind: "binary", op: "sub", type: "i32", a: to, b: from }, b: i32c(0) };
    const groups: SimdExpr = { kind: "binary", op: "mul", type: "i32", a: { kind: "binary", op: "div", type: "i32", a: count, b: i32c(LANES * B) }, b: i32c(LANES * B) };
    const groupEnd = this.fresh(`${loop.index}_groups_end`);
    pre.push({ kind: "let", name: groupEnd, value: add(from, groups) });
    const vars: SimdStmt[] = [...parts.accumulators.values()].map((v) => {
      const name = this.fresh(`${v.name}_blocks`);
      const type = vectorOf(v.type as ScalarType);
      this.vectors.set(v.name, ref(type, name));
      return { kind: "var", name, type, init: { kind: "splat", type, arg: v.init } };
    });
    const start = ref("i32", this.fresh(`${loop.index}_x${LANES}`));
    const p = ref("i32", this.position);
    // Unrolled by 4: copy j takes position p + j of every block, in order.
    for (let j = 0; j < LANES; j++) {
      this.at = j;
      for (const s of parts.inner.body) {
        if (s.kind === "let") {
          const value = this.vec(s.value, p);
          const name = this.fresh(`${s.name}_blocks`);
          this.body.push({ kind: "let", name, value });
          this.vectors.set(s.name, ref(typeOfVector(value, s.value), name));
        } else if (s.kind === "assign") {
          this.body.push({ kind: "assign", name: (this.vectors.get(s.name) as { name: string }).name, value: this.vec(s.value, p) });
        }
      }
    }
    const inner: SimdStmt = { kind: "for", index: this.position, from: ref("i32", start.name), to: add(ref("i32", start.name), i32c(B)), step: LANES, body: this.body };
    const counter = ref("i32", parts.counter);
    const stores: SimdStmt[] = parts.stores.map((s) => ({ kind: "store", buffer: s.buffer, index: counter, value: this.vec(s.value, p) }));
    const group: SimdStmt = {
      kind: "for",
      index: (start as { name: string }).name,
      from,
      to: ref("i32", groupEnd),
      step: LANES * B,
      body: [...vars, inner, ...stores, { kind: "assign", name: parts.counter, value: add(counter, i32c(LANES)) }],
    };
    return [...pre, group, { ...loop, from: ref("i32", groupEnd) }];
  }

  /** A loop bound as a value computed once, before the groups. */
  private scalar(hint: string, e: Expr): SimdExpr {
    if (e.kind === "const" || e.kind === "ref") return e;
    const name = this.fresh(`${this.loop.index}_${hint}`);
    this.bindings.set(name, e);
    return ref("i32", name);
  }

  /** Lane k: the value for block k of the group, at position p of block 0. */
  private vec(e: Expr, p: SimdExpr): SimdExpr {
    return lanewise(e, {
      variant: (x) => this.variant(x),
      refuse,
      leaf: (x, vec) => {
        if (x.kind === "ref") return this.vectors.get(x.name) ?? refuse(`${x.name} read before it is bound`);
        if (x.kind === "load") {
          if (!isRef(x.index, this.parts.inner.index)) refuse(`a load from ${x.buffer} away from the inner index`);
          return this.transpose(x.buffer, x.type, p)[this.at];
        }
        const index = this.bind("block_gather_index", vec(x.index));
        const laneOf = (index.type as string).replace("x4", "") as ScalarType;
        const at = (k: number): SimdExpr => ({ kind: "lookup", type: x.type, table: x.table, index: { kind: "extract", type: laneOf, lane: k, arg: index } });
        return { kind: "lanes", type: vectorOf(x.type), args: [at(0), at(1), at(2), at(3)] };
      },
    });
  }

  /**
   * A buffer's elements p … p + 3 of the 4 blocks as 4 vectors, vector j lane k element p + j of
   * block k: 4 vector loads (block k's 4 elements) transposed by lane selections of two vectors
   * each (the renderer's one shuffle apiece), bound once per iteration, at the first load.
   */
  private transpose(buffer: string, type: ScalarType, p: SimdExpr): readonly SimdExpr[] {
    const known = this.transposed.get(buffer);
    if (known !== undefined) return known;
    const B = this.loop.step;
    const rows = [0, 1, 2, 3].map((k) => this.bind(`${buffer}_block`, { kind: "load", type: vectorOf(type), buffer, index: k === 0 ? p : add(p, i32c(k * B)) }));
    const vectors = transpose4(rows, type, (hint, v) => this.bind(`${buffer}_${hint}`, v));
    this.transposed.set(buffer, vectors);
    return vectors;
  }

  private bind(hint: string, v: SimdExpr): SimdExpr {
    return bindLet(this.body, this.fresh, hint, v);
  }

  /** Whether e differs between lanes or iterations: reads the inner index's loads, an inner let or an accumulator. */
  private variant(e: Expr): boolean {
    return anySubexpression(e, (x) => x.kind === "load" || (x.kind === "ref" && (this.vectors.has(x.name) || x.name === this.parts.inner.index)));
  }
}

function typeOfVector(v: SimdExpr, scalar: Expr): SimdExpr["type"] {
  return typeOf(scalar) === "bool" ? "boolx4" : v.type;
}

/**
 * The block form of a loop (see the module comment), or null with the reason it does not apply.
 * `ordered` says whether the inner loop keeps an update the inner vectorizer would run lane by lane.
 */
export function vectorizeBlocks(
  loop: Loop,
  names: KernelNames,
  fresh: (hint: string) => string,
  ordered: (inner: Loop, accumulators: ReadonlySet<string>) => boolean,
): SimdStmt[] | string {
  try {
    const parts = match(loop, names, ordered);
    return new BlockVectorizer(loop, parts, fresh, fresh(`${parts.inner.index}_blocks`)).run();
  } catch (error) {
    if (error instanceof NotBlocks) return error.message;
    throw error;
  }
}
