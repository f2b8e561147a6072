/**
 * The loop nest the WGSL schedule works on: a kernel that is leading lets (and induction
 * counters) then one loop L, with no buffer both read and written — the precondition for running
 * L's iterations on different invocations. Also the pieces every schedule builds with: the
 * recognized tilings of an inner loop's ranges, grid-stride loops, one iteration of L.
 */
import { add, div, i32, lt, mul, ref, sub, typeOf } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Param, StorageType, Stmt } from "../../codegen/ir/nodes.ts";
import { affine, eachExpr, eachStmt, forS, ifS, invariant, isRef, key, letS, resolver, type For } from "./ir-util.ts";
import { freshNames, type LaunchScalars } from "./kernel.ts";

/** Thrown (and caught by the schedule) when a kernel must run on one invocation. */
export class NotParallel extends Error {}

export function reject(reason: string): never {
  throw new NotParallel(reason);
}

/** An induction counter: `var v = init` before L, `v = v + step` as one of L's last statements. */
export interface Induction {
  readonly name: string;
  readonly init: Expr;
  readonly step: number;
}

export interface LoopNest {
  readonly kernel: Kernel;
  /** The leading lets (the counters' vars dropped: each iteration computes its counters). */
  readonly leadLets: readonly Stmt[];
  readonly loop: For;
  readonly counters: readonly Induction[];
  /** L's body without the counters' updates. */
  readonly core: readonly Stmt[];
  /** Scalar parameters and leading lets: what is the same in every iteration. */
  readonly outside: ReadonlySet<string>;
  readonly storage: ReadonlyMap<string, StorageType>;
  readonly fresh: (hint: string) => string;
  readonly names: LaunchScalars;
}

function inductions(kernel: Kernel, prefix: readonly Stmt[], loop: For): { counters: Induction[]; core: readonly Stmt[] } {
  const vars = prefix.filter((s): s is Stmt & { kind: "var" } => s.kind === "var");
  const assigns = new Map<string, number>();
  eachStmt(kernel.body, (s) => {
    if (s.kind === "assign") assigns.set(s.name, (assigns.get(s.name) ?? 0) + 1);
  });
  let end = loop.body.length;
  while (end > 0 && loop.body[end - 1].kind === "assign") end--;
  const trailing = loop.body.slice(end) as (Stmt & { kind: "assign" })[];
  const counters = vars.map((v): Induction => {
    const update = trailing.find((s) => s.name === v.name);
    if (update === undefined || assigns.get(v.name) !== 1 || v.type !== "i32") reject(`${v.name} is not a counter stepped once per iteration`);
    const value = update.value;
    const step = value.kind === "binary" && value.op === "add" ? (isRef(value.a, v.name) ? value.b : isRef(value.b, v.name) ? value.a : null) : null;
    if (step === null || step.kind !== "const") reject(`${v.name} is not a counter stepped by a constant`);
    return { name: v.name, init: v.init, step: step.value };
  });
  if (trailing.some((s) => !counters.some((v) => v.name === s.name))) reject("the loop ends by assigning a variable declared inside it");
  return { counters, core: loop.body.slice(0, end) };
}

/** The kernel as a loop nest, or NotParallel with the reason it must run on one invocation. */
export function analyse(kernel: Kernel): LoopNest {
  const written = new Set<string>();
  eachStmt(kernel.body, (s) => {
    if (s.kind === "store") written.add(s.buffer);
  });
  eachExpr(kernel.body, (e) => {
    if (e.kind === "load" && written.has(e.buffer)) reject(`reads ${e.buffer}, which it writes`);
  });
  const loop = kernel.body[kernel.body.length - 1];
  if (loop?.kind !== "for") reject("does not end in a loop");
  const prefix = kernel.body.slice(0, -1);
  const stray = prefix.find((s) => s.kind !== "let" && s.kind !== "var");
  if (stray !== undefined) reject(`a ${stray.kind} statement before its loop`);
  if (!Number.isInteger(loop.step) || loop.step <= 0) reject(`its loop steps by ${loop.step}`);
  const { counters, core } = inductions(kernel, prefix, loop);
  const counterNames = new Set(counters.map((c) => c.name));
  eachExpr(prefix, (e) => {
    if (e.kind === "ref" && counterNames.has(e.name)) reject(`a lead let reads the counter ${e.name}`);
  });
  const leadLets = prefix.filter((s) => s.kind === "let");
  const outside = new Set([...kernel.params.flatMap((p) => (p.kind === "scalar" ? [p.name] : [])), ...leadLets.map((s) => (s as Stmt & { kind: "let" }).name)]);
  for (const c of counters) if (!invariant(c.init, outside)) reject(`counter ${c.name} starts from a value computed from buffers`);
  const fresh = freshNames(kernel);
  const names: LaunchScalars = {
    trips: fresh("launch_trips"),
    phase: fresh("launch_phase"),
    firstUnit: fresh("launch_first_unit"),
    ownedBase: fresh("launch_owned_base"),
    unitsX: fresh("launch_units_x"),
    strideX: fresh("launch_stride_x"),
    roundsX: fresh("launch_rounds_x"),
    unitsY: fresh("launch_units_y"),
    strideY: fresh("launch_stride_y"),
    roundsY: fresh("launch_rounds_y"),
    parts: fresh("launch_parts"),
    partRounds: fresh("launch_part_rounds"),
    invocationX: fresh("invocation_x"),
    invocationY: fresh("invocation_y"),
  };
  const storage = new Map(kernel.params.flatMap((p) => (p.kind === "buffer" ? [[p.name, p.storage] as const] : [])));
  return { kernel, leadLets, loop, counters, core, outside, storage, fresh, names };
}

/** The launch scalars as i32 parameters (after the kernel's own and its scratch buffers). */
export function launchParams(names: LaunchScalars): Param[] {
  return Object.values(names).map((name): Param => ({ kind: "scalar", name, type: "i32" }));
}

/** The leading lets the host needs to evaluate `exprs` (no loads: they run before any buffer exists). */
export function hostLets(nest: LoopNest, exprs: readonly Expr[]): Stmt[] {
  const lets = new Map(nest.leadLets.flatMap((s) => (s.kind === "let" ? [[s.name, s] as const] : [])));
  const scalars = new Set(nest.kernel.params.flatMap((p) => (p.kind === "scalar" ? [p.name] : [])));
  const needed = new Set<string>();
  const visit = (e: Expr) =>
    eachExpr([letS("", e)], (x) => {
      if (x.kind === "load") reject("a loop bound reads a buffer");
      if (x.kind !== "ref" || scalars.has(x.name) || needed.has(x.name)) return;
      const s = lets.get(x.name);
      if (s === undefined || s.kind !== "let") reject(`a loop bound reads ${x.name}, unknown before the loop`);
      needed.add(x.name);
      visit(s.value);
    });
  exprs.forEach(visit);
  return nest.leadLets.filter((s) => s.kind === "let" && needed.has(s.name));
}

/** How an inner loop's ranges lie across L's iterations, when they tile the index space. */
export interface InnerRange {
  /** An upper bound of one range's length, the same in every iteration. */
  readonly extent: Expr;
  /** Whether every range starts at a multiple of `unit`. */
  readonly aligned: (unit: number) => boolean;
}

/**
 * Recognizes the ranges of an inner loop (bounds computed by `before`, the lets preceding it):
 * groups [g·len, g·len + len) for g stepping by one, or blocks [start, start + c) / [start,
 * min(start + c, …)) with c ≤ step. Either way the ranges of different iterations are disjoint.
 */
export function innerRange(nest: LoopNest, before: readonly Stmt[], inner: For): InnerRange | string {
  const loop = nest.loop;
  const resolve = resolver(before);
  const from = resolve(inner.from);
  const to = resolve(inner.to);
  if (loop.step === 1 && from.kind === "binary" && from.op === "mul" && to.kind === "binary" && to.op === "add") {
    const length = isRef(from.a, loop.index) ? from.b : isRef(from.b, loop.index) ? from.a : null;
    const rest = key(to.a) === key(from) ? to.b : key(to.b) === key(from) ? to.a : null;
    if (length !== null && rest !== null && key(rest) === key(length) && invariant(length, nest.outside))
      return { extent: length, aligned: (unit) => length.kind === "const" && length.value % unit === 0 };
  }
  if (isRef(from, loop.index)) {
    const bounded = to.kind === "binary" && to.op === "min" ? [to.a, to.b] : [to];
    for (const b of bounded) {
      if (b.kind !== "binary" || b.op !== "add") continue;
      const c = isRef(b.a, loop.index) ? b.b : isRef(b.b, loop.index) ? b.a : null;
      if (c?.kind === "const" && c.value >= 0 && c.value <= loop.step)
        return { extent: c, aligned: (unit) => loop.from.kind === "const" && loop.from.value % unit === 0 && loop.step % unit === 0 };
    }
  }
  const segments = segmentRange(nest, from, to);
  if (segments !== null) return segments;
  return "the inner ranges are not recognizably disjoint (groups g·len, blocks of the loop's step or row segments)";
}

/**
 * Row segments (scaling/block/lower.ts forSegments), for s = 0, 1, …:
 *
 *   row = s / G, col = s − row·G, c0 = col·T, [row·C + c0, row·C + min(c0 + T, C))
 *
 * with T ≥ 1, C invariant and G = (C + T − 1) / T, all computed before L. Disjoint: s ↦ (row, col)
 * is one-to-one (s = row·G + col whatever the division gives), col ≥ 0 for s ≥ 0 (a truncated
 * remainder, or s itself where WGSL divides by G = 0), so segments of one row lie in distinct
 * [c0, c0 + T), each inside its row's [row·C, row·C + C) (empty when c0 ≥ C). Moreover for C ≥ 1,
 * G = ⌈C/T⌉ makes every segment nonempty and the segments tile [0, trips·C/G) in order (for C ≤ 0
 * all are empty), so the ranges of iterations unit apart have unit − 1 nonempty ranges between
 * them and never share a word of `unit` codes: phases apply. Aligned when C and T are constant
 * multiples of the unit.
 */
function segmentRange(nest: LoopNest, from: Expr, to: Expr): InnerRange | null {
  const loop = nest.loop;
  if (loop.step !== 1 || loop.from.kind !== "const" || loop.from.value < 0) return null;
  const binary = (e: Expr, op: string): [Expr, Expr] | null => (e.kind === "binary" && e.op === op ? [e.a, e.b] : null);
  const sum = binary(from, "add");
  const end = binary(to, "add");
  if (sum === null || end === null || key(end[0]) !== key(sum[0])) return null;
  const [base, c0] = sum;
  const rowTimes = binary(base, "mul");
  const colTimes = binary(c0, "mul");
  const clipped = binary(end[1], "min");
  if (rowTimes === null || colTimes === null || clipped === null) return null;
  const [row, C] = rowTimes;
  const [col, T] = colTimes;
  const quotient = binary(row, "div");
  if (quotient === null || !isRef(quotient[0], loop.index)) return null;
  const G = quotient[1];
  const remainder = binary(col, "sub");
  const product = remainder && binary(remainder[1], "mul");
  if (remainder === null || !isRef(remainder[0], loop.index) || product === null || key(product[0]) !== key(row) || key(product[1]) !== key(G)) return null;
  if (key(clipped[0]) !== key(add(c0, T)) || key(clipped[1]) !== key(C)) return null;
  if (![C, T, G].every((e) => typeOf(e) === "i32" && invariant(e, nest.outside))) return null;
  const lead = resolver(nest.leadLets);
  if (!atLeastOne(lead(T)) || key(lead(G)) !== key(div(sub(add(lead(C), lead(T)), i32(1)), lead(T)))) return null;
  const multiple = (e: Expr, unit: number) => e.kind === "const" && e.value % unit === 0;
  return { extent: T, aligned: (unit) => multiple(C, unit) && multiple(T, unit) };
}

/** Whether an (invariant, resolved) i32 is provably ≥ 1: a constant, or a choice between such. */
function atLeastOne(e: Expr): boolean {
  if (e.kind === "const") return Number.isInteger(e.value) && e.value >= 1;
  return e.kind === "select" && atLeastOne(e.then) && atLeastOne(e.else);
}

/** One grid axis's launch scalars. */
export interface Axis {
  readonly invocation: string;
  readonly stride: string;
  readonly rounds: string;
  readonly units: string;
}

export const axisX = (names: LaunchScalars): Axis => ({ invocation: names.invocationX, stride: names.strideX, rounds: names.roundsX, units: names.unitsX });
export const axisY = (names: LaunchScalars): Axis => ({ invocation: names.invocationY, stride: names.strideY, rounds: names.roundsY, units: names.unitsY });

/** `for r < rounds: u = invocation + r·stride; if u < units: body(u)` — a grid-stride loop. */
export function strided(fresh: (hint: string) => string, axis: Axis, body: (u: Expr) => Stmt[]): Stmt {
  const r = fresh("round");
  const u = fresh("unit");
  const uRef = ref("i32", u);
  return forS(r, ref("i32", axis.rounds), [letS(u, add(ref("i32", axis.invocation), mul(ref("i32", r), ref("i32", axis.stride)))), ifS(lt(uRef, ref("i32", axis.units)), body(uRef))]);
}

/** One iteration of L for iteration number t: its index, its counters, then `rest`. */
export function iteration(nest: LoopNest, t: Expr, rest: readonly Stmt[]): Stmt[] {
  return [letS(nest.loop.index, affine(nest.loop.from, t, nest.loop.step)), ...nest.counters.map((c) => letS(c.name, affine(c.init, t, c.step))), ...rest];
}
