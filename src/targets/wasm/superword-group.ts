/**
 * One group of the superword pass (see superword.ts): four scalar statements of a straight-line
 * block packed into one 4-lane statement. An Attempt builds the vector value of four scalar
 * values (Attempt.pack), records what the moved computation reads, and commits only if nothing
 * between the four statements and the place the group lands could change a result.
 */
import type { ScalarType, VectorType } from "../../codegen/ir/nodes.ts";
import { isVector, simdTypeOf, vectorOf, type SimdExpr, type SimdKernel, type SimdStmt } from "./simd-ir.ts";
import { exprsOf, forEachStmt, readsAny, substitute, walk } from "./simd-walk.ts";

export const LANES = 4;

/** Why a group stays scalar. */
export class Refused extends Error {}

export function refuse(why: string): never {
  throw new Refused(why);
}

export type Tuple = readonly SimdExpr[];

export const key = (x: unknown) => JSON.stringify(x);
export const ref = (type: SimdExpr["type"], name: string): SimdExpr => ({ kind: "ref", type, name });

function laneOf(e: SimdExpr): ScalarType {
  const t = simdTypeOf(e);
  if (isVector(t)) refuse("vector IR already there");
  if (t === "f64") refuse("f64 has no 4-lane form");
  return t;
}

/** Kernel-wide facts: mutable locals, how often each is assigned, and fresh names. */
export class KernelFacts {
  readonly vars = new Set<string>();
  readonly assigns = new Map<string, number>();
  private readonly taken = new Set<string>();

  constructor(kernel: SimdKernel) {
    kernel.params.forEach((p) => this.taken.add(p.name));
    forEachStmt(kernel.body, (st) => {
      if (st.kind === "let" || st.kind === "var") this.taken.add(st.name);
      if (st.kind === "var") this.vars.add(st.name);
      if (st.kind === "for") this.taken.add(st.index);
      if (st.kind === "assign") this.assigns.set(st.name, (this.assigns.get(st.name) ?? 0) + 1);
    });
  }

  fresh(hint: string): string {
    let name = hint;
    for (let k = 2; this.taken.has(name); k++) name = `${hint}_${k}`;
    this.taken.add(name);
    return name;
  }
}

/** A vector value already bound in the block, with what its (moved) scalar reads depend on. */
interface Bound {
  readonly value: SimdExpr;
  readonly from: number;
  readonly vars: ReadonlySet<string>;
  readonly buffers: ReadonlySet<string>;
}

/** One straight-line block being packed: its lets by name, the edits so far, shared vector lets. */
export class BlockPacker {
  readonly lets = new Map<string, { readonly pos: number; readonly value: SimdExpr }>();
  readonly before = new Map<number, SimdStmt[]>();
  readonly replaced = new Map<number, SimdStmt | null>();
  readonly bound = new Map<string, Bound>();
  packed = 0;

  constructor(
    readonly block: readonly SimdStmt[],
    readonly facts: KernelFacts,
  ) {
    const seen = new Set<string>();
    block.forEach((st, pos) => {
      if (st.kind !== "let") return;
      if (seen.has(st.name)) this.lets.delete(st.name); // bound twice: not followable
      else this.lets.set(st.name, { pos, value: st.value });
      seen.add(st.name);
    });
  }

  /** The block with the committed edits applied. */
  result(): SimdStmt[] {
    const out: SimdStmt[] = [];
    this.block.forEach((st, pos) => {
      out.push(...(this.before.get(pos) ?? []));
      const r = this.replaced.get(pos);
      if (r === undefined) out.push(st);
      else if (r !== null) out.push(r);
    });
    return out;
  }
}

export interface GroupSeeds {
  /** Block positions of the four seed statements, ascending. */
  readonly positions: readonly number[];
  /** Accumulator seeds: the four locals, and the vector local replacing them. */
  readonly self?: { readonly names: readonly string[]; readonly vector: SimdExpr };
  /** Store seeds: the buffer and lane 0's normalized index. */
  readonly store?: { readonly buffer: string; readonly base: string; readonly offset: number };
  readonly gather: boolean;
}

/** One attempt to pack a group; commits its vector lets only when the whole group packs. */
export class Attempt {
  private readonly emitted: SimdStmt[] = [];
  private readonly bound = new Map<string, Bound>();
  from: number;
  readonly vars = new Set<string>();
  readonly buffers = new Set<string>();
  private readonly reused: Bound[] = [];

  constructor(
    private readonly p: BlockPacker,
    readonly seeds: GroupSeeds,
  ) {
    this.from = seeds.positions[0];
  }

  get anchor(): number {
    return this.seeds.positions[LANES - 1];
  }

  /** The 4-lane value whose lane k is t[k]. */
  pack(t: Tuple): SimdExpr {
    if (t.length !== LANES) throw new Error("superword: a tuple has 4 lanes");
    const lane = laneOf(t[0]);
    if (t.some((e) => laneOf(e) !== lane)) refuse("lanes of different types");
    const k = key(t);
    const cached = this.bound.get(k) ?? this.p.bound.get(k);
    if (cached !== undefined) return this.reuse(cached);
    const self = this.seeds.self;
    if (self !== undefined) {
      if (t.every((e, i) => e.kind === "ref" && e.name === self.names[i])) return self.vector;
    }
    const keys = t.map(key);
    if (keys.every((x) => x === keys[0])) return this.uniform(t[0], lane, k);
    if (t.every((e) => e.kind === "ref" && this.p.lets.has(e.name))) {
      const values = t.map((e) => {
        const def = this.p.lets.get((e as { name: string }).name);
        if (def === undefined) throw new Error("superword: followed let vanished");
        this.from = Math.min(this.from, def.pos);
        return def.value;
      });
      return this.pack(values);
    }
    if (t.every((e, i) => e.kind === "extract" && e.lane === i && key(e.arg) === key((t[0] as { arg: SimdExpr }).arg))) {
      const arg = (t[0] as { arg: SimdExpr }).arg;
      if (arg.kind !== "ref") refuse("lanes of a computed vector");
      return arg;
    }
    const vtype = vectorOf(lane);
    if (t.every((e) => e.kind === "const")) return { kind: "lanes", type: vtype, args: [t[0], t[1], t[2], t[3]] };
    const pairs = t.map(pairDot);
    if (pairs.every((x) => x !== null)) {
      const ps = pairs as { a: SimdExpr; b: SimdExpr }[];
      return this.bind(k, { kind: "dot", type: "i32x4", a: this.pack(ps.map((x) => x.a)), b: this.pack(ps.map((x) => x.b)) });
    }
    const head = t[0];
    if (t.some((e) => e.kind !== head.kind)) refuse("different kinds of expressions");
    switch (head.kind) {
      case "unary": {
        const ops = t as readonly (SimdExpr & { kind: "unary" })[];
        if (ops.some((e) => e.op !== head.op)) refuse("different unary ops");
        if (!unaryHasVectorForm(head.op, lane)) refuse(`${lane} ${head.op} has no 4-lane form here`);
        return this.bind(k, { kind: "unary", op: head.op, type: vtype, arg: this.pack(ops.map((e) => e.arg)) });
      }
      case "binary": {
        const ops = t as readonly (SimdExpr & { kind: "binary" })[];
        if (ops.some((e) => e.op !== head.op)) refuse("different binary ops");
        if (!binaryHasVectorForm(head.op, lane)) refuse(`${lane} ${head.op} has no 4-lane form here`);
        const a = this.pack(ops.map((e) => e.a));
        if (head.op === "shl" || head.op === "shr") {
          const counts = ops.map((e) => key(e.b));
          if (counts.some((c) => c !== counts[0])) refuse("a per-lane shift count");
          this.readsOf(head.b);
          return this.bind(k, { kind: "binary", op: head.op, type: vtype, a, b: { kind: "splat", type: vectorOf(laneOf(head.b)), arg: head.b } });
        }
        return this.bind(k, { kind: "binary", op: head.op, type: vtype, a, b: this.pack(ops.map((e) => e.b)) });
      }
      case "compare": {
        const ops = t as readonly (SimdExpr & { kind: "compare" })[];
        if (ops.some((e) => e.op !== head.op || e.type !== head.type)) refuse("different comparisons");
        if (isVector(head.type) || head.type === "f64") refuse(`${head.type} comparison`);
        return this.bind(k, { kind: "compare", op: head.op, type: vectorOf(head.type as ScalarType), a: this.pack(ops.map((e) => e.a)), b: this.pack(ops.map((e) => e.b)) });
      }
      case "select": {
        const ops = t as readonly (SimdExpr & { kind: "select" })[];
        return this.bind(k, { kind: "select", type: vtype, cond: this.pack(ops.map((e) => e.cond)), then: this.pack(ops.map((e) => e.then)), else: this.pack(ops.map((e) => e.else)) });
      }
      case "convert": {
        const ops = t as readonly (SimdExpr & { kind: "convert" })[];
        if (ops.some((e) => e.op !== head.op)) refuse("different conversions");
        if (head.op.includes("f64")) refuse("f64 conversion");
        return this.bind(k, { kind: "convert", op: head.op, type: vtype, arg: this.pack(ops.map((e) => e.arg)) });
      }
      case "load":
        return this.bind(k, this.loads(t as readonly (SimdExpr & { kind: "load" })[], vtype));
      case "lookup": {
        const ops = t as readonly (SimdExpr & { kind: "lookup" })[];
        if (ops.some((e) => e.table !== head.table)) refuse("lookups in different tables");
        ops.forEach((e) => this.readsOf(e.index));
        return this.bind(k, { kind: "lanes", type: vtype, args: [ops[0], ops[1], ops[2], ops[3]] });
      }
      default:
        return refuse(`a ${head.kind} node`);
    }
  }

  /** One scalar for every lane, evaluated where the group lands. */
  private uniform(e: SimdExpr, lane: ScalarType, k: string): SimdExpr {
    const vtype = vectorOf(lane);
    if (e.kind === "const") return { kind: "splat", type: vtype, arg: e };
    const self = this.seeds.self;
    if (self !== undefined) walk(e, (x) => {
      if (x.kind === "ref" && self.names.includes(x.name)) refuse("an accumulator read as a scalar");
    });
    const def = e.kind === "ref" ? this.p.lets.get(e.name) : undefined;
    // A let bound to a 4-byte load becomes a load-and-splat (v128.load32_splat).
    const arg = def !== undefined && def.value.kind === "load" ? def.value : e;
    if (arg !== e && def !== undefined) this.from = Math.min(this.from, def.pos);
    this.readsOf(arg);
    return this.bind(k, { kind: "splat", type: vtype, arg });
  }

  private loads(t: readonly (SimdExpr & { kind: "load" })[], vtype: VectorType): SimdExpr {
    const head = t[0];
    if (t.some((e) => e.buffer !== head.buffer || e.type !== head.type)) refuse("loads from different buffers");
    const norms = t.map((e) => this.normalize(e.index));
    const consecutive = norms.every((n, i) => n.base === norms[0].base && n.offset === norms[0].offset + i);
    const store = this.seeds.store;
    if (store !== undefined && head.buffer === store.buffer) {
      // A read of the stored buffer must be each lane's own element (read-modify-write).
      if (!(consecutive && norms[0].base === store.base && norms[0].offset === store.offset)) refuse("a read of the stored buffer at other elements");
    }
    if (consecutive) {
      this.readsOf(head.index);
      this.buffers.add(head.buffer);
      return { kind: "load", type: vtype, buffer: head.buffer, index: head.index };
    }
    if (!this.seeds.gather) refuse("loads of non-consecutive elements");
    t.forEach((e) => this.readsOf(e));
    return { kind: "lanes", type: vtype, args: [t[0], t[1], t[2], t[3]] };
  }

  /** An index as (base, constant offset), lets of the block followed. */
  normalize(index: SimdExpr): { base: string; offset: number } {
    const expand = (e: SimdExpr): SimdExpr =>
      substitute(e, (name) => {
        const def = this.p.lets.get(name);
        if (def === undefined) return undefined;
        this.from = Math.min(this.from, def.pos);
        return expand(def.value);
      });
    let e = expand(index);
    this.readsOf(e);
    let offset = 0;
    for (;;) {
      if (e.kind === "binary" && e.op === "add" && e.type === "i32" && e.b.kind === "const") {
        offset += e.b.value;
        e = e.a;
      } else if (e.kind === "binary" && e.op === "add" && e.type === "i32" && e.a.kind === "const") {
        offset += e.a.value;
        e = e.b;
      } else if (e.kind === "binary" && e.op === "sub" && e.type === "i32" && e.b.kind === "const") {
        offset -= e.b.value;
        e = e.a;
      } else break;
    }
    return { base: key(e), offset };
  }

  /** Records the locals and buffers `e` reads (it is evaluated where the group lands). */
  private readsOf(e: SimdExpr): void {
    walk(e, (x) => {
      if (x.kind === "ref" && this.p.facts.vars.has(x.name)) this.vars.add(x.name);
      if (x.kind === "load") {
        this.buffers.add(x.buffer);
        if (this.seeds.store !== undefined && x.buffer === this.seeds.store.buffer) refuse("a scalar read of the stored buffer");
      }
    });
  }

  /** A vector let bound by an earlier group: what it read must not change up to this group. */
  private reuse(b: Bound): SimdExpr {
    this.reused.push(b);
    return b.value;
  }

  /** Binds a vector value to a fresh let emitted before the group's statement. */
  bind(k: string, value: SimdExpr): SimdExpr {
    const name = this.p.facts.fresh("sw");
    this.emitted.push({ kind: "let", name, value });
    const r = ref(simdTypeOf(value), name);
    this.bound.set(k, { value: r, from: this.from, vars: new Set(this.vars), buffers: new Set(this.buffers) });
    return r;
  }

  /**
   * Checks that the group may run where its last statement ran (see the checks below), then
   * places `stmt` there, after the vector lets it needs, and removes the four seeds.
   */
  commit(stmt: SimdStmt): void {
    const { positions, self, store } = this.seeds;
    const seeds = new Set(positions);
    const own = new Set(self?.names ?? []);
    // The statements between: the block's own (those of committed groups now run at their
    // group's anchor, so they are checked there, among the statements placed before it).
    const between = (from: number): [number, SimdStmt][] => {
      const list: [number, SimdStmt][] = [];
      for (let pos = from; pos <= this.anchor; pos++) {
        for (const st of this.p.before.get(pos) ?? []) list.push([pos, st]);
        if (!seeds.has(pos) && this.p.replaced.get(pos) !== null) list.push([pos, this.p.block[pos]]);
      }
      return list;
    };
    for (const b of this.reused) {
      for (const [, st] of between(b.from)) {
        if (st.kind === "for" || st.kind === "if") refuse("control flow between the grouped statements");
        if (st.kind === "assign" && b.vars.has(st.name)) refuse(`${st.name} is assigned between the grouped statements`);
        if (st.kind === "store" && b.buffers.has(st.buffer)) refuse(`a store to ${st.buffer} between the grouped statements`);
      }
    }
    for (const [pos, st] of between(this.from)) {
      switch (st.kind) {
        case "let":
        case "var":
          if (pos > positions[0] && store !== undefined && readsBuffer(exprsOf(st), store.buffer)) refuse("a read of the stored buffer between the stores");
          if (pos > positions[0] && own.size > 0 && readsAny(st, own)) refuse("an accumulator read between its updates");
          break;
        case "assign":
          if (this.vars.has(st.name) || own.has(st.name)) refuse(`${st.name} is assigned between the grouped statements`);
          if (pos > positions[0] && own.size > 0 && readsAny(st, own)) refuse("an accumulator read between its updates");
          break;
        case "store":
          // Reads the group moves later must not see this store; the group's own stores must not move past another store to their buffer.
          if (this.buffers.has(st.buffer) || (pos > positions[0] && st.buffer === store?.buffer)) refuse(`a store to ${st.buffer} between the grouped statements`);
          if (pos > positions[0] && store !== undefined && readsBuffer(exprsOf(st), store.buffer)) refuse("a read of the stored buffer between the stores");
          break;
        case "for":
        case "if":
          refuse("control flow between the grouped statements");
      }
    }
    // Commit: reuse of lets bound earlier is valid from their own position on.
    for (const [k, b] of this.bound) this.p.bound.set(k, b);
    const at = this.p.before.get(this.anchor) ?? [];
    at.push(...this.emitted, stmt);
    this.p.before.set(this.anchor, at);
    for (const pos of positions) this.p.replaced.set(pos, null);
    this.p.packed++;
  }
}

/** x and y when e is lo(x)·lo(y) + hi(x)·hi(y) on i32 (16-bit halves: (v << 16) >> 16 and v >> 16), else null. */
function pairDot(e: SimdExpr): { a: SimdExpr; b: SimdExpr } | null {
  const isConst = (x: SimdExpr, v: number) => x.kind === "const" && x.type === "i32" && x.value === v;
  const hi = (x: SimdExpr) => (x.kind === "binary" && x.op === "shr" && x.type === "i32" && isConst(x.b, 16) ? x.a : null);
  const lo = (x: SimdExpr) => {
    const inner = hi(x);
    return inner !== null && inner.kind === "binary" && inner.op === "shl" && isConst(inner.b, 16) ? inner.a : null;
  };
  if (e.kind !== "binary" || e.op !== "add" || e.type !== "i32") return null;
  const [p, q] = [e.a, e.b];
  if (p.kind !== "binary" || p.op !== "mul" || q.kind !== "binary" || q.op !== "mul") return null;
  const [la, lb, ha, hb] = [lo(p.a), lo(p.b), hi(q.a), hi(q.b)];
  if (la === null || lb === null || ha === null || hb === null) return null;
  return key(la) === key(ha) && key(lb) === key(hb) ? { a: la, b: lb } : null;
}

function readsBuffer(exprs: readonly SimdExpr[], buffer: string): boolean {
  let found = false;
  for (const e of exprs) walk(e, (x) => {
    if (x.kind === "load" && x.buffer === buffer) found = true;
  });
  return found;
}

function unaryHasVectorForm(op: string, lane: ScalarType): boolean {
  if (lane === "f32") return op === "neg" || op === "abs" || op === "floor" || op === "trunc" || op === "roundEven" || op === "sqrt";
  if (lane === "bool") return op === "not";
  return op === "neg" || op === "abs" || op === "not";
}

function binaryHasVectorForm(op: string, lane: ScalarType): boolean {
  if (lane === "f32") return op === "add" || op === "sub" || op === "mul" || op === "div" || op === "min" || op === "max";
  if (lane === "bool") return op === "and" || op === "or" || op === "xor";
  return op !== "div";
}
