/**
 * The WGSL target's schedule, an IR → IR pass: which loop of a kernel runs across invocations.
 * A kernel qualifies when it is leading lets (and induction counters) and one loop L whose
 * iterations are independent: no buffer is both read and written, and either
 *
 * - split: L's body is lets and one inner element loop E (straight-line lets and stores at E's
 *   index) whose ranges tile the index space — groups [g·len, g·len + len) or blocks
 *   [start, min(start + c, …)) with c ≤ step — then iterations of L go along y and elements of E
 *   along x (the scaled encode/decode kernels); or
 * - outer: every store in L's body is at L's index or at an induction counter, so iteration t
 *   owns its slot and runs whole on one invocation (element loops, and the per-group, per-block
 *   and per-chunk statistics whose inner loops stay sequential: the same bits as the JS target).
 *
 * Narrow codes (pack.ts) are merged into u32 words without atomics, so an invocation owns whole
 * words: an outer loop storing codes takes 4 (or 2) consecutive owned indices per invocation; an
 * inner loop takes one word per invocation, and when neighbouring ranges may share a word the
 * outer iterations run in 4 (or 2) phases, one dispatch each (no two ranges of one phase meet).
 * Anything else — finalize steps, sequential reductions over the whole tensor — runs on a single
 * invocation, with the reason recorded. Grid loops stride by the dispatched size, so any count
 * fits the per-dimension workgroup limit.
 */
import { add, and, ge, i32, lt, mul, ref, shl, shr, sub, typeOf } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Param, Stmt } from "../../codegen/ir/nodes.ts";
import { freshNames, type GridInner, type GridLoop, type Launch, type LaunchScalars } from "./kernel.ts";
import { packFactor } from "./pack.ts";

class NotParallel extends Error {}

function reject(reason: string): never {
  throw new NotParallel(reason);
}

type For = Stmt & { kind: "for" };

/** Calls `visit` on every expression of the statements (outermost first), recursing into blocks. */
function eachExpr(stmts: readonly Stmt[], visit: (e: Expr) => void): void {
  const expr = (e: Expr): void => {
    visit(e);
    if (e.kind === "unary" || e.kind === "convert" || e.kind === "splat" || e.kind === "extract") expr(e.arg);
    else if (e.kind === "binary" || e.kind === "compare") {
      expr(e.a);
      expr(e.b);
    } else if (e.kind === "select") {
      expr(e.cond);
      expr(e.then);
      expr(e.else);
    } else if (e.kind === "load" || e.kind === "lookup") expr(e.index);
  };
  for (const s of stmts) {
    if (s.kind === "let" || s.kind === "assign") expr(s.value);
    else if (s.kind === "var") expr(s.init);
    else if (s.kind === "store") {
      expr(s.index);
      expr(s.value);
    } else if (s.kind === "for") {
      expr(s.from);
      expr(s.to);
      eachExpr(s.body, visit);
    } else {
      expr(s.cond);
      eachExpr(s.then, visit);
      eachExpr(s.else, visit);
    }
  }
}

/** Calls `visit` on every statement, recursing into blocks. */
function eachStmt(stmts: readonly Stmt[], visit: (s: Stmt) => void): void {
  for (const s of stmts) {
    visit(s);
    if (s.kind === "for") eachStmt(s.body, visit);
    else if (s.kind === "if") {
      eachStmt(s.then, visit);
      eachStmt(s.else, visit);
    }
  }
}

const key = (e: Expr) => JSON.stringify(e);
const isRef = (e: Expr, name: string) => e.kind === "ref" && e.name === name;

/** An induction counter: `var v = init` before L, `v = v + step` as one of L's last statements. */
interface Induction {
  readonly name: string;
  readonly init: Expr;
  readonly step: number;
}

/** Finds L's trailing induction updates; throws unless every var before L is one. */
function inductions(kernel: Kernel, prefix: readonly Stmt[], loop: For): { inductions: Induction[]; core: readonly Stmt[] } {
  const vars = prefix.filter((s): s is Stmt & { kind: "var" } => s.kind === "var");
  const assigns = new Map<string, number>();
  eachStmt(kernel.body, (s) => {
    if (s.kind === "assign") assigns.set(s.name, (assigns.get(s.name) ?? 0) + 1);
  });
  const found: Induction[] = [];
  let end = loop.body.length;
  while (end > 0 && loop.body[end - 1].kind === "assign") end--;
  const trailing = loop.body.slice(end) as (Stmt & { kind: "assign" })[];
  for (const v of vars) {
    const update = trailing.find((s) => s.name === v.name);
    if (update === undefined || assigns.get(v.name) !== 1 || v.type !== "i32") reject(`${v.name} is not a counter stepped once per iteration`);
    const value = update.value;
    const step = value.kind === "binary" && value.op === "add" ? (isRef(value.a, v.name) ? value.b : isRef(value.b, v.name) ? value.a : null) : null;
    if (step === null || step.kind !== "const") reject(`${v.name} is not a counter stepped by a constant`);
    found.push({ name: v.name, init: v.init, step: step.value });
  }
  if (trailing.some((s) => !found.some((v) => v.name === s.name))) reject("the loop ends by assigning a variable declared inside it");
  return { inductions: found, core: loop.body.slice(0, end) };
}

/** The leading lets the host needs to evaluate `exprs` (no loads: they run before any buffer exists). */
function hostLets(exprs: readonly Expr[], prefix: readonly Stmt[], params: readonly Param[]): Stmt[] {
  const lets = new Map(prefix.flatMap((s) => (s.kind === "let" ? [[s.name, s] as const] : [])));
  const scalars = new Set(params.flatMap((p) => (p.kind === "scalar" ? [p.name] : [])));
  const needed = new Set<string>();
  const visit = (e: Expr) =>
    eachExpr([{ kind: "let", name: "", value: e }], (x) => {
      if (x.kind === "load") reject("a loop bound reads a buffer");
      if (x.kind !== "ref" || scalars.has(x.name) || needed.has(x.name)) return;
      const s = lets.get(x.name);
      if (s === undefined || s.kind !== "let") reject(`a loop bound reads ${x.name}, unknown before the loop`);
      needed.add(x.name);
      visit(s.value);
    });
  exprs.forEach(visit);
  return prefix.filter((s) => s.kind === "let" && needed.has(s.name));
}

/** Substitutes the lets of `block` into `e` (so equal ranges compare equal). */
function resolver(block: readonly Stmt[]): (e: Expr) => Expr {
  const lets = new Map(block.flatMap((s) => (s.kind === "let" ? [[s.name, s.value] as const] : [])));
  const resolve = (e: Expr): Expr => {
    switch (e.kind) {
      case "ref": {
        const v = lets.get(e.name);
        return v === undefined ? e : resolve(v);
      }
      case "unary":
      case "convert":
      case "splat":
      case "extract":
        return { ...e, arg: resolve(e.arg) } as Expr;
      case "binary":
      case "compare":
        return { ...e, a: resolve(e.a), b: resolve(e.b) };
      case "select":
        return { ...e, cond: resolve(e.cond), then: resolve(e.then), else: resolve(e.else) };
      case "load":
      case "lookup":
        return { ...e, index: resolve(e.index) };
      default:
        return e;
    }
  };
  return resolve;
}

/** Whether `e` reads only constants, scalar parameters and the kernel's leading lets. */
function invariant(e: Expr, outside: ReadonlySet<string>): boolean {
  let ok = true;
  eachExpr([{ kind: "let", name: "", value: e }], (x) => {
    if ((x.kind === "ref" && !outside.has(x.name)) || x.kind === "load") ok = false;
  });
  return ok;
}

interface Split {
  readonly before: readonly Stmt[];
  readonly inner: For;
  readonly extent: Expr;
  readonly aligned: (unit: number) => boolean;
}

/** Recognizes L's body as lets + an inner element loop whose ranges are disjoint across iterations. */
function split(loop: For, core: readonly Stmt[], outside: ReadonlySet<string>): Split | string {
  const inner = core[core.length - 1];
  if (inner?.kind !== "for") return "the loop body does not end in an inner loop";
  const before = core.slice(0, -1);
  if (before.some((s) => s.kind !== "let")) return "the loop body has statements other than lets before its inner loop";
  if (inner.step !== 1) return "the inner loop steps by more than one";
  for (const s of inner.body) {
    if (s.kind === "store" && !isRef(s.index, inner.index)) return `the inner loop stores to ${s.buffer} away from its index`;
    if (s.kind !== "let" && s.kind !== "store") return `a ${s.kind} statement in the inner loop`;
  }
  const resolve = resolver(before);
  const from = resolve(inner.from);
  const to = resolve(inner.to);
  // Groups: [g·len, g·len + len) for g stepping by one.
  if (loop.step === 1 && from.kind === "binary" && from.op === "mul" && to.kind === "binary" && to.op === "add") {
    const length = isRef(from.a, loop.index) ? from.b : isRef(from.b, loop.index) ? from.a : null;
    const rest = key(to.a) === key(from) ? to.b : key(to.b) === key(from) ? to.a : null;
    if (length !== null && rest !== null && key(rest) === key(length) && invariant(length, outside))
      return { before, inner, extent: length, aligned: (unit) => length.kind === "const" && length.value % unit === 0 };
  }
  // Blocks: [start, start + c) or [start, min(start + c, end)) with c ≤ step.
  if (isRef(from, loop.index)) {
    const bounded = to.kind === "binary" && to.op === "min" ? [to.a, to.b] : [to];
    for (const b of bounded) {
      if (b.kind !== "binary" || b.op !== "add") continue;
      const c = isRef(b.a, loop.index) ? b.b : isRef(b.b, loop.index) ? b.a : null;
      if (c?.kind === "const" && c.value >= 0 && c.value <= loop.step)
        return { before, inner, extent: c, aligned: (unit) => loop.from.kind === "const" && loop.from.value % unit === 0 && loop.step % unit === 0 };
    }
  }
  return "the inner ranges are not recognizably disjoint (groups g·len or blocks of the loop's step)";
}

/** Stores outside an inner split must be at an owned slot: L's index or a counter. */
function owned(loop: For, core: readonly Stmt[], counters: readonly Induction[], params: readonly Param[]): { unit: number; base: Expr | null } {
  const storage = new Map(params.flatMap((p) => (p.kind === "buffer" ? [[p.name, p.storage] as const] : [])));
  let narrowSlot: string | null = null;
  let unit = 1;
  eachStmt(core, (s) => {
    if (s.kind !== "store") return;
    const slot = s.index.kind === "ref" ? s.index.name : null;
    const counter = counters.find((c) => c.name === slot);
    if (slot !== loop.index && counter === undefined) reject(`stores to ${s.buffer} at an index other than the loop's or a counter's`);
    const perStep = counter === undefined ? loop.step : counter.step;
    if (perStep === 0) reject(`stores to ${s.buffer} at a counter that does not move`);
    const factor = packFactor(storage.get(s.buffer) ?? "f32");
    if (factor === 1) return;
    if (perStep !== 1) reject(`stores narrow codes to ${s.buffer} at an index stepping by ${perStep}`);
    if (narrowSlot !== null && narrowSlot !== slot) reject("stores narrow codes at two different indices");
    narrowSlot = slot;
    unit = Math.max(unit, factor);
  });
  if (unit === 1) return { unit, base: null };
  const counter = counters.find((c) => c.name === narrowSlot);
  return { unit, base: counter === undefined ? loop.from : counter.init };
}

const i32Param = (name: string): Param => ({ kind: "scalar", name, type: "i32" });
const letS = (name: string, value: Expr): Stmt => ({ kind: "let", name, value });
const ifS = (cond: Expr, then: readonly Stmt[]): Stmt => ({ kind: "if", cond, then, else: [] });
const forS = (index: string, to: Expr, body: readonly Stmt[]): Stmt => ({ kind: "for", index, from: i32(0), to, step: 1, body });

/** `for r < rounds: u = invocation + r·stride; if u < units: body(u)` — a grid-stride loop. */
function strided(fresh: (hint: string) => string, axis: { invocation: string; stride: string; rounds: string; units: string }, body: (u: Expr) => Stmt[]): Stmt {
  const r = fresh("round");
  const u = fresh("unit");
  const uRef = ref("i32", u);
  return forS(r, ref("i32", axis.rounds), [
    letS(u, add(ref("i32", axis.invocation), mul(ref("i32", r), ref("i32", axis.stride)))),
    ifS(lt(uRef, ref("i32", axis.units)), body(uRef)),
  ]);
}

/** base + t·step, without the additions of 0 and multiplications by 1 (the rendered WGSL stays readable). */
function affine(base: Expr, t: Expr, step: number): Expr {
  const scaled = step === 1 ? t : mul(t, i32(step));
  return base.kind === "const" && base.value === 0 ? scaled : add(base, scaled);
}

/** One iteration of L for iteration number t: its index, its counters, then `rest`. */
function iteration(loop: For, counters: readonly Induction[], t: Expr, rest: readonly Stmt[]): Stmt[] {
  return [letS(loop.index, affine(loop.from, t, loop.step)), ...counters.map((c) => letS(c.name, affine(c.init, t, c.step))), ...rest];
}

/** The kernel one invocation runs and its launch (or the kernel unchanged on one invocation). */
export function scheduleKernel(kernel: Kernel): { readonly kernel: Kernel; readonly launch: Launch } {
  try {
    return grid(kernel);
  } catch (error) {
    if (!(error instanceof NotParallel)) throw error;
    return { kernel, launch: { kind: "single", reason: error.message } };
  }
}

function grid(kernel: Kernel): { kernel: Kernel; launch: Launch } {
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
  const { inductions: counters, core } = inductions(kernel, prefix, loop);
  const counterNames = new Set(counters.map((c) => c.name));
  eachExpr(prefix, (e) => {
    if (e.kind === "ref" && counterNames.has(e.name)) reject(`a lead let reads the counter ${e.name}`);
  });
  const outside = new Set([...kernel.params.flatMap((p) => (p.kind === "scalar" ? [p.name] : [])), ...prefix.flatMap((s) => (s.kind === "let" ? [s.name] : []))]);
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
    invocationX: fresh("invocation_x"),
    invocationY: fresh("invocation_y"),
  };
  const r = (name: string) => ref("i32", name);
  const x = { invocation: names.invocationX, stride: names.strideX, rounds: names.roundsX, units: names.unitsX };
  const y = { invocation: names.invocationY, stride: names.strideY, rounds: names.roundsY, units: names.unitsY };
  const storage = new Map(kernel.params.flatMap((p) => (p.kind === "buffer" ? [[p.name, p.storage] as const] : [])));
  const leadLets = prefix.filter((s) => s.kind === "let");

  let outer: GridLoop;
  let inner: GridInner | null = null;
  let body: Stmt[];
  const nest = split(loop, core, outside);
  if (typeof nest !== "string") {
    let unit = 1;
    eachStmt(nest.inner.body, (s) => {
      if (s.kind === "store") unit = Math.max(unit, packFactor(storage.get(s.buffer) ?? "f32"));
    });
    const phases = unit > 1 && !nest.aligned(unit) ? unit : 1;
    outer = { from: loop.from, to: loop.to, step: loop.step, unit: 1, ownedBase: null, phases };
    inner = { extent: nest.extent, unit };
    const e = nest.inner;
    const lo = fresh(`${e.index}_from`);
    const hi = fresh(`${e.index}_to`);
    const element = (i: Expr): Stmt[] => [letS(e.index, i), ifS(and(ge(r(e.index), r(lo)), lt(r(e.index), r(hi))), e.body)];
    const elements = (u: Expr): Stmt[] => {
      if (unit === 1) return element(add(r(lo), u));
      const w = fresh(`${e.index}_word`);
      const j = fresh(`${e.index}_lane`);
      return [letS(w, add(shr(r(lo), i32(Math.log2(unit))), u)), forS(j, i32(unit), element(add(shl(r(w), i32(Math.log2(unit))), r(j))))];
    };
    const t = fresh(`${loop.index}_iteration`);
    body = [
      strided(fresh, y, (uy) => [
        letS(t, phases === 1 ? uy : add(mul(uy, i32(phases)), r(names.phase))),
        ifS(lt(r(t), r(names.trips)), iteration(loop, counters, r(t), [...nest.before, letS(lo, e.from), letS(hi, e.to), strided(fresh, x, elements)])),
      ]),
    ];
  } else {
    const { unit, base } = owned(loop, core, counters, kernel.params);
    outer = { from: loop.from, to: loop.to, step: loop.step, unit, ownedBase: base, phases: 1 };
    const t = fresh(`${loop.index}_iteration`);
    body = [
      strided(fresh, x, (u) => {
        if (unit === 1) return iteration(loop, counters, u, core);
        const j = fresh("owned_lane");
        const guard = and(ge(r(t), i32(0)), lt(r(t), r(names.trips)));
        const slot = add(mul(add(r(names.firstUnit), u), i32(unit)), r(j));
        return [forS(j, i32(unit), [letS(t, sub(slot, r(names.ownedBase))), ifS(guard, iteration(loop, counters, r(t), core))])];
      }),
    ];
  }
  const bounds = [outer.from, outer.to, ...(outer.ownedBase === null ? [] : [outer.ownedBase]), ...(inner === null ? [] : [inner.extent])];
  const lets = hostLets(bounds, prefix, kernel.params);
  if (bounds.some((b) => typeOf(b) !== "i32")) reject("a loop bound is not an i32");
  const launchParams = Object.values(names).map(i32Param);
  return {
    kernel: { ...kernel, params: [...kernel.params, ...launchParams], body: [...leadLets, ...body] },
    launch: { kind: "grid", lets, outer, inner, scalars: names },
  };
}
