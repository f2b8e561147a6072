/**
 * What the vectorizer's forms that run one block per lane share (vectorize-blocks.ts,
 * vectorize-strided.ts): an expression on 4 lanes, lane k computing exactly what the scalar code
 * computes for block k; the 4×4 transpose that moves 4 blocks' elements into lanes and back; and
 * the selects that are exactly an integer maximum or minimum.
 */
import { typeOf } from "../../codegen/ir/build.ts";
import type { Expr, ScalarType } from "../../codegen/ir/nodes.ts";
import { vectorOf, type SimdExpr, type SimdStmt } from "./simd-ir.ts";

const same = (a: Expr, b: Expr) => JSON.stringify(a) === JSON.stringify(b);

/** v bound to a fresh let at the end of `body` (a ref is returned as it is), as a ref of its type. */
export function bindLet(body: SimdStmt[], fresh: (hint: string) => string, hint: string, v: SimdExpr): SimdExpr {
  if (v.kind === "ref") return v;
  const name = fresh(hint);
  body.push({ kind: "let", name, value: v });
  return { kind: "ref", type: v.kind === "compare" ? "boolx4" : v.type, name };
}

/** How a form reads the leaves of an expression whose value differs between lanes. */
export interface LaneLeaves {
  /** Whether e differs between lanes (else it is splatted: computed once, as a scalar). */
  readonly variant: (e: Expr) => boolean;
  /** A variant ref, load or lookup on 4 lanes; `vec` puts its operands on lanes. */
  readonly leaf: (e: Expr & { kind: "ref" | "load" | "lookup" }, vec: (e: Expr) => SimdExpr) => SimdExpr;
  /** Throws the form's refusal. */
  readonly refuse: (why: string) => never;
}

/** e on 4 lanes: every operation has its lane-wise form (each lane the scalar operation), leaves as the form reads them. */
export function lanewise(e: Expr, leaves: LaneLeaves): SimdExpr {
  const { variant, refuse } = leaves;
  const vec = (x: Expr): SimdExpr => lanewise(x, leaves);
  const lanes = (type: Expr["type"]) => {
    if (type === "f64" || type.endsWith("x4")) refuse(`a ${type} value`);
    return vectorOf(type as ScalarType);
  };
  if (!variant(e)) return { kind: "splat", type: lanes(typeOf(e)), arg: e };
  switch (e.kind) {
    case "ref":
    case "load":
    case "lookup":
      return leaves.leaf(e, vec);
    case "unary":
      if (e.op === "clz") refuse("clz (no 4-lane form)");
      return { kind: "unary", op: e.op, type: lanes(e.type), arg: vec(e.arg) };
    case "binary":
      if (e.op === "shl" || e.op === "shr") {
        if (variant(e.b)) refuse(`a per-lane ${e.op} count`);
        return { kind: "binary", op: e.op, type: lanes(e.type), a: vec(e.a), b: { kind: "splat", type: lanes(e.b.type), arg: e.b } };
      }
      if (e.op === "div" && e.type !== "f32") refuse("an integer division");
      return { kind: "binary", op: e.op, type: lanes(e.type), a: vec(e.a), b: vec(e.b) };
    case "compare":
      return { kind: "compare", op: e.op, type: lanes(e.type), a: vec(e.a), b: vec(e.b) };
    case "select": {
      const extreme = integerExtreme(e);
      if (extreme !== null) {
        // One i32x4.max/min where the select would take a compare and a bitselect; the result
        // reinterpreted back to the select's type (which renders to nothing).
        const { op, compareType, a, b } = extreme;
        const v: SimdExpr = { kind: "binary", op, type: lanes(compareType), a: vec(a), b: vec(b) };
        return compareType === e.type ? v : { kind: "convert", op: e.type === "u32" ? "u32.fromI32" : "i32.fromU32", type: lanes(e.type), arg: v };
      }
      return { kind: "select", type: lanes(e.type), cond: vec(e.cond), then: vec(e.then), else: vec(e.else) };
    }
    case "convert":
      return { kind: "convert", op: e.op, type: lanes(e.type), arg: vec(e.arg) };
    default:
      return refuse(`a ${e.kind} node`);
  }
}

/**
 * The 4×4 transpose of 4 vectors of `type`: vector j of the result holds lane j of each row (lane
 * k from rows[k]). By lane selections of two vectors each, which the renderer makes one shuffle
 * apiece: 8 in all. Its own inverse. `bind` names each intermediate ("pairs", then "at").
 */
export function transpose4(rows: readonly SimdExpr[], type: ScalarType, bind: (hint: string, v: SimdExpr) => SimdExpr): SimdExpr[] {
  const vector = vectorOf(type);
  const pick = (pairs: readonly (readonly [SimdExpr, number])[]): SimdExpr => ({
    kind: "lanes",
    type: vector,
    args: pairs.map(([arg, lane]) => ({ kind: "extract", type, lane, arg })) as unknown as readonly [SimdExpr, SimdExpr, SimdExpr, SimdExpr],
  });
  // [a0 b0 a1 b1], [a2 b2 a3 b3], then the same of c and d; then [a_j b_j c_j d_j].
  const low = (x: SimdExpr, y: SimdExpr) => bind("pairs", pick([[x, 0], [y, 0], [x, 1], [y, 1]]));
  const high = (x: SimdExpr, y: SimdExpr) => bind("pairs", pick([[x, 2], [y, 2], [x, 3], [y, 3]]));
  const [ab01, ab23, cd01, cd23] = [low(rows[0], rows[1]), high(rows[0], rows[1]), low(rows[2], rows[3]), high(rows[2], rows[3])];
  const column = (x: SimdExpr, y: SimdExpr, first: number) => bind("at", pick([[x, first], [x, first + 1], [y, first], [y, first + 1]]));
  return [column(ab01, cd01, 0), column(ab01, cd01, 2), column(ab23, cd23, 0), column(ab23, cd23, 2)];
}

/** A reinterpretation between i32 and u32 (the same 32 bits), or null. */
function reinterpreted(e: Expr): Expr | null {
  return e.kind === "convert" && (e.op === "i32.fromU32" || e.op === "u32.fromI32") ? e.arg : null;
}

/**
 * A select that is exactly an integer maximum or minimum — select(X(a) > X(b), a, b) is max(X(a),
 * X(b)) in X's order, X the identity or one i32/u32 reinterpretation on both sides (> or ≥ keep
 * the larger, < or ≤ the smaller; swapped arms the other) — as the operation on X(a) and X(b), or
 * null. Exact: the order is total and equal integers are the same bits, so which arm a tie takes
 * cannot show. Floats never match (NaN compares false, and −0 = +0 with different bits).
 */
export function integerExtreme(e: Expr & { kind: "select" }): { op: "max" | "min"; compareType: "i32" | "u32"; a: Expr; b: Expr } | null {
  const { cond } = e;
  if ((e.type !== "i32" && e.type !== "u32") || cond.kind !== "compare" || (cond.type !== "i32" && cond.type !== "u32")) return null;
  if (cond.op === "eq" || cond.op === "ne") return null;
  /** x as cond's operand y: y itself when the types agree, else y must reinterpret x. */
  const operandOf = (x: Expr, y: Expr) => {
    if (typeOf(x) === cond.type) return same(x, y);
    const of = reinterpreted(y);
    return of !== null && same(of, x);
  };
  const larger = cond.op === "gt" || cond.op === "ge";
  let op: "max" | "min";
  if (operandOf(e.then, cond.a) && operandOf(e.else, cond.b)) op = larger ? "max" : "min";
  else if (operandOf(e.then, cond.b) && operandOf(e.else, cond.a)) op = larger ? "min" : "max";
  else return null;
  return { op, compareType: cond.type, a: cond.a, b: cond.b };
}

