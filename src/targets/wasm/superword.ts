/**
 * The wasm target's superword pass (SLP vectorization, Larsen & Amarasinghe 2000), an IR → IR
 * pass over straight-line code: four isomorphic scalar statements become one 4-lane statement
 * when every leaf of their values is one value for all lanes (a splat), four consecutive elements
 * of one buffer (a vector load), four table lookups or — where allowed — four scattered loads (a
 * gather), or the statements' own accumulators. Two kinds of seeds:
 * - accumulators: four mutable locals declared before a loop and each updated once in its
 *   straight-line body (a row of a GEMM register tile: acc += a·b) become one f32x4/i32x4
 *   local; after the loop, reads of them take their lane;
 * - stores: four stores to consecutive elements of one buffer (packing a GEMM panel, merging a
 *   tile into C) become one vector store.
 * Four products of packed 16-bit pairs, lo(x)·lo(y) + hi(x)·hi(y), become i32x4.dot_i16x8_s (the
 * integer GEMM's pair layout, see lower/gemm/panels.ts).
 * Lane k computes exactly what statement k computed (every op used is lane-wise in nodes.ts), so
 * results are bit-identical, except under `relaxedMadd`: an f32 accumulator update acc + a·b
 * becomes f32x4.relaxed_madd, which the engine may fuse (one rounding instead of two).
 *
 * The combined statement runs where the last of the four ran, so a group is refused when a
 * statement in between writes something its values read (a local or a buffer), holds control
 * flow, or reads the accumulators or the stored buffer; and an accumulator group when any other
 * statement of the loop reads its locals. Refused groups, and anything else (clz, a per-lane shift
 * count, f64, vector IR already there), stay scalar; the report counts what was packed.
 */
import type { ScalarType } from "../../codegen/ir/nodes.ts";
import { isVector, simdTypeOf, vectorOf, type SimdExpr, type SimdKernel, type SimdModule, type SimdStmt } from "./simd-ir.ts";
import { Attempt, BlockPacker, key, KernelFacts, LANES, ref, Refused, type Tuple } from "./superword-group.ts";
import { deadLets, readsAny, substituteStmts } from "./simd-walk.ts";

export interface SuperwordOptions {
  /** Fuse f32 accumulator updates into f32x4.relaxed_madd (only for engines with relaxed SIMD). */
  readonly relaxedMadd?: boolean;
}

/** What the pass packed in one kernel. */
export interface SuperwordReport {
  readonly kernel: string;
  /** Accumulator groups (4 locals → one vector local each). */
  readonly accumulators: number;
  /** Store groups (4 stores → one vector store each). */
  readonly stores: number;
  /** Accumulator groups updated with relaxed_madd. */
  readonly fused: number;
}

/** Whether a block is straight-line (no loops or branches). */
const straight = (stmts: readonly SimdStmt[]) => stmts.every((s) => s.kind !== "for" && s.kind !== "if");

/** Packs the kernel's accumulator and store groups. */
class KernelPass {
  accumulators = 0;
  stores = 0;
  fused = 0;

  constructor(
    readonly facts: KernelFacts,
    readonly options: SuperwordOptions,
  ) {}

  block(stmts: readonly SimdStmt[]): SimdStmt[] {
    let out = this.accumulatorGroups(stmts);
    out = out.map((st): SimdStmt => {
      if (st.kind === "for") return { ...st, body: this.block(st.body) };
      if (st.kind === "if") return { ...st, then: this.block(st.then), else: this.block(st.else) };
      return st;
    });
    return this.storeGroups(out);
  }

  /** Accumulator groups of every straight-line loop in this block; their later reads take lanes. */
  private accumulatorGroups(stmts: readonly SimdStmt[]): SimdStmt[] {
    let out = [...stmts];
    for (let t = 0; t < out.length; t++) {
      const loop = out[t];
      if (loop.kind !== "for" || !straight(loop.body)) continue;
      const declared = new Map<string, number>();
      out.slice(0, t).forEach((st, pos) => {
        if (st.kind === "var" && (st.type === "f32" || st.type === "i32" || st.type === "u32")) declared.set(st.name, pos);
      });
      const candidates = loop.body.flatMap((st, pos) => (st.kind === "assign" && declared.has(st.name) && this.facts.assigns.get(st.name) === 1 ? [pos] : []));
      if (candidates.length < LANES) continue;
      const packer = new BlockPacker(loop.body, this.facts);
      const lanesOf = new Map<string, SimdExpr>();
      const vectorDecls = new Map<number, SimdStmt | null>();
      for (let c = 0; c + LANES <= candidates.length; ) {
        const positions = candidates.slice(c, c + LANES);
        const seeds = positions.map((pos) => loop.body[pos] as SimdStmt & { kind: "assign" });
        const names = seeds.map((s) => s.name);
        const decls = names.map((n) => out[declared.get(n) ?? -1] as SimdStmt & { kind: "var" });
        const done = this.tryAccumulators(packer, out, t, positions, seeds, decls);
        if (done === null) {
          c++;
          continue;
        }
        names.forEach((n, i) => lanesOf.set(n, { kind: "extract", type: decls[0].type as ScalarType, lane: i, arg: done.vector }));
        names.forEach((n, i) => vectorDecls.set(declared.get(n) ?? -1, i === 0 ? done.decl : null));
        c += LANES;
      }
      if (lanesOf.size === 0) continue;
      const body = deadLets(packer.result());
      const next: SimdStmt[] = [];
      out.forEach((st, pos) => {
        if (pos === t) next.push({ ...loop, body });
        else if (vectorDecls.has(pos)) {
          const d = vectorDecls.get(pos);
          if (d) next.push(d);
        } else next.push(pos > t ? substituteStmts([st], (name) => lanesOf.get(name))[0] : st);
      });
      t -= out.length - next.length; // the loop moved up by the removed declarations
      out = next;
    }
    return out;
  }

  private tryAccumulators(
    packer: BlockPacker,
    block: readonly SimdStmt[],
    loopAt: number,
    positions: readonly number[],
    seeds: readonly (SimdStmt & { kind: "assign" })[],
    decls: readonly (SimdStmt & { kind: "var" })[],
  ): { vector: SimdExpr; decl: SimdStmt } | null {
    const type = decls[0].type;
    if (decls.some((d) => d.type !== type || key(d.init) !== key(decls[0].init))) return null;
    if (new Set(seeds.map((s) => s.name)).size !== LANES) return null;
    const names = new Set(seeds.map((s) => s.name));
    const loop = block[loopAt] as SimdStmt & { kind: "for" };
    // Between the declarations and the loop, and in the loop outside the seeds, nothing reads them.
    const firstDecl = Math.min(...decls.map((d) => block.indexOf(d)));
    for (let pos = firstDecl; pos < loopAt; pos++) if (block[pos].kind !== "var" && readsAny(block[pos], names)) return null;
    if (readsAny({ ...loop, body: [] }, names)) return null;
    const seedSet = new Set(positions);
    if (loop.body.some((st, pos) => !seedSet.has(pos) && packer.replaced.get(pos) !== null && readsAny(st, names))) return null;
    const vtype = vectorOf(type as ScalarType);
    const vector = ref(vtype, this.facts.fresh("acc_x4"));
    const attempt = new Attempt(packer, { positions, self: { names: seeds.map((s) => s.name), vector }, gather: false });
    try {
      const values = seeds.map((s) => s.value);
      const value = this.options.relaxedMadd && type === "f32" ? this.fusedUpdate(attempt, values, vector) : null;
      attempt.commit({ kind: "assign", name: (vector as { name: string }).name, value: value ?? attempt.pack(values) });
      this.accumulators++;
      if (value !== null) this.fused++;
    } catch (error) {
      if (error instanceof Refused) return null;
      throw error;
    }
    const init = decls[0].init;
    return { vector, decl: { kind: "var", name: (vector as { name: string }).name, type: vtype, init: { kind: "splat", type: vtype, arg: init } } };
  }

  /**
   * acc + a·b in every lane → relaxed_madd(a, b, acc), and a chain (acc + a·b) + c·d of them →
   * relaxed_madd(c, d, relaxed_madd(a, b, acc)); null when the values are not of that shape.
   */
  private fusedUpdate(attempt: Attempt, values: Tuple, acc: SimdExpr): SimdExpr | null {
    const self = attempt.seeds.self?.names ?? [];
    if (values.every((v, i) => v.kind === "ref" && v.name === self[i])) return acc;
    const split = values.map((v) => {
      if (v.kind !== "binary" || v.op !== "add") return null;
      return v.b.kind === "binary" && v.b.op === "mul" ? { rest: v.a, product: v.b } : null;
    });
    if (split.some((s) => s === null)) return null;
    const parts = split as { rest: SimdExpr; product: SimdExpr & { kind: "binary" } }[];
    const inner = this.fusedUpdate(attempt, parts.map((s) => s.rest), acc);
    if (inner === null) return null;
    return this.bindMadd(attempt, { kind: "madd", type: "f32x4", a: attempt.pack(parts.map((s) => s.product.a)), b: attempt.pack(parts.map((s) => s.product.b)), c: inner });
  }

  private bindMadd(attempt: Attempt, value: SimdExpr): SimdExpr {
    return attempt.bind(key(["madd", value]), value);
  }

  /** Store groups of this block: 4 consecutive stores to consecutive elements of one buffer. */
  private storeGroups(stmts: readonly SimdStmt[]): SimdStmt[] {
    const candidates = stmts.flatMap((st, pos) => (st.kind === "store" && !isVector(simdTypeOf(st.value)) ? [pos] : []));
    if (candidates.length < LANES) return [...stmts];
    const packer = new BlockPacker(stmts, this.facts);
    for (let c = 0; c + LANES <= candidates.length; ) {
      const positions = candidates.slice(c, c + LANES);
      c += this.tryStores(packer, positions) ? LANES : 1;
    }
    return packer.packed > 0 ? deadLets(packer.result()) : [...stmts];
  }

  private tryStores(packer: BlockPacker, positions: readonly number[]): boolean {
    const seeds = positions.map((pos) => packer.block[pos] as SimdStmt & { kind: "store" });
    if (seeds.some((s) => s.buffer !== seeds[0].buffer)) return false;
    try {
      const probe = new Attempt(packer, { positions, gather: true });
      const norms = seeds.map((s) => probe.normalize(s.index));
      if (!norms.every((n, i) => n.base === norms[0].base && n.offset === norms[0].offset + i)) return false;
      const attempt = new Attempt(packer, { positions, store: { buffer: seeds[0].buffer, base: norms[0].base, offset: norms[0].offset }, gather: true });
      seeds.forEach((s) => attempt.normalize(s.index)); // records what the indices read
      const value = attempt.pack(seeds.map((s) => s.value));
      attempt.commit({ kind: "store", buffer: seeds[0].buffer, index: seeds[0].index, value });
      this.stores++;
      return true;
    } catch (error) {
      if (error instanceof Refused) return false;
      throw error;
    }
  }
}

/** Packs one kernel (see the file comment). */
export function superwordKernel(kernel: SimdKernel, options: SuperwordOptions = {}): { readonly kernel: SimdKernel; readonly report: SuperwordReport } {
  const pass = new KernelPass(new KernelFacts(kernel), options);
  const body = pass.block(kernel.body);
  const report = { kernel: kernel.name, accumulators: pass.accumulators, stores: pass.stores, fused: pass.fused };
  return { kernel: report.accumulators + report.stores > 0 ? { ...kernel, body } : kernel, report };
}

/** Packs every kernel of a module. */
export function superwordModule(module: SimdModule, options: SuperwordOptions = {}): { readonly module: SimdModule; readonly reports: readonly SuperwordReport[] } {
  const results = module.kernels.map((k) => superwordKernel(k, options));
  return { module: { kernels: results.map((r) => r.kernel) }, reports: results.map((r) => r.report) };
}
