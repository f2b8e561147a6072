/**
 * The wasm target's store-widening pass, an IR → IR pass on the SIMD IR after vectorize (and
 * superword): a 4-lane loop (step 4) that stores narrow codes — u8/i8 or u16 elements, 4 per
 * iteration at exactly the loop index — is unrolled by 4, and each narrow buffer's 4 stored
 * vectors become one 16-byte narrowStore (two for 16-bit codes) at the end of the unrolled body,
 * instead of a shuffle and a 4- or 8-byte lane store per iteration. A
 * 4-lane loop takes the last 0–3 iterations, as before. Copy k runs what iteration j + 4k ran,
 * in order (its lets renamed, the loop index read as j + 4k, so a load there folds into the
 * memory operand's offset and a stochastic draw sees its own element's counter), so
 * accumulators and other stores see exactly what they saw; only the narrow stores move later,
 * which is safe because nothing in the loop reads those buffers except at the loop index
 * (elements j … j+3 of its own iteration) — loops that do otherwise, hold control flow, or store
 * a narrow buffer twice are left as they are. The narrowing instructions (i16x8.narrow_i32x4,
 * then i8x16.narrow_i16x8) saturate, so they equal the truncating store only on lanes in range:
 * a small bound analysis proves [0, 2^bits) for the codes the encodes compute (a mask, a select
 * of bounded codes, an unsigned clamp, a sign bit shifted into place …) and the unsigned forms
 * are used; lanes in the signed range (a signed clamp to it, as a conversion-based integer encode
 * writes, also under a mask to the store's width) take the signed forms, which clamp by
 * themselves, so that clamp is dropped — and with it a float clamp at least as wide before the
 * (saturating) conversion, which wasm's f32x4.min and max make costly; lanes it cannot bound are
 * masked first (one v128.and). The output is bit-identical either way.
 */
import type { StorageType, Table } from "../../codegen/ir/nodes.ts";
import { intBits } from "./literals.ts";
import { isVector, simdTypeOf, storageBytes, type Narrowing, type SimdExpr, type SimdKernel, type SimdModule, type SimdStmt } from "./simd-ir.ts";
import { constantOf, deadLets, forEachStmt, singleLets, substitute, walk } from "./simd-walk.ts";

const LANES = 4;
/** 4-lane iterations per unrolled iteration. */
const UNROLL = 4;
/** Largest i32 lane value that is still non-negative when read as signed. */
const MAX_SIGNED = 0x7fffffff;

/** What the pass did with one widened loop. */
export interface WidenReport {
  readonly kernel: string;
  /** The 4-lane loop's index. */
  readonly index: string;
  /** Iterations of the 4-lane loop per unrolled iteration. */
  readonly unroll: number;
  /** Narrow buffers now written 16 bytes at a time. */
  readonly buffers: readonly string[];
  /** Each narrowStore's narrowing, in order: "masked" where no range was proven. */
  readonly narrowings: readonly Narrowing[];
}

export interface WidenedModule {
  readonly module: SimdModule;
  readonly reports: readonly WidenReport[];
}

type Loop = SimdStmt & { kind: "for" };

const ref = (type: SimdExpr["type"], name: string): SimdExpr => ({ kind: "ref", type, name });
const i32 = (value: number): SimdExpr => ({ kind: "const", type: "i32", value });
const add = (a: SimdExpr, b: SimdExpr): SimdExpr => ({ kind: "binary", op: "add", type: "i32", a, b });

/** Every name the kernel binds (parameters, lets, vars, loop indices). */
function boundNames(kernel: SimdKernel): Set<string> {
  const names = new Set(kernel.params.map((p) => p.name));
  forEachStmt(kernel.body, (st) => {
    if (st.kind === "let" || st.kind === "var") names.add(st.name);
    else if (st.kind === "for") names.add(st.index);
  });
  return names;
}

/** Everything a kernel's loops are checked and rewritten against. */
class KernelWidener {
  readonly reports: WidenReport[] = [];
  private readonly taken: Set<string>;
  private readonly storage = new Map<string, StorageType>();
  private readonly tables = new Map<string, Table>();
  private readonly lets: Map<string, SimdExpr>;
  /** Mutable locals (loop indices change only between iterations). */
  private readonly vars = new Set<string>();

  constructor(private readonly kernel: SimdKernel) {
    this.taken = boundNames(kernel);
    for (const p of kernel.params) if (p.kind === "buffer") this.storage.set(p.name, p.storage);
    for (const t of kernel.tables) this.tables.set(t.name, t);
    this.lets = singleLets(kernel.body);
    forEachStmt(kernel.body, (st) => {
      if (st.kind === "var") this.vars.add(st.name);
    });
  }

  private fresh(hint: string): string {
    let name = hint;
    for (let k = 2; this.taken.has(name); k++) name = `${hint}_${k}`;
    this.taken.add(name);
    return name;
  }

  private bytes(buffer: string): number {
    const s = this.storage.get(buffer);
    return s === undefined ? 4 : storageBytes(s);
  }

  block(stmts: readonly SimdStmt[]): SimdStmt[] {
    return stmts.flatMap((st): SimdStmt[] => {
      if (st.kind === "if") return [{ ...st, then: this.block(st.then), else: this.block(st.else) }];
      if (st.kind !== "for") return [st];
      const narrow = this.narrowBuffers(st);
      return narrow === null ? [{ ...st, body: this.block(st.body) }] : this.widen(st, narrow);
    });
  }

  /** The narrow buffers a loop stores 4 elements at a time, in store order, or null when the loop is not widened. */
  private narrowBuffers(loop: Loop): string[] | null {
    if (loop.step !== LANES) return null;
    const atIndex = (e: SimdExpr) => e.kind === "ref" && e.name === loop.index;
    const narrow: string[] = [];
    for (const st of loop.body) {
      if (st.kind !== "let" && st.kind !== "assign" && st.kind !== "store") return null;
      if (st.kind !== "store" || this.bytes(st.buffer) === 4) continue;
      const type = simdTypeOf(st.value);
      if (!isVector(type) || !atIndex(st.index) || narrow.includes(st.buffer)) return null;
      narrow.push(st.buffer);
    }
    if (narrow.length === 0) return null;
    // Narrow buffers are read only as 4 elements at the loop index (vector loads): the
    // iteration's own elements, which no other iteration's deferred store writes.
    let safe = true;
    for (const st of loop.body) {
      const exprs = st.kind === "store" ? [st.index, st.value] : st.kind === "let" || st.kind === "assign" ? [st.value] : [];
      for (const e of exprs)
        walk(e, (x) => {
          if (x.kind === "load" && this.bytes(x.buffer) < 4 && !(isVector(x.type) && atIndex(x.index))) safe = false;
        });
    }
    return safe ? narrow : null;
  }

  /** The unrolled loop with 16-byte stores, then the 4-lane loop for what is left. */
  private widen(loop: Loop, narrow: readonly string[]): SimdStmt[] {
    // 4 iterations: one 16-byte store per 8-bit buffer, two per 16-bit one (unrolling 16-bit
    // loops by 4 rather than 2 measured 5–10% faster; 8-bit loops by 8 no faster).
    const unroll = UNROLL;
    const pre: SimdStmt[] = [];
    const bind = (hint: string, e: SimdExpr): SimdExpr => {
      if (e.kind === "ref" || e.kind === "const") return e;
      const name = this.fresh(`${loop.index}_${hint}`);
      pre.push({ kind: "let", name, value: e });
      return ref("i32", name);
    };
    const from = bind("from", loop.from);
    const to = bind("to", loop.to);
    // from + (max(to − from, 0) rounded down to a multiple of unroll·4): every unrolled
    // iteration j runs j … j + 4·(unroll − 1), all below `to`.
    const span = unroll * LANES;
    const count: SimdExpr = { kind: "binary", op: "max", type: "i32", a: { kind: "binary", op: "sub", type: "i32", a: to, b: from }, b: i32(0) };
    const end = this.fresh(`${loop.index}_wide_end`);
    pre.push({ kind: "let", name: end, value: add(from, { kind: "binary", op: "and", type: "i32", a: count, b: i32(-span) }) });

    const body: SimdStmt[] = [];
    const stored = new Map<string, SimdExpr[]>(narrow.map((b) => [b, []]));
    const j = ref("i32", loop.index);
    for (let k = 0; k < unroll; k++) {
      const renamed = new Map<string, SimdExpr>();
      const rewrite = (e: SimdExpr) => substitute(e, (name) => (name === loop.index ? (k === 0 ? j : add(j, i32(k * LANES))) : renamed.get(name)));
      for (const st of loop.body) {
        if (st.kind === "let") {
          const value = rewrite(st.value);
          const name = this.fresh(`${st.name}_u${k}`);
          renamed.set(st.name, ref(simdTypeOf(value), name));
          this.lets.set(name, value);
          body.push({ kind: "let", name, value });
        } else if (st.kind === "store" && stored.has(st.buffer)) {
          // Evaluated here, where the iteration stored it; stored with the others at the end.
          const value = rewrite(st.value);
          const immutable = value.kind === "ref" && this.lets.has(value.name);
          const name = immutable ? "" : this.fresh(`${st.buffer}_u${k}`);
          if (!immutable) {
            body.push({ kind: "let", name, value });
            this.lets.set(name, value);
          }
          stored.get(st.buffer)?.push(immutable ? value : ref(simdTypeOf(value), name));
        } else if (st.kind === "store") body.push({ ...st, index: rewrite(st.index), value: rewrite(st.value) });
        else if (st.kind === "assign") body.push({ ...st, value: rewrite(st.value) });
      }
    }
    const narrowings: Narrowing[] = [];
    for (const [buffer, values] of stored) {
      const bits = 8 * this.bytes(buffer);
      const perStore = 16 / this.bytes(buffer) / LANES;
      for (let m = 0; m < values.length; m += perStore) {
        const group = values.slice(m, m + perStore);
        const split = this.signSplit(group, bits);
        if (split !== null) {
          narrowings.push("unsigned");
          body.push({ kind: "narrowStore", buffer, index: m === 0 ? j : add(j, i32(m * LANES)), values: split.magnitudes, narrowing: "unsigned", signs: split.signs });
          continue;
        }
        // A signed value masked to the store's width keeps the masked value's low bits: narrow it instead.
        const unmasked = group.map((v) => this.maskedSource(v, bits));
        const signedUnderMask = unmasked.every((u) => u !== null) && this.narrowingOf(unmasked as SimdExpr[], bits) === "signed";
        const sources = signedUnderMask ? (unmasked as SimdExpr[]) : group;
        const narrowing = signedUnderMask ? "signed" : this.narrowingOf(group, bits);
        narrowings.push(narrowing);
        const stored = narrowing === "signed" ? sources.map((v) => this.readsNoVar(this.unclamped(v, bits)) ?? v) : sources;
        body.push({ kind: "narrowStore", buffer, index: m === 0 ? j : add(j, i32(m * LANES)), values: stored, narrowing });
      }
    }
    this.reports.push({ kernel: this.kernel.name, index: loop.index, unroll, buffers: narrow, narrowings });
    // Lets only a stripped clamp read are left unread (the iteration's lets are its own).
    body.splice(0, body.length, ...deadLets(body));
    return [
      ...pre,
      { kind: "for", index: loop.index, from, to: ref("i32", end), step: span, body },
      { ...loop, from: ref("i32", end), to },
    ];
  }

  /**
   * A float code with x's sign bit or'ed in, split for the store: where every stored value is
   * m | ((s >>> 31) << (bits − 1)) (through lets, either order) with m proven in [0, 2^(bits−1)),
   * the magnitudes m are narrowed unsigned and the store takes each element's top bit from s's
   * sign by the signed narrowing (renderNarrowStore): three narrowings, an and and an or per 16
   * bytes, where the shift pair and the or cost three instructions per vector — and s (x's bits,
   * loaded anyway) replaces a sign value held across the iteration. Else null.
   */
  private signSplit(values: readonly SimdExpr[], bits: number): { magnitudes: SimdExpr[]; signs: SimdExpr[] } | null {
    const definition = (e: SimdExpr): SimdExpr => {
      for (let depth = 0; e.kind === "ref" && depth < 64; depth++) {
        const value = this.lets.get(e.name);
        if (value === undefined) return e;
        e = value;
      }
      return e;
    };
    const shifted = (e: SimdExpr, op: "shl" | "shr", count: number): SimdExpr | null => {
      const d = definition(e);
      return d.kind === "binary" && d.op === op && d.type === "u32x4" && constantOf(d.b, true) === count ? d.a : null;
    };
    const signOf = (e: SimdExpr): SimdExpr | null => {
      const bit = shifted(e, "shl", bits - 1);
      const source = bit === null ? null : shifted(bit, "shr", 31);
      return source === null ? null : this.readsNoVar(source);
    };
    const magnitudes: SimdExpr[] = [];
    const signs: SimdExpr[] = [];
    for (const v of values) {
      const d = definition(v);
      if (d.kind !== "binary" || d.op !== "or" || d.type !== "u32x4") return null;
      const signOfB = signOf(d.b);
      const [magnitude, sign] = signOfB !== null ? [d.a, signOfB] : [d.b, signOf(d.a)];
      if (sign === null || (this.bound(magnitude) ?? Infinity) > 2 ** (bits - 1) - 1 || this.readsNoVar(magnitude) === null) return null;
      magnitudes.push(magnitude);
      signs.push(sign);
    }
    return { magnitudes, signs };
  }

  /**
   * `e` when it reads no mutable local, else null: a stripped value is evaluated at the end of
   * the unrolled body, where a var may already hold a later value (lets and parameters do not change).
   */
  private readsNoVar(e: SimdExpr): SimdExpr | null {
    let mutable = false;
    walk(e, (x) => {
      if (x.kind === "ref" && this.vars.has(x.name)) mutable = true;
    });
    return mutable ? null : e;
  }

  /**
   * The exact narrowing for stored values of `bits` bits: "unsigned" when every lane is proven in
   * [0, 2^bits), "signed" when in the signed range (the saturating signed narrowing then keeps the
   * same low bits), else "masked".
   */
  private narrowingOf(values: readonly SimdExpr[], bits: number): Narrowing {
    if (values.every((v) => (this.bound(v) ?? Infinity) <= 2 ** bits - 1)) return "unsigned";
    const half = 2 ** (bits - 1);
    if (values.every((v) => { const [lo, hi] = this.range(v); return lo >= -half && hi <= half - 1; })) return "signed";
    return "masked";
  }

  /**
   * x where `e` is x & (2^bits − 1) (through lets): the bits a narrow store keeps, so x may be
   * narrowed in its place (an integer encode masks its two's complement code this way).
   */
  private maskedSource(e: SimdExpr, bits: number, depth = 0): SimdExpr | null {
    if (depth > 64) return null;
    if (e.kind === "ref") {
      const value = this.lets.get(e.name);
      return value === undefined ? null : this.maskedSource(value, bits, depth + 1);
    }
    if (e.kind !== "binary" || e.op !== "and") return null;
    const mask = 2 ** bits - 1;
    const x = constantOf(e.b, true) === mask ? e.a : constantOf(e.a, true) === mask ? e.b : null;
    // The same bits read as the other integer type.
    return x !== null && x.kind === "convert" && (x.op === "u32.fromI32" || x.op === "i32.fromU32") ? x.arg : x;
  }

  /**
   * The signed range [lo, hi] of an integer vector's lanes read as i32 (the whole i32 range when
   * nothing is known): signed minima and maxima (a clamp), selects, constants, and the unsigned
   * bound where there is one.
   */
  private range(e: SimdExpr, depth = 0): readonly [number, number] {
    const FULL = [-(2 ** 31), 2 ** 31 - 1] as const;
    if (depth > 64) return FULL;
    const r = (x: SimdExpr) => this.range(x, depth + 1);
    const c = constantOf(e, false);
    if (c !== null) return [c, c];
    if (e.kind === "ref") {
      const value = this.lets.get(e.name);
      return value === undefined ? FULL : r(value);
    }
    if (e.kind === "select") {
      const [t, f] = [r(e.then), r(e.else)];
      return [Math.min(t[0], f[0]), Math.max(t[1], f[1])];
    }
    if (e.kind === "convert" && (e.op === "i32.fromU32" || e.op === "u32.fromI32")) return r(e.arg);
    if (e.kind === "binary" && (e.op === "min" || e.op === "max") && (e.type === "i32" || e.type === "i32x4")) {
      const [a, b] = [r(e.a), r(e.b)];
      const pick = e.op === "min" ? Math.min : Math.max;
      return [pick(a[0], b[0]), pick(a[1], b[1])];
    }
    const bound = this.bound(e);
    return bound === null ? FULL : [0, bound];
  }

  /** The upper end of `e`'s signed range where its lower end is non-negative, else null. */
  private nonNegativeRange(e: SimdExpr): number | null {
    const [lo, hi] = this.range(e);
    return lo >= 0 && hi <= MAX_SIGNED ? hi : null;
  }

  /**
   * A value whose signed saturation to `bits` bits equals `e`'s: a clamp min(max(v, L), H) (or
   * max(min(v, H), L)) at least as wide as the signed range is dropped — the saturating narrowing
   * clamps v itself — through lets and the branches of selects; anything else is kept.
   */
  private unclamped(e: SimdExpr, bits: number, depth = 0): SimdExpr {
    if (depth > 64) return e;
    const u = (x: SimdExpr) => this.unclamped(x, bits, depth + 1);
    const half = 2 ** (bits - 1);
    if (e.kind === "ref") {
      const value = this.lets.get(e.name);
      if (value === undefined) return e;
      const stripped = u(value);
      return stripped === value ? e : stripped;
    }
    if (e.kind === "select") {
      const [t, f] = [u(e.then), u(e.else)];
      return t === e.then && f === e.else ? e : { ...e, then: t, else: f };
    }
    const signed = (x: SimdExpr, op: "min" | "max") => x.kind === "binary" && x.op === op && (x.type === "i32" || x.type === "i32x4") ? x : null;
    for (const [outerOp, innerOp] of [["min", "max"], ["max", "min"]] as const) {
      const outer = signed(e, outerOp);
      if (outer === null || outer.kind !== "binary") continue;
      const inner = signed(outer.a, innerOp);
      const outerC = constantOf(outer.b, false);
      if (inner === null || inner.kind !== "binary" || outerC === null) continue;
      const innerC = constantOf(inner.b, false);
      if (innerC === null) continue;
      const [low, high] = outerOp === "min" ? [innerC, outerC] : [outerC, innerC];
      if (low <= -half && high >= half - 1 && low <= high) return u(inner.a);
    }
    // trunc_sat(round(clamp(x, L, H))), L ≤ −2^(bits−1), H ≥ 2^(bits−1) − 1: saturating and
    // rounding are monotone, so clamping x first changes nothing the narrowing keeps (a NaN
    // stays NaN through the float clamp and converts to 0 either way). Float minima and maxima
    // cost several instructions each on x86, the conversion's saturation none.
    if (e.kind === "convert" && e.op === "i32.fromF32" && e.type === "i32x4") {
      const rounding = e.arg.kind === "unary" && (e.arg.op === "roundEven" || e.arg.op === "floor" || e.arg.op === "trunc") ? e.arg : null;
      const clamp = rounding === null ? e.arg : rounding.arg;
      const x = floatUnclamped(clamp, -half, half - 1);
      if (x !== null) return { ...e, arg: rounding === null ? x : { ...rounding, arg: x } };
    }
    return e;
  }

  /**
   * What a select's condition `n > C` (≥, <, ≤; n a let, C a constant) says of n in the branch
   * it picks: the else branch of n > C has n ≤ C. A signed comparison bounds n only from above,
   * so n's own bound must already say it is non-negative.
   */
  private narrowedBy(cond: SimdExpr, bound: (x: SimdExpr) => number | null): { name: string; branch: "then" | "else"; bound: number } | null {
    if (cond.kind !== "compare") return null;
    // The same bits read as the other integer type (the compare's type says signed or not).
    const n = cond.a.kind === "convert" && (cond.a.op === "i32.fromU32" || cond.a.op === "u32.fromI32") ? cond.a.arg : cond.a;
    if (n.kind !== "ref") return null;
    const type = cond.type;
    if (type !== "i32" && type !== "u32" && type !== "i32x4" && type !== "u32x4") return null;
    const unsigned = type === "u32" || type === "u32x4";
    const c = constantOf(cond.b, unsigned);
    if (c === null) return null;
    const picked = { gt: ["else", c], ge: ["else", c - 1], lt: ["then", c - 1], le: ["then", c], eq: null, ne: null }[cond.op];
    if (picked === null) return null;
    const [branch, limit] = picked as ["then" | "else", number];
    const own = bound(n);
    const upper = unsigned ? (own === null ? limit : Math.min(own, limit)) : own === null ? null : Math.min(own, Math.max(0, limit));
    return upper === null || upper < 0 || upper > MAX_SIGNED ? null : { name: n.name, branch, bound: upper };
  }

  /**
   * An upper bound b ≤ 2^31 − 1 with every lane of integer vector `e` in [0, b] (as a signed i32
   * too), or null when none is known. Looks through single-bound lets.
   */
  private bound(e: SimdExpr, facts: ReadonlyMap<string, number> = new Map(), depth = 0): number | null {
    if (depth > 64) return null;
    const b = (x: SimdExpr, within = facts) => this.bound(x, within, depth + 1);
    const constant = (x: SimdExpr): number | null => {
      if (x.kind !== "const" || (x.type !== "i32" && x.type !== "u32")) return null;
      const bits = intBits(x.type, x.value) >>> 0;
      return bits <= MAX_SIGNED ? bits : null;
    };
    const atMost = (n: number) => (n <= MAX_SIGNED ? n : null);
    const bitsBound = (n: number) => 2 ** Math.ceil(Math.log2(n + 1)) - 1;
    switch (e.kind) {
      case "ref": {
        const known = facts.get(e.name);
        if (known !== undefined) return known;
        const value = this.lets.get(e.name);
        return value === undefined ? null : b(value, new Map());
      }
      case "splat":
        return e.arg.kind === "const" ? constant(e.arg) : b(e.arg);
      case "const":
        return constant(e);
      case "lanes": {
        const bounds = e.args.map((a) => b(a));
        return bounds.every((x) => x !== null) ? Math.max(...(bounds as number[])) : null;
      }
      case "lookup": {
        const table = this.tables.get(e.table);
        if (table === undefined || table.storage === "f32") return null;
        const bits = table.values.map((v) => intBits(table.storage, v) >>> 0);
        return bits.every((x) => x <= MAX_SIGNED) ? Math.max(0, ...bits) : null;
      }
      case "convert":
        if (e.op === "u32.fromBool") return 1;
        return e.op === "u32.fromI32" || e.op === "i32.fromU32" ? b(e.arg) : null;
      case "select": {
        const narrowed = this.narrowedBy(e.cond, (x) => b(x));
        const within = (branch: "then" | "else") => (narrowed?.branch === branch ? new Map([...facts, [narrowed.name, narrowed.bound]]) : facts);
        const [t, f] = [b(e.then, within("then")), b(e.else, within("else"))];
        return t !== null && f !== null ? Math.max(t, f) : null;
      }
      case "binary": {
        const lane = isVector(e.type) ? e.type : null;
        if (lane === "f32x4" || e.type === "f32" || e.type === "f64" || lane === "boolx4" || e.type === "bool") return null;
        const unsigned = e.type === "u32" || e.type === "u32x4";
        switch (e.op) {
          case "and": {
            const [x, y] = [b(e.a), b(e.b)];
            return x === null ? y : y === null ? x : Math.min(x, y);
          }
          case "or":
          case "xor": {
            const [x, y] = [b(e.a), b(e.b)];
            return x !== null && y !== null ? bitsBound(Math.max(x, y)) : null;
          }
          case "add": {
            const [x, y] = [b(e.a), b(e.b)];
            return x !== null && y !== null ? atMost(x + y) : null;
          }
          case "min": {
            const [x, y] = [b(e.a), b(e.b)];
            // Unsigned: the minimum is at most either operand. Signed: both must be non-negative,
            // or the signed range says so (a clamp max(min(v, H), 0) of an unbounded v: E8M0's code).
            if (unsigned) return x === null ? y : y === null ? x : Math.min(x, y);
            return x !== null && y !== null ? Math.min(x, y) : this.nonNegativeRange(e);
          }
          case "max": {
            const [x, y] = [b(e.a), b(e.b)];
            return x !== null && y !== null ? Math.max(x, y) : unsigned ? null : this.nonNegativeRange(e);
          }
          case "shr":
          case "shl": {
            const countExpr = e.b.kind === "splat" ? e.b.arg : e.b;
            const count = constant(countExpr);
            if (count === null) return null;
            const c = count & 31;
            const x = b(e.a);
            if (e.op === "shl") return x === null ? null : atMost(x * 2 ** c);
            if (x !== null) return Math.floor(x / 2 ** c);
            // A logical shift by c ≥ 1 leaves at most 32 − c bits.
            return unsigned && c >= 1 ? 2 ** (32 - c) - 1 : null;
          }
          default:
            return null;
        }
      }
      default:
        return null;
    }
  }
}

/** The constant of an f32 splat (or f32 constant), or null. */
function floatConstantOf(e: SimdExpr): number | null {
  const c = e.kind === "splat" ? e.arg : e;
  return c.kind === "const" && c.type === "f32" ? c.value : null;
}

/** x of an f32x4 clamp min(max(x, L), H) or max(min(x, H), L) with L ≤ low and H ≥ high, else null. */
function floatUnclamped(e: SimdExpr, low: number, high: number): SimdExpr | null {
  const float = (x: SimdExpr, op: "min" | "max") => (x.kind === "binary" && x.op === op && x.type === "f32x4" ? x : null);
  for (const [outerOp, innerOp] of [["min", "max"], ["max", "min"]] as const) {
    const outer = float(e, outerOp);
    if (outer === null || outer.kind !== "binary") continue;
    const inner = float(outer.a, innerOp);
    if (inner === null || inner.kind !== "binary") continue;
    const [outerC, innerC] = [floatConstantOf(outer.b), floatConstantOf(inner.b)];
    if (outerC === null || innerC === null) continue;
    const [l, h] = outerOp === "min" ? [innerC, outerC] : [outerC, innerC];
    if (l <= low && h >= high && l <= h) return inner.a;
  }
  return null;
}

/** Widens the narrow stores of every eligible 4-lane loop of a kernel. */
export function widenStoresKernel(kernel: SimdKernel): { readonly kernel: SimdKernel; readonly reports: readonly WidenReport[] } {
  const widener = new KernelWidener(kernel);
  const body = widener.block(kernel.body);
  return { kernel: { ...kernel, body }, reports: widener.reports };
}

/** Widens the narrow stores of every kernel of a module. */
export function widenStoresModule(module: SimdModule): WidenedModule {
  const results = module.kernels.map(widenStoresKernel);
  return { module: { kernels: results.map((r) => r.kernel) }, reports: results.flatMap((r) => r.reports) };
}
