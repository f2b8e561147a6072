/**
 * Rounding of an exact non-negative f32 y (< 2^22) to an integer-valued f32 by a probed decision
 * (probe.ts), in lane-wise IR without per-lane shifts or table lookups, so the wasm vectorizer
 * keeps the loop 4 lanes wide. A decision that is ties-to-even takes the target's one-instruction
 * roundEven and one that never rounds up takes floor; any other is floor plus a compare-and-select
 * over the fraction's class and the floor's last bit.
 */
import { Builder, add, and, bitsOf, bool, eq, f32, floor, ge, gt, lt, ne, or, roundEven, select, sub, u32 } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import type { RoundingDecision } from "./probe.ts";

const pattern = (d: RoundingDecision) => d.up.map((row) => row.map((v) => (v ? "1" : "0")).join("")).join("/");
/** up[lsb] over (exact, below, half, above): ties to even, and never up. */
const TIES_TO_EVEN = "0001/0011";
const NEVER_UP = "0000/0000";

/** Whether a probed decision is ties to even (the targets' roundEven). */
export const isTiesToEven = (decision: RoundingDecision) => pattern(decision) === TIES_TO_EVEN;

export function lowerRoundByDecision(b: Builder, y: Expr, decision: RoundingDecision): Expr {
  const p = pattern(decision);
  if (p === TIES_TO_EVEN) return b.let("rounded", roundEven(y));
  const fl = b.let("fl", floor(y));
  if (p === NEVER_UP) return fl;
  const frac = b.let("frac", sub(y, fl));
  const inClasses = (row: readonly boolean[]): Expr => {
    const [, below, half, above] = row;
    // The unions that are one compare; others are built class by class.
    if (below && half && above) return gt(frac, f32(0));
    if (!below && half && above) return ge(frac, f32(0.5));
    if (!below && !half && above) return gt(frac, f32(0.5));
    if (!below && !half && !above) return bool(false);
    let up: Expr = bool(false);
    const join = (e: Expr) => (up = up.kind === "const" ? e : or(up, e));
    if (below) join(b.let("below_half", and(gt(frac, f32(0)), lt(frac, f32(0.5)))));
    if (half) join(eq(frac, f32(0.5)));
    if (above) join(gt(frac, f32(0.5)));
    return up;
  };
  const [even, odd] = decision.up;
  const same = even.every((v, k) => v === odd[k]);
  // The floor's last bit: fl < 2^22, so fl + 2^23 is exact and its low mantissa bit is fl's.
  const up = same ? inClasses(even) : select(ne(and(bitsOf(add(fl, f32(2 ** 23))), u32(1)), u32(0)), inClasses(odd), inClasses(even));
  return b.let("rounded", select(up, add(fl, f32(1)), fl));
}

/**
 * The integer to add before dropping `dropped` low bits (a shift right) so that the shift rounds
 * by a decision, per the kept part's last bit [even, odd]: "up iff the dropped bits' class is at
 * least t" is +0 (never), +½ − 1 (above ½), +½ (½ and above), +1 − 1 (any inexact value). Null for
 * a decision of another shape.
 */
export function incrementsOf(decision: RoundingDecision | null, dropped: number): readonly [number, number] | null {
  if (decision === null) return null;
  const half = 2 ** (dropped - 1);
  const increments: Record<string, number> = { "0000": 0, "0001": half - 1, "0011": half, "0111": 2 * half - 1 };
  const [even, odd] = decision.up.map((row) => increments[row.map((v) => (v ? "1" : "0")).join("")] ?? null);
  return even === null || odd === null ? null : [even, odd];
}
