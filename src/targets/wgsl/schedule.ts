/**
 * The WGSL target's schedule, an IR → IR pass: which loop of a kernel runs across invocations.
 * A kernel qualifies when it is a loop nest (nest.ts: leading lets and counters, one loop L, no
 * buffer both read and written), and then, tried in this order:
 *
 * - reduction (reduce.ts): L's body reduces an inner loop into a max accumulator — two passes,
 *   partial maxima in parallel, then one invocation per iteration combines them;
 * - split: L's body is lets and one inner element loop E (straight-line lets and stores at E's
 *   index) whose ranges tile the index space (groups or blocks, nest.ts) — iterations of L go
 *   along y and elements of E along x (the scaled encode/decode kernels);
 * - outer: every store in L's body is at L's index or at a counter, so iteration t owns its slot
 *   and runs whole on one invocation (element loops, and per-block / per-chunk statistics whose
 *   inner loops stay sequential: the same bits as the JS target).
 *
 * Narrow codes (pack.ts) are merged into u32 words without atomics, so an invocation owns whole
 * words: an outer loop storing codes takes 4 (or 2) consecutive owned indices per invocation; an
 * inner loop takes one word per invocation, and when neighbouring ranges may share a word the
 * iterations of L run in 4 (or 2) phases, one dispatch each (no two ranges of one phase meet).
 * Anything else — finalize steps, sums whose order the semantics fixes — runs on a single
 * invocation, with the reason recorded. Grid loops stride by the dispatched size, so any count
 * fits the per-dimension workgroup limit.
 */
import { add, and, ge, i32, lt, mul, ref, shl, shr, sub, typeOf } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Stmt } from "../../codegen/ir/nodes.ts";
import { eachStmt, forS, ifS, isRef, letS } from "./ir-util.ts";
import type { GridInner, GridLoop, ScratchBuffer, WgslPass } from "./kernel.ts";
import { analyse, axisX, axisY, hostLets, innerRange, iteration, launchParams, NotParallel, reject, strided, type LoopNest } from "./nest.ts";
import { packFactor } from "./pack.ts";
import { reduction } from "./reduce.ts";

/** The passes a kernel runs as, and the scratch buffers they share. */
export interface Schedule {
  readonly passes: readonly WgslPass[];
  readonly scratch: readonly ScratchBuffer[];
}

/** L split into iterations along y and the elements of its inner loop along x. */
function split(nest: LoopNest): { outer: GridLoop; inner: GridInner; body: Stmt[] } | string {
  const { core, loop, fresh, names, storage } = nest;
  const inner = core[core.length - 1];
  if (inner?.kind !== "for") return "the loop body does not end in an inner loop";
  const before = core.slice(0, -1);
  if (before.some((s) => s.kind !== "let")) return "the loop body has statements other than lets before its inner loop";
  if (inner.step !== 1) return "the inner loop steps by more than one";
  for (const s of inner.body) {
    if (s.kind === "store" && !isRef(s.index, inner.index)) return `the inner loop stores to ${s.buffer} away from its index`;
    if (s.kind !== "let" && s.kind !== "store") return `a ${s.kind} statement in the inner loop`;
  }
  const range = innerRange(nest, before, inner);
  if (typeof range === "string") return range;
  let unit = 1;
  eachStmt(inner.body, (s) => {
    if (s.kind === "store") unit = Math.max(unit, packFactor(storage.get(s.buffer) ?? "f32"));
  });
  const phases = unit > 1 && !range.aligned(unit) ? unit : 1;
  const r = (name: string) => ref("i32", name);
  const lo = fresh(`${inner.index}_from`);
  const hi = fresh(`${inner.index}_to`);
  const element = (i: Expr): Stmt[] => [letS(inner.index, i), ifS(and(ge(r(inner.index), r(lo)), lt(r(inner.index), r(hi))), inner.body)];
  const elements = (u: Expr): Stmt[] => {
    if (unit === 1) return element(add(r(lo), u));
    const w = fresh(`${inner.index}_word`);
    const j = fresh(`${inner.index}_lane`);
    return [letS(w, add(shr(r(lo), i32(Math.log2(unit))), u)), forS(j, i32(unit), element(add(shl(r(w), i32(Math.log2(unit))), r(j))))];
  };
  const t = fresh(`${loop.index}_iteration`);
  const body = [
    strided(fresh, axisY(names), (uy) => [
      letS(t, phases === 1 ? uy : add(mul(uy, i32(phases)), r(names.phase))),
      ifS(lt(r(t), r(names.trips)), iteration(nest, r(t), [...before, letS(lo, inner.from), letS(hi, inner.to), strided(fresh, axisX(names), elements)])),
    ]),
  ];
  return { outer: { from: loop.from, to: loop.to, step: loop.step, unit: 1, ownedBase: null, phases }, inner: { extent: range.extent, unit }, body };
}

/** L's iterations along x, whole on one invocation: stores must be at L's index or a counter. */
function outer(nest: LoopNest): { outer: GridLoop; body: Stmt[] } {
  const { core, loop, counters, fresh, names, storage } = nest;
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
  const counter = counters.find((c) => c.name === narrowSlot);
  const base = unit === 1 ? null : counter === undefined ? loop.from : counter.init;
  const r = (name: string) => ref("i32", name);
  const t = fresh(`${loop.index}_iteration`);
  const body = [
    strided(fresh, axisX(names), (u) => {
      if (unit === 1) return iteration(nest, u, core);
      const j = fresh("owned_lane");
      const slot = add(mul(add(r(names.firstUnit), u), i32(unit)), r(j));
      return [forS(j, i32(unit), [letS(t, sub(slot, r(names.ownedBase))), ifS(and(ge(r(t), i32(0)), lt(r(t), r(names.trips))), iteration(nest, r(t), core))])];
    }),
  ];
  return { outer: { from: loop.from, to: loop.to, step: loop.step, unit, ownedBase: base, phases: 1 }, body };
}

function grid(kernel: Kernel): Schedule {
  const nest = analyse(kernel);
  const reduced = reduction(nest);
  if (typeof reduced !== "string") return reduced;
  const nested = split(nest);
  const { outer: loop, body } = typeof nested === "string" ? outer(nest) : nested;
  const inner = typeof nested === "string" ? null : nested.inner;
  const bounds = [loop.from, loop.to, ...(loop.ownedBase === null ? [] : [loop.ownedBase]), ...(inner === null ? [] : [inner.extent])];
  if (bounds.some((b) => typeOf(b) !== "i32")) reject("a loop bound is not an i32");
  const lets = hostLets(nest, bounds);
  return {
    passes: [
      {
        kernel: { ...kernel, params: [...kernel.params, ...launchParams(nest.names)], body: [...nest.leadLets, ...body] },
        launch: { kind: "grid", lets, outer: loop, inner, reduction: null, scalars: nest.names },
      },
    ],
    scratch: [],
  };
}

/** The passes of a kernel: grid passes when its loop runs across invocations, else the kernel itself on one. */
export function scheduleKernel(kernel: Kernel): Schedule {
  try {
    return grid(kernel);
  } catch (error) {
    if (!(error instanceof NotParallel)) throw error;
    return { passes: [{ kernel, launch: { kind: "single", reason: error.message } }], scratch: [] };
  }
}
