/**
 * The wasm target's vectorizer, an IR → IR pass: an element loop `for i in [from, to)` whose body
 * is straight-line lets and stores, with every store at exactly index i and every load at i or
 * at i + k (k the same in every iteration: a block's scales in a row of [B, 1] blocks), gathers
 * aside, becomes a loop over 4 lanes (f32x4/i32x4/u32x4/boolx4) and a scalar tail loop for the
 * last 0–3 elements.
 * Lane k of the vector loop computes exactly what iteration i+k of the scalar loop computes:
 * every op used has a lane-wise form; loop-invariant values are splatted (hoisted when they
 * cannot trap); table lookups, and loads at an index read from memory (from a buffer the loop
 * does not store to), become 4 scalar reads (a gather); clz, which has no i32x4 form, is expanded
 * into an exact binary search of compares and selects.
 *
 * Ordered reductions: the body may also update accumulators (`acc = f(acc, …)`, mutable locals
 * declared before the loop; S2FP8's statistics sum log2|x| this way). Their chains stay scalar and
 * in order — after the lanes' values are computed as vectors, the updates run for lane 0, then
 * lane 1, 2 and 3, each reading its lane's values — so the sums are those of the scalar loop bit
 * for bit while the work that feeds them (a log2 per element) runs 4 lanes at a time. Reductions
 * that are exact in any order — integer sums, maxima and minima, `acc = op(acc, v)` — instead keep
 * a partial per lane and fold the 4 partials into the accumulator after the vector loop (on
 * integers the renderer pairs the lanes by two shuffles, instructions.ts laneFold). So does a
 * running maximum written as the amax statistics write it, `acc = select(v > acc [&& keep], v, acc)`
 * (scaling/common.ts finiteAmax): each lane keeps the first of its candidates above the entry value,
 * and the lanes are folded in order (on integers, as a maximum). That is the sequential result
 * whenever no two distinct candidates compare equal — among non-NaN values only ±0, which can only
 * be kept above a negative entry value, so an f32 loop entered below 0 runs whole in the scalar loop. No let or
 * store may read an accumulator (that would need the running value per lane).
 *
 * Loops with per-lane shift counts (SIMD shifts take one count), f64 values (the vectors here
 * hold four 32-bit lanes), control flow, other mutable locals or other indexing stay scalar, with
 * the reason reported.
 *
 * Precondition inherited by the vector loop: buffers either are the same buffer or do not
 * overlap (the scalar loop reads element i of each after writing elements < i of the others).
 */
import { typeOf } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, KernelModule, ScalarType, Stmt, VectorType } from "../../codegen/ir/nodes.ts";
import { anySubexpression, laneType, usesType } from "../../codegen/ir/nodes.ts";
import { isVector, vectorOf, type SimdExpr, type SimdKernel, type SimdModule, type SimdStmt } from "./simd-ir.ts";
import { vectorizeBlocks } from "./vectorize-blocks.ts";
import { vectorizeStrided } from "./vectorize-strided.ts";

const LANES = 4;

/** What happened to one loop. */
export interface LoopReport {
  readonly kernel: string;
  readonly index: string;
  readonly vectorized: boolean;
  /**
   * "blocks": 4 blocks at a time, one per lane, each with its inner loop (vectorize-blocks.ts);
   * "strided": 4 straight-line blocks at a time, one per lane (vectorize-strided.ts); else 4
   * elements at a time.
   */
  readonly form?: "blocks" | "strided";
  /** Why it stayed scalar. */
  readonly reason?: string;
}

export interface VectorizedModule {
  readonly module: SimdModule;
  readonly loops: readonly LoopReport[];
}

class NotVectorizable extends Error {}

function reject(reason: string): never {
  throw new NotVectorizable(reason);
}

/** Every name a kernel binds, with how many times it is bound. */
function boundNames(kernel: Kernel): Map<string, number> {
  const counts = new Map<string, number>();
  const bind = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  kernel.params.forEach((p) => bind(p.name));
  const walk = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "let" || s.kind === "var") bind(s.name);
      else if (s.kind === "for") {
        bind(s.index);
        walk(s.body);
      } else if (s.kind === "if") {
        walk(s.then);
        walk(s.else);
      }
    }
  };
  walk(kernel.body);
  return counts;
}

const ref = (type: SimdExpr["type"], name: string): SimdExpr => ({ kind: "ref", type, name });
const splat = (type: VectorType, arg: SimdExpr): SimdExpr => ({ kind: "splat", type, arg });
const vconst = (type: ScalarType, value: number): SimdExpr => splat(vectorOf(type), { kind: "const", type, value });

/** A body binding: a vector (variant), or a scalar let kept before the loop or inside it. */
type Binding = { readonly kind: "vector"; readonly ref: SimdExpr } | { readonly kind: "hoisted" | "local" };

/** Vectorizes one loop or throws NotVectorizable. */
class LoopVectorizer {
  private readonly pre: SimdStmt[] = [];
  private readonly body: SimdStmt[] = [];
  private readonly bindings = new Map<string, Binding>();
  private readonly variantCache = new WeakMap<Expr, boolean>();
  private readonly hoisted = new Map<string, SimdExpr>();
  private readonly vectorIndex: string;
  private indexLanes: SimdExpr | null = null;
  /** The mutable locals the body updates (ordered reductions), and their updates in body order. */
  private readonly accumulators: ReadonlySet<string>;
  private readonly updates: Array<Stmt & { kind: "assign" }> = [];
  /** Vector forms of accumulator-free subexpressions of the updates, bound once for all 4 lanes. */
  private readonly laneSources = new Map<Expr, SimdExpr>();
  /** Body lets whose values depend on memory (a gather's index must). */
  private readonly memoryBound = new Set<string>();

  constructor(
    private readonly loop: Stmt & { kind: "for" },
    private readonly fresh: (hint: string) => string,
    private readonly names: ReadonlyMap<string, number>,
  ) {
    this.vectorIndex = fresh(`${loop.index}_x${LANES}`);
    this.accumulators = new Set(loop.body.flatMap((s) => (s.kind === "assign" ? [s.name] : [])));
  }

  run(): SimdStmt[] {
    const loop = this.loop;
    if (loop.step !== 1) reject(`step ${loop.step}`);
    if (usesType(loop.body, "f64")) reject("f64 values in the loop body (vectors here are 4 lanes of 32 bits)");
    for (const s of loop.body) this.stmt(s);
    // Exact reductions keep one partial per lane; the others run after the lets and stores (which
    // read no accumulator), lane by lane.
    const post: SimdStmt[] = [];
    /** Conditions under which the vector loop must not run (the scalar loop then takes every element). */
    const scalarOnly: SimdExpr[] = [];
    const ordered = this.updates.filter((u) => {
      const reduction = exactReduction(u, this.updates, (e) => this.readsAccumulator(e));
      if (reduction !== null) {
        post.push(...this.laneParallel(reduction));
        return false;
      }
      const max = selectMax(u, this.updates, (e) => this.readsAccumulator(e));
      if (max === null) return true;
      post.push(...this.laneParallelMax(max));
      if (max.type === "f32") scalarOnly.push({ kind: "compare", op: "lt", type: "f32", a: ref("f32", max.name), b: { kind: "const", type: "f32", value: 0 } });
      return false;
    });
    for (let k = 0; k < LANES; k++) {
      for (const u of ordered) this.body.push({ kind: "assign", name: u.name, value: this.laneValue(u.value, k) });
    }
    const setup = this.pre.splice(0);
    const from = this.bindScalar("from", loop.from);
    const to = this.bindScalar("to", loop.to);
    const count: SimdExpr = { kind: "binary", op: "max", type: "i32", a: { kind: "binary", op: "sub", type: "i32", a: to, b: from }, b: { kind: "const", type: "i32", value: 0 } };
    const allLanes: SimdExpr = { kind: "binary", op: "and", type: "i32", a: count, b: { kind: "const", type: "i32", value: -LANES } };
    const whole: SimdExpr =
      scalarOnly.length === 0 ? allLanes
      : { kind: "select", type: "i32", cond: scalarOnly.reduce((a, b) => ({ kind: "binary", op: "or", type: "bool", a, b })), then: { kind: "const", type: "i32", value: 0 }, else: allLanes };
    const vectorEnd = this.fresh(`${loop.index}_vector_end`);
    this.pre.push({ kind: "let", name: vectorEnd, value: { kind: "binary", op: "add", type: "i32", a: from, b: whole } });
    // The splats, lane partials and their folds only when the vector loop runs (a short loop —
    // a block's 1-element column segment — pays for the bounds alone). Folding untouched
    // partials changes nothing, so skipping them is exact.
    const runs: SimdExpr = { kind: "compare", op: "ne", type: "i32", a: ref("i32", vectorEnd), b: from };
    return [
      ...this.pre,
      { kind: "if", cond: runs, then: [...setup, { kind: "for", index: this.vectorIndex, from, to: ref("i32", vectorEnd), step: LANES, body: this.body }, ...post], else: [] },
      { kind: "for", index: loop.index, from: ref("i32", vectorEnd), to, step: 1, body: loop.body },
    ];
  }

  private bindScalar(hint: string, e: Expr): SimdExpr {
    if (e.kind === "const" || e.kind === "ref") return e;
    const name = this.fresh(`${this.loop.index}_${hint}`);
    this.pre.push({ kind: "let", name, value: e });
    return ref("i32", name);
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case "let": {
        if ((this.names.get(s.name) ?? 0) > 1) reject(`${s.name} is bound more than once in the kernel`);
        this.refuseAccumulatorRead(s.value, `let ${s.name}`);
        if (this.readsMemory(s.value)) this.memoryBound.add(s.name);
        if (this.variant(s.value)) {
          const v = this.vec(s.value);
          const name = this.fresh(`${s.name}_x${LANES}`);
          this.body.push({ kind: "let", name, value: v });
          this.bindings.set(s.name, { kind: "vector", ref: ref(typeOfVector(v), name) });
        } else if (this.hoistable(s.value)) {
          this.pre.push(s); // the tail loop recomputes the same value under the same name
          this.bindings.set(s.name, { kind: "hoisted" });
        } else {
          this.body.push(s);
          this.bindings.set(s.name, { kind: "local" });
        }
        return;
      }
      case "store":
        this.requireLoopIndex(s.index, `store to ${s.buffer}`);
        this.refuseAccumulatorRead(s.value, `the store to ${s.buffer}`);
        this.body.push({ kind: "store", buffer: s.buffer, index: ref("i32", this.vectorIndex), value: this.vec(s.value) });
        return;
      case "assign":
        if ((this.names.get(s.name) ?? 0) !== 1) reject(`the accumulator ${s.name} is bound more than once in the kernel`);
        this.updates.push(s);
        return;
      default:
        reject(`${s.kind} statement in the loop body`);
    }
  }

  /** Whether a value depends on memory: reads a buffer or a table, directly or through a let. */
  private readsMemory(e: Expr): boolean {
    return anySubexpression(e, (node) => node.kind === "load" || node.kind === "lookup" || (node.kind === "ref" && this.memoryBound.has(node.name)));
  }

  private readsAccumulator(e: Expr): boolean {
    return anySubexpression(e, (node) => node.kind === "ref" && this.accumulators.has(node.name));
  }

  /**
   * An exact reduction with a partial per lane: a vector accumulator starts at the operation's
   * identity before the loop, takes each 4 elements in the body, and is folded into the scalar
   * accumulator after the vector loop (the statements returned); the tail loop goes on from there.
   */
  private laneParallel({ name, op, type, value }: ExactReduction): SimdStmt[] {
    const lanesName = this.fresh(`${name}_lanes`);
    const vectorType = vectorOf(type);
    const lanes = ref(vectorType, lanesName);
    this.pre.push({ kind: "var", name: lanesName, type: vectorType, init: vconst(type, identityOf(op, type)) });
    this.body.push({ kind: "assign", name: lanesName, value: { kind: "binary", op, type: vectorType, a: lanes, b: this.vec(value) } });
    const lane = (k: number): SimdExpr => ({ kind: "extract", type, lane: k, arg: lanes });
    const combine = (a: SimdExpr, b: SimdExpr): SimdExpr => ({ kind: "binary", op, type, a, b });
    return [{ kind: "assign", name, value: combine(ref(type, name), combine(combine(lane(0), lane(1)), combine(lane(2), lane(3)))) }];
  }

  /**
   * A running maximum with a partial per lane: each lane starts at the accumulator's entry value
   * and takes its candidates as the scalar update does; after the vector loop the lanes are folded
   * into the accumulator in lane order by the same update.
   */
  private laneParallelMax({ name, type, candidate, keep }: SelectMax): SimdStmt[] {
    const lanesName = this.fresh(`${name}_lanes`);
    const vectorType = vectorOf(type);
    const lanes = ref(vectorType, lanesName);
    this.pre.push({ kind: "var", name: lanesName, type: vectorType, init: splat(vectorType, ref(type, name)) });
    const v = this.bindVector("max_candidate", this.vec(candidate));
    const above: SimdExpr = { kind: "compare", op: "gt", type: vectorType, a: v, b: lanes };
    const cond: SimdExpr = keep === null ? above : { kind: "binary", op: "and", type: "boolx4", a: above, b: this.vec(keep) };
    this.body.push({ kind: "assign", name: lanesName, value: { kind: "select", type: vectorType, cond, then: v, else: lanes } });
    if (type !== "f32") {
      // On integers the update is the maximum, exact in any order: folded as laneParallel folds.
      const lane = (k: number): SimdExpr => ({ kind: "extract", type, lane: k, arg: lanes });
      const max = (a: SimdExpr, b: SimdExpr): SimdExpr => ({ kind: "binary", op: "max", type, a, b });
      return [{ kind: "assign", name, value: max(ref(type, name), max(max(lane(0), lane(1)), max(lane(2), lane(3)))) }];
    }
    return [0, 1, 2, 3].map((k): SimdStmt => {
      const lane: SimdExpr = { kind: "extract", type, lane: k, arg: lanes };
      const acc = ref(type, name);
      return { kind: "assign", name, value: { kind: "select", type, cond: { kind: "compare", op: "gt", type, a: lane, b: acc }, then: lane, else: acc } };
    });
  }

  private refuseAccumulatorRead(e: Expr, what: string): void {
    if (this.readsAccumulator(e)) reject(`${what} reads an accumulator (a running value per lane is not kept)`);
  }

  /**
   * Lane k of an update's value as a scalar expression: accumulators stay themselves, invariant
   * parts stay scalar, and each maximal accumulator-free variant part is computed once as a
   * vector and read at lane k (bools through u32 lanes, since a vector bool lane is all ones).
   */
  private laneValue(e: Expr, k: number): SimdExpr {
    if (!this.readsAccumulator(e)) {
      if (!this.variant(e)) return e;
      const bool = typeOf(e) === "bool";
      let source = this.laneSources.get(e);
      if (source === undefined) {
        const v = this.vec(e);
        source = this.bindVector("lane_source", bool ? { kind: "convert", op: "u32.fromBool", type: "u32x4", arg: v } : v);
        this.laneSources.set(e, source);
      }
      const lane: SimdExpr = { kind: "extract", type: laneType(typeOfVector(source)), lane: k, arg: source };
      return bool ? { kind: "compare", op: "ne", type: "u32", a: lane, b: { kind: "const", type: "u32", value: 0 } } : lane;
    }
    switch (e.kind) {
      case "ref":
        return e;
      case "unary":
        return { ...e, arg: this.laneValue(e.arg, k) };
      case "convert":
        return { ...e, arg: this.laneValue(e.arg, k) };
      case "binary":
        return { ...e, a: this.laneValue(e.a, k), b: this.laneValue(e.b, k) };
      case "compare":
        return { ...e, a: this.laneValue(e.a, k), b: this.laneValue(e.b, k) };
      case "select":
        return { ...e, cond: this.laneValue(e.cond, k), then: this.laneValue(e.then, k), else: this.laneValue(e.else, k) };
      default:
        return reject(`an accumulator read inside a ${e.kind} node`);
    }
  }

  private requireLoopIndex(index: Expr, what: string): void {
    if (!isLoopIndex(index, this.loop.index)) reject(`${what} is not at the loop index`);
  }

  /** Whether `e` differs between iterations (reads the index, a vector binding or a buffer). */
  private variant(e: Expr): boolean {
    const cached = this.variantCache.get(e);
    if (cached !== undefined) return cached;
    let result: boolean;
    switch (e.kind) {
      case "const":
        result = false;
        break;
      case "ref":
        result = e.name === this.loop.index || this.bindings.get(e.name)?.kind === "vector" || this.accumulators.has(e.name);
        break;
      case "load":
        result = true;
        break;
      case "unary":
      case "convert":
      case "splat":
      case "extract":
        result = this.variant(e.arg);
        break;
      case "lookup":
        result = this.variant(e.index);
        break;
      case "binary":
      case "compare":
        result = this.variant(e.a) || this.variant(e.b);
        break;
      case "select":
        result = this.variant(e.cond) || this.variant(e.then) || this.variant(e.else);
        break;
    }
    this.variantCache.set(e, result);
    return result;
  }

  /** Whether an invariant `e` may be computed before the loop: it reads no memory and no body binding. */
  private hoistable(e: Expr): boolean {
    switch (e.kind) {
      case "const":
        return true;
      case "ref":
        return this.bindings.get(e.name)?.kind !== "local" && !this.accumulators.has(e.name);
      case "load":
      case "lookup":
        return false;
      case "unary":
      case "convert":
      case "splat":
      case "extract":
        return this.hoistable(e.arg);
      case "binary":
      case "compare":
        return this.hoistable(e.a) && this.hoistable(e.b);
      case "select":
        return this.hoistable(e.cond) && this.hoistable(e.then) && this.hoistable(e.else);
    }
  }

  /** The 4-lane form of a scalar expression. */
  private vec(e: Expr): SimdExpr {
    if (isVector(e.type)) reject("the loop already holds vector IR");
    if (!this.variant(e)) return this.invariant(e);
    const lanes = (t: ScalarType) => vectorOf(t);
    switch (e.kind) {
      case "ref": {
        if (e.name === this.loop.index) return this.loopIndexLanes();
        const b = this.bindings.get(e.name);
        if (b?.kind !== "vector") throw new Error(`vectorizer: ${e.name} is not a vector binding`);
        return b.ref;
      }
      case "unary":
        if (e.op === "clz") return this.clz(this.vec(e.arg));
        return { kind: "unary", op: e.op, type: lanes(e.type as ScalarType), arg: this.vec(e.arg) };
      case "binary":
        if (e.op === "shl" || e.op === "shr") {
          if (this.variant(e.b)) reject(`a per-lane ${e.op} count (SIMD shifts take one count for all lanes)`);
          return { kind: "binary", op: e.op, type: lanes(e.type as ScalarType), a: this.vec(e.a), b: this.shiftCount(e.b) };
        }
        if (e.op === "div" && e.type !== "f32") reject("an integer division (SIMD has no 4-lane form)");
        return { kind: "binary", op: e.op, type: lanes(e.type as ScalarType), a: this.vec(e.a), b: this.vec(e.b) };
      case "compare":
        return { kind: "compare", op: e.op, type: lanes(e.type as ScalarType), a: this.vec(e.a), b: this.vec(e.b) };
      case "select":
        return { kind: "select", type: lanes(e.type as ScalarType), cond: this.vec(e.cond), then: this.vec(e.then), else: this.vec(e.else) };
      case "convert":
        return { kind: "convert", op: e.op, type: lanes(e.type as ScalarType), arg: this.vec(e.arg) };
      case "load": {
        if (isLoopIndex(e.index, this.loop.index)) return { kind: "load", type: lanes(e.type), buffer: e.buffer, index: ref("i32", this.vectorIndex) };
        const offset = this.invariantOffset(e.index);
        if (offset !== null) {
          // At i + k, k the same in every iteration: 4 consecutive elements, from a buffer the loop
          // does not write (lane k would miss the stores of lanes < k).
          if (this.storesTo(e.buffer)) reject(`a load from ${e.buffer}, which the loop stores to, at an offset from the index`);
          return { kind: "load", type: lanes(e.type), buffer: e.buffer, index: { kind: "binary", op: "add", type: "i32", a: ref("i32", this.vectorIndex), b: this.bindScalar("offset", offset) } };
        }
        // At an index read from memory (a table entry per element's code): 4 scalar loads, from a
        // buffer the loop does not write (lane k would miss the stores of lanes < k). Other
        // indices (i + 1, 4·i + j) are the superword pass's, which packs such loops far better.
        if (!this.readsMemory(e.index)) this.requireLoopIndex(e.index, `load from ${e.buffer}`);
        if (this.storesTo(e.buffer)) reject(`a load from ${e.buffer}, which the loop stores to, at a computed index`);
        const index = this.vec(e.index);
        return this.gather(e.type, index, (at) => ({ kind: "load", type: e.type, buffer: e.buffer, index: at }));
      }
      case "lookup":
        return this.gather(e.type, this.vec(e.index), (at) => ({ kind: "lookup", type: e.type, table: e.table, index: at }));
      case "const":
      case "splat":
      case "extract":
        return reject(`a ${e.kind} node`);
    }
  }

  private storesTo(buffer: string): boolean {
    return this.loop.body.some((s) => s.kind === "store" && s.buffer === buffer);
  }

  /**
   * k of an index i + k (or k + i) with k the same in every iteration, computable before the loop
   * and not a constant (loads at i + 1, i + 2 … are the superword pass's), or null.
   */
  private invariantOffset(index: Expr): Expr | null {
    if (index.kind !== "binary" || index.op !== "add" || index.type !== "i32") return null;
    const k = isLoopIndex(index.a, this.loop.index) ? index.b : isLoopIndex(index.b, this.loop.index) ? index.a : null;
    return k !== null && k.kind !== "const" && !this.variant(k) && this.hoistable(k) ? k : null;
  }

  /** The vector whose lane k is read(lane k of index): a gather by 4 scalar reads. */
  private gather(type: ScalarType, indexLanes: SimdExpr, read: (at: SimdExpr) => SimdExpr): SimdExpr {
    const index = this.bindVector("gather_index", indexLanes);
    const laneOf = laneType(typeOfVector(index));
    const at = (k: number) => read({ kind: "extract", type: laneOf, lane: k, arg: index });
    return { kind: "lanes", type: vectorOf(type), args: [at(0), at(1), at(2), at(3)] };
  }

  /** An invariant value in every lane: constants inline, hoistable values splatted once before the loop. */
  private invariant(e: Expr): SimdExpr {
    // typeOf, not e.type: a comparison's `type` is its operand type, its value is a bool.
    const type = vectorOf(typeOf(e) as ScalarType);
    if (e.kind === "const" || !this.hoistable(e)) return splat(type, e);
    const key = JSON.stringify(e);
    let v = this.hoisted.get(key);
    if (v === undefined) {
      const name = this.fresh("splat");
      this.pre.push({ kind: "let", name, value: splat(type, e) });
      v = ref(type, name);
      this.hoisted.set(key, v);
    }
    return v;
  }

  /** A shift count: one scalar for all lanes (the renderer requires a splat here). */
  private shiftCount(e: Expr): SimdExpr {
    const type = vectorOf(e.type as ScalarType);
    if (e.kind === "const" || e.kind === "ref" || !this.hoistable(e)) return splat(type, e);
    const name = this.fresh("shift");
    this.pre.push({ kind: "let", name, value: e });
    return splat(type, ref(e.type, name));
  }

  private bindVector(hint: string, v: SimdExpr): SimdExpr {
    if (v.kind === "ref") return v;
    const name = this.fresh(hint);
    this.body.push({ kind: "let", name, value: v });
    return ref(typeOfVector(v), name);
  }

  /** [i, i+1, i+2, i+3] for uses of the loop index as a value (e.g. a random draw's counter). */
  private loopIndexLanes(): SimdExpr {
    if (this.indexLanes === null) {
      const k = (value: number): SimdExpr => ({ kind: "const", type: "i32", value });
      const offsets: SimdExpr = { kind: "lanes", type: "i32x4", args: [k(0), k(1), k(2), k(3)] };
      this.indexLanes = this.bindVector(`${this.loop.index}_lanes`, { kind: "binary", op: "add", type: "i32x4", a: splat("i32x4", ref("i32", this.vectorIndex)), b: offsets });
    }
    return this.indexLanes;
  }

  /** clz of each u32/i32 lane by binary search (Hacker's Delight nlz): 16, 8, 4, 2, 1, then 0 → 32. */
  private clz(x: SimdExpr): SimdExpr {
    const type = typeOfVector(x);
    let v = this.bindVector("clz_x", type === "u32x4" ? x : { kind: "convert", op: "u32.fromI32", type: "u32x4", arg: x });
    let n: SimdExpr | null = null;
    for (const bits of [16, 8, 4, 2, 1]) {
      const small = this.bindVector("clz_small", { kind: "compare", op: "lt", type: "u32x4", a: v, b: vconst("u32", 2 ** (32 - bits)) });
      const step: SimdExpr = { kind: "select", type: "u32x4", cond: small, then: vconst("u32", bits), else: vconst("u32", 0) };
      n = this.bindVector("clz_n", n === null ? step : { kind: "binary", op: "add", type: "u32x4", a: n, b: step });
      v = this.bindVector("clz_x", { kind: "select", type: "u32x4", cond: small, then: { kind: "binary", op: "shl", type: "u32x4", a: v, b: vconst("u32", bits) }, else: v });
    }
    const zero: SimdExpr = { kind: "compare", op: "eq", type: "u32x4", a: v, b: vconst("u32", 0) };
    const count = this.bindVector("clz", { kind: "binary", op: "add", type: "u32x4", a: n ?? vconst("u32", 0), b: { kind: "convert", op: "u32.fromBool", type: "u32x4", arg: zero } });
    return type === "u32x4" ? count : { kind: "convert", op: "i32.fromU32", type: "i32x4", arg: count };
  }
}

/** An accumulator whose one update is acc = op(acc, value): exact in any order, so computable per lane. */
interface ExactReduction {
  readonly name: string;
  readonly op: "add" | "max" | "min";
  readonly type: "i32" | "u32" | "f32";
  readonly value: Expr;
}

/**
 * `update` as an exact reduction, or null: wrapping integer sums, and maxima and minima (for the
 * non-NaN operands the IR defines them on they are associative and commutative, −0 < +0 included),
 * updated once per iteration, with a value that does not read an accumulator and read by no other
 * update. Float sums stay ordered: their rounding depends on the order.
 */
function exactReduction(update: Stmt & { kind: "assign" }, updates: readonly (Stmt & { kind: "assign" })[], readsAccumulator: (e: Expr) => boolean): ExactReduction | null {
  const e = update.value;
  if (e.kind !== "binary" || updates.filter((u) => u.name === update.name).length !== 1) return null;
  const type = e.type;
  const exact = e.op === "max" || e.op === "min" ? type === "f32" || type === "i32" || type === "u32" : e.op === "add" && (type === "i32" || type === "u32");
  if (!exact) return null;
  const isAcc = (x: Expr) => x.kind === "ref" && x.name === update.name;
  const value = isAcc(e.a) ? e.b : isAcc(e.b) ? e.a : null;
  if (value === null || readsAccumulator(value)) return null;
  // An ordered update reading it would see the scalar before the fold, not its running value.
  if (updates.some((u) => u !== update && anySubexpression(u.value, isAcc))) return null;
  return { name: update.name, op: e.op as ExactReduction["op"], type: type as ExactReduction["type"], value };
}

/** A running maximum `acc = select(candidate > acc [&& keep], candidate, acc)` (see the module comment). */
interface SelectMax {
  readonly name: string;
  readonly type: "i32" | "u32" | "f32";
  readonly candidate: Expr;
  readonly keep: Expr | null;
}

/** `update` as a running maximum, or null: updated once per iteration, read by no other update, candidate and keep free of accumulators. */
function selectMax(update: Stmt & { kind: "assign" }, updates: readonly (Stmt & { kind: "assign" })[], readsAccumulator: (e: Expr) => boolean): SelectMax | null {
  const e = update.value;
  if (e.kind !== "select" || updates.filter((u) => u.name === update.name).length !== 1) return null;
  const isAcc = (x: Expr) => x.kind === "ref" && x.name === update.name;
  const candidate = e.then;
  const type = typeOf(candidate);
  if (!isAcc(e.else) || readsAccumulator(candidate) || (type !== "f32" && type !== "i32" && type !== "u32")) return null;
  const same = JSON.stringify(candidate);
  const above = (c: Expr) => c.kind === "compare" && c.op === "gt" && isAcc(c.b) && JSON.stringify(c.a) === same;
  const cond = e.cond;
  let keep: Expr | null;
  if (above(cond)) keep = null;
  else if (cond.kind === "binary" && cond.op === "and" && above(cond.a) && !readsAccumulator(cond.b)) keep = cond.b;
  else if (cond.kind === "binary" && cond.op === "and" && above(cond.b) && !readsAccumulator(cond.a)) keep = cond.a;
  else return null;
  if (updates.some((u) => u !== update && anySubexpression(u.value, isAcc))) return null;
  return { name: update.name, type, candidate, keep };
}

/** The identity of a reduction: 0 for sums, the type's lowest value for maxima, its highest for minima. */
function identityOf(op: ExactReduction["op"], type: ExactReduction["type"]): number {
  if (op === "add") return 0;
  const lowest = type === "f32" ? Number.NEGATIVE_INFINITY : type === "i32" ? -(2 ** 31) : 0;
  const highest = type === "f32" ? Number.POSITIVE_INFINITY : type === "i32" ? 2 ** 31 - 1 : 2 ** 32 - 1;
  return op === "max" ? lowest : highest;
}

const isLoopIndex = (index: Expr, loopIndex: string) => index.kind === "ref" && index.name === loopIndex;

function typeOfVector(e: SimdExpr): VectorType {
  const t = e.kind === "compare" ? (isVector(e.type) ? "boolx4" : "bool") : e.type;
  if (!isVector(t)) throw new Error(`vectorizer: expected a vector, got ${t}`);
  return t;
}

/** How many times each mutable local is assigned. */
function assignedNames(kernel: Kernel): Map<string, number> {
  const counts = new Map<string, number>();
  const walk = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "assign") counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
      else if (s.kind === "for") walk(s.body);
      else if (s.kind === "if") {
        walk(s.then);
        walk(s.else);
      }
    }
  };
  walk(kernel.body);
  return counts;
}

/**
 * Whether an inner loop updates an accumulator in order (a float sum), which the element form
 * would run lane after lane: the block form then pays (vectorize-blocks.ts).
 */
function hasOrderedUpdate(inner: Stmt & { kind: "for" }, accumulators: ReadonlySet<string>): boolean {
  const updates = inner.body.filter((s): s is Stmt & { kind: "assign" } => s.kind === "assign");
  const readsAccumulator = (e: Expr) => anySubexpression(e, (node) => node.kind === "ref" && accumulators.has(node.name));
  return updates.some((u) => exactReduction(u, updates, readsAccumulator) === null && selectMax(u, updates, readsAccumulator) === null);
}

/** Vectorizes every eligible loop of a kernel (the others are kept, with the reason). */
export function vectorizeKernel(kernel: Kernel): { readonly kernel: SimdKernel; readonly loops: readonly LoopReport[] } {
  const names = boundNames(kernel);
  const assigned = assignedNames(kernel);
  const taken = new Set(names.keys());
  const fresh = (hint: string) => {
    let name = hint;
    for (let k = 2; taken.has(name); k++) name = `${hint}_${k}`;
    taken.add(name);
    return name;
  };
  const loops: LoopReport[] = [];
  /** The scalar rest of a block- or strided-form loop: vectorized as usual, never in those forms again. */
  const rests = new WeakSet<Stmt>();
  const block = (stmts: readonly Stmt[]): SimdStmt[] =>
    stmts.flatMap((s): SimdStmt[] => {
      if (s.kind === "if") return [{ ...s, then: block(s.then), else: block(s.else) }];
      if (s.kind !== "for") return [s];
      if (!rests.has(s)) {
        const blocks = vectorizeBlocks(s, { bound: names, assigned }, fresh, hasOrderedUpdate);
        if (typeof blocks !== "string") {
          loops.push({ kernel: kernel.name, index: s.index, vectorized: true, form: "blocks" });
          const rest = blocks[blocks.length - 1] as Stmt;
          rests.add(rest);
          return [...blocks.slice(0, -1), ...block([rest])];
        }
        const strided = vectorizeStrided(s, { bound: names, assigned }, kernel.params, fresh);
        if (typeof strided !== "string") {
          loops.push({ kernel: kernel.name, index: s.index, vectorized: true, form: "strided" });
          const rest = strided[strided.length - 1] as Stmt;
          rests.add(rest);
          return [...strided.slice(0, -1), ...block([rest])];
        }
      }
      try {
        const out = new LoopVectorizer(s, fresh, names).run();
        loops.push({ kernel: kernel.name, index: s.index, vectorized: true });
        return out;
      } catch (error) {
        if (!(error instanceof NotVectorizable)) throw error;
        loops.push({ kernel: kernel.name, index: s.index, vectorized: false, reason: error.message });
        return [{ ...s, body: block(s.body) }];
      }
    });
  return { kernel: { ...kernel, body: block(kernel.body) }, loops };
}

/** Vectorizes every kernel of a module. */
export function vectorizeModule(module: KernelModule): VectorizedModule {
  const results = module.kernels.map(vectorizeKernel);
  return { module: { kernels: results.map((r) => r.kernel) }, loops: results.flatMap((r) => r.loops) };
}
