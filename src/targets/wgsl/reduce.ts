/**
 * Max reductions on the GPU, the schedule's first choice (schedule.ts). L's body has the shape of
 * the amax statistics (scaling/common.ts finiteAmax):
 *
 *   lets; var acc = c; for i in range { lets; acc = select(v > acc [&& keep(v)], v, acc) }; lets; stores
 *
 * (or, for an integer accumulator, acc = max(acc, v)),
 * with the range one of the tilings of nest.ts and c a constant ≥ 0. It runs in two passes over
 * a scratch buffer of trips·parts partial maxima: "partials" gives each iteration `parts`
 * invocations, each reducing every parts-th element from c; "combine" gives each iteration one
 * invocation that folds its partials from c in order, then runs the rest of the body.
 *
 * Same bits as the sequential loop: both give c when no element is kept and above c, else the
 * largest kept element. Distinct values that compare equal (only ±0 among non-NaN f32) could
 * differ in which one comes first, but with c ≥ 0 no zero ever replaces the accumulator; NaN
 * never compares above it. Integer accumulators have no such pairs.
 */
import { add, gt, load, lt, mul, ref, select } from "../../codegen/ir/build.ts";
import type { Expr, Param, Stmt } from "../../codegen/ir/nodes.ts";
import { eachStmt, forS, ifS, isRef, key, letS, reads, type For } from "./ir-util.ts";
import { axisX, axisY, hostLets, innerRange, iteration, launchParams, strided, type LoopNest } from "./nest.ts";
import { packFactor } from "./pack.ts";
import type { Schedule } from "./schedule.ts";

interface MaxReduction {
  readonly before: readonly Stmt[];
  readonly acc: Stmt & { kind: "var" };
  readonly inner: For;
  readonly after: readonly Stmt[];
  readonly extent: Expr;
}

/** The candidate of `acc = select(v > acc [&& keep], v, acc)` or, for integers, `acc = max(acc, v)`; else null. */
function maxUpdate(value: Expr, acc: string): Expr | null {
  if (value.kind === "binary" && value.op === "max" && (value.type === "u32" || value.type === "i32")) {
    const candidate = isRef(value.a, acc) ? value.b : isRef(value.b, acc) ? value.a : null;
    return candidate !== null && !reads(candidate, acc) ? candidate : null;
  }
  if (value.kind !== "select" || !isRef(value.else, acc)) return null;
  const candidate = value.then;
  const cond = value.cond;
  const above = (c: Expr) => c.kind === "compare" && c.op === "gt" && isRef(c.b, acc) && key(c.a) === key(candidate);
  const ok = above(cond) || (cond.kind === "binary" && cond.op === "and" && ((above(cond.a) && !reads(cond.b, acc)) || (above(cond.b) && !reads(cond.a, acc))));
  return ok && !reads(candidate, acc) ? candidate : null;
}

function recognize(nest: LoopNest): MaxReduction | string {
  const { core, loop, counters, storage } = nest;
  const at = core.findIndex((s) => s.kind === "var");
  if (at < 0) return "no accumulator";
  const acc = core[at] as Stmt & { kind: "var" };
  const inner = core[at + 1];
  const before = core.slice(0, at);
  const after = core.slice(at + 2);
  if (inner?.kind !== "for" || inner.step !== 1) return "the accumulator is not followed by an inner loop";
  if (before.some((s) => s.kind !== "let")) return "statements other than lets before the accumulator";
  if (acc.init.kind !== "const" || !(acc.init.value >= 0) || (acc.type !== "f32" && acc.type !== "i32" && acc.type !== "u32")) return "the accumulator does not start from a constant ≥ 0";
  const update = inner.body[inner.body.length - 1];
  if (update?.kind !== "assign" || update.name !== acc.name || maxUpdate(update.value, acc.name) === null) return "the inner loop does not end in a max update";
  for (const s of inner.body.slice(0, -1)) if (s.kind !== "let" || reads(s.value, acc.name)) return "the inner loop does more than compute the candidate";
  for (const s of after) {
    if (s.kind !== "let" && s.kind !== "store") return `a ${s.kind} statement after the reduction`;
    if (s.kind !== "store") continue;
    const slot = s.index.kind === "ref" ? s.index.name : null;
    const counter = counters.find((c) => c.name === slot);
    if (slot !== loop.index && counter === undefined) return `stores to ${s.buffer} at an index other than the loop's or a counter's`;
    if ((counter === undefined ? loop.step : counter.step) === 0 || packFactor(storage.get(s.buffer) ?? "f32") > 1) return `stores to ${s.buffer} at a slot another iteration may share`;
  }
  let assigns = 0;
  eachStmt(core, (s) => {
    if (s.kind === "assign") assigns++;
  });
  if (assigns !== 1) return "other variables change in the loop";
  const range = innerRange(nest, before, inner);
  if (typeof range === "string") return range;
  return { before, acc, inner, after, extent: range.extent };
}

/** The two passes of a recognized max reduction, or why L is not one. */
export function reduction(nest: LoopNest): Schedule | string {
  const found = recognize(nest);
  if (typeof found === "string") return found;
  const { kernel, loop, fresh, names } = nest;
  const { before, acc, inner, after, extent } = found;
  const r = (name: string) => ref("i32", name);
  const storage = acc.type as "f32" | "i32" | "u32";
  const scratch = fresh("partials");
  const t = fresh(`${loop.index}_iteration`);
  const accRef = ref(acc.type, acc.name);
  const partial = (u: Expr) => add(mul(r(t), r(names.parts)), u);

  const lo = fresh(`${inner.index}_from`);
  const hi = fresh(`${inner.index}_to`);
  const part = fresh("round");
  const partials: Stmt[] = [
    strided(fresh, axisY(names), (uy) => [
      letS(t, uy),
      ifS(
        lt(r(t), r(names.trips)),
        iteration(nest, r(t), [
          ...before,
          letS(lo, inner.from),
          letS(hi, inner.to),
          strided(fresh, axisX(names), (ux) => [
            acc,
            forS(part, r(names.partRounds), [letS(inner.index, add(add(r(lo), ux), mul(r(part), r(names.parts)))), ifS(lt(r(inner.index), r(hi)), inner.body)]),
            { kind: "store", buffer: scratch, index: partial(ux), value: accRef },
          ]),
        ]),
      ),
    ]),
  ];

  const k = fresh("part");
  const p = fresh("partial");
  const pRef = ref(acc.type, p);
  const combine: Stmt[] = [
    strided(fresh, axisX(names), (u) => [
      letS(t, u),
      ifS(
        lt(r(t), r(names.trips)),
        iteration(nest, r(t), [
          ...before,
          acc,
          forS(k, r(names.parts), [letS(p, load(storage, scratch, partial(r(k)))), { kind: "assign", name: acc.name, value: select(gt(pRef, accRef), pRef, accRef) }]),
          ...after,
        ]),
      ),
    ]),
  ];

  const lets = hostLets(nest, [loop.from, loop.to, extent]);
  const outer = { from: loop.from, to: loop.to, step: loop.step, unit: 1, ownedBase: null, phases: 1 };
  const scratchParam = (access: "read" | "write"): Param => ({ kind: "buffer", name: scratch, storage, access });
  const pass = (body: Stmt[], access: "read" | "write", which: "partials" | "combine") => ({
    kernel: { ...kernel, params: [...kernel.params, scratchParam(access), ...launchParams(names)], body: [...nest.leadLets, ...body] },
    launch: { kind: "grid" as const, lets, outer, inner: null, reduction: { pass: which, extent }, scalars: names },
  });
  return { passes: [pass(partials, "write", "partials"), pass(combine, "read", "combine")], scratch: [{ name: scratch, storage }] };
}
