/**
 * Operand panels of the GEMM schedule: packing (decode each element once into a contiguous
 * panel of r-lane slivers, zero-padded past the matrix edge) and the per-k-step reads of the
 * micro-kernel, from a packed sliver or, with pack off, from the operand itself.
 *
 * A and B are handled alike through their "lane" dimension (rows of op(A), columns of op(B):
 * the register tile's extent) and their "depth" dimension (the k of the product).
 */
import { add, f32, f64, i32, load, lt, min, mul, select, sub, type Builder } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import type { ElementReader } from "./operand.ts";

/** a + b, or a itself when b is the constant 0 (keeps the generated index arithmetic lean). */
export function plus(a: Expr, b: Expr): Expr {
  return b.kind === "const" && b.value === 0 ? a : add(a, b);
}

/**
 * How values are accumulated: f32 or f64 (floats, posits, mixed; the schedule's choice) or exact
 * i32 (two integer operands). Operands are read, packed and multiplied as `operand` values; an
 * f64 accumulator widens each read value exactly before its products.
 */
export interface Accumulation {
  readonly type: "f32" | "f64" | "i32";
  readonly zero: Expr;
  /** The type of the values read from the operands and held in the packed panels. */
  readonly operand: "f32" | "i32";
  /** The operand type's zero (padding past the matrix edge). */
  readonly operandZero: Expr;
}

export const F32_ACCUMULATION: Accumulation = { type: "f32", zero: f32(0), operand: "f32", operandZero: f32(0) };
export const F64_ACCUMULATION: Accumulation = { type: "f64", zero: f64(0), operand: "f32", operandZero: f32(0) };
export const I32_ACCUMULATION: Accumulation = { type: "i32", zero: i32(0), operand: "i32", operandZero: i32(0) };

/** One operand seen by the schedule (all strides are kernel-level i32 values). */
export interface OperandView {
  readonly reader: ElementReader;
  readonly accumulation: Accumulation;
  /** Extent of the lane dimension (m for A, n for B). */
  readonly lanes: Expr;
  /** Buffer stride between consecutive lanes and between consecutive depth steps. */
  readonly laneStride: Expr;
  readonly depthStride: Expr;
  /** i·laneStride for i < r, bound once at kernel level. */
  readonly laneOffsets: readonly Expr[];
  /** The element's stored (row, col) for a lane and depth (A: (lane, depth), B: (depth, lane), swapped when transposed). */
  readonly stored: (lane: Expr, depth: Expr) => { readonly row: Expr; readonly col: Expr };
}

/** The operand value the accumulation multiplies: the f32 value or the i32 integer. */
function read(b: Builder, view: OperandView, index: Expr, lane: Expr, depth: Expr): Expr {
  const { row, col } = view.stored(lane, depth);
  const site = { index, storedRow: row, storedCol: col };
  return view.accumulation.operand === "i32" ? view.reader.integer(b, site) : view.reader.value(b, site);
}

/**
 * Packs lanes [laneStart, laneStart + laneCount) × depth [depthStart, depthStart + depth) into
 * `panel`: sliver s (r lanes) at s·depth, element (p, i) at s·depth + p·r + i, decoded once.
 */
export function lowerPackPanel(
  b: Builder,
  view: OperandView,
  panel: string,
  r: number,
  laneStart: Expr,
  laneCount: Expr,
  depthStart: Expr,
  depth: Expr,
): void {
  b.for("sliver", i32(0), laneCount, (s, body) => {
    const firstLane = body.let("lane0", add(laneStart, s));
    const dst = body.var("dst", mul(s, depth));
    const depthBase = body.let("depth_base", mul(depthStart, view.depthStride));
    body.if(
      lt(sub(laneCount, s), i32(r)),
      (edge) => {
        // Lanes past the edge read a clamped (valid) element and store zero.
        const last = edge.let("last_lane", sub(view.lanes, i32(1)));
        const lanes = Array.from({ length: r }, (_, i) => edge.let("lane", plus(firstLane, i32(i))));
        const valid = lanes.map((lane) => edge.let("valid", lt(lane, view.lanes)));
        const bases = lanes.map((lane) => edge.let("base", add(mul(min(lane, last), view.laneStride), depthBase)));
        const offset = edge.var("off", i32(0));
        edge.for("p", i32(0), depth, (p, inner) => {
          const at = add(depthStart, p);
          for (let i = 0; i < r; i++) {
            const v = read(inner, view, add(bases[i], offset.ref), lanes[i], at);
            inner.store(panel, plus(dst.ref, i32(i)), select(valid[i], v, view.accumulation.operandZero));
          }
          inner.assign(offset.name, add(offset.ref, view.depthStride));
          inner.assign(dst.name, add(dst.ref, i32(r)));
        });
      },
      (full) => {
        const src = full.var("src", add(mul(firstLane, view.laneStride), depthBase));
        full.for("p", i32(0), depth, (p, inner) => {
          const at = add(depthStart, p);
          for (let i = 0; i < r; i++) {
            inner.store(panel, plus(dst.ref, i32(i)), read(inner, view, plus(src.ref, view.laneOffsets[i]), plus(firstLane, i32(i)), at));
          }
          inner.assign(src.name, add(src.ref, view.depthStride));
          inner.assign(dst.name, add(dst.ref, i32(r)));
        });
      },
    );
  }, r);
}

/** The r values of one k step of the micro-kernel, and how to move to the next step. */
export interface SliverSource {
  /** Emits the reads of step `p` (let-bound) and returns them. */
  values(b: Builder, p: Expr): readonly Expr[];
  /** Emits the pointer updates after a step. */
  advance(b: Builder): void;
}

/** Reads a packed sliver starting at `offset` (r values per step). */
export function packedSliver(b: Builder, panel: string, type: "f32" | "i32", r: number, offset: Expr): SliverSource {
  const ptr = b.var("ptr", offset);
  return {
    values: (inner) => Array.from({ length: r }, (_, i) => inner.let("v", load(type, panel, plus(ptr.ref, i32(i))))),
    advance: (inner) => inner.assign(ptr.name, add(ptr.ref, i32(r))),
  };
}

/**
 * Reads r lanes of the operand in place, decoding at every step (pack off). Lanes past the edge
 * read the last valid lane; their accumulators are never stored.
 */
export function unpackedSliver(b: Builder, view: OperandView, r: number, firstLane: Expr, depthStart: Expr): SliverSource {
  const last = b.let("last_lane", sub(view.lanes, i32(1)));
  const depthBase = b.let("depth_base", mul(depthStart, view.depthStride));
  const lanes = Array.from({ length: r }, (_, i) => b.let("lane", min(plus(firstLane, i32(i)), last)));
  const pointers = lanes.map((lane) => b.var("src", add(mul(lane, view.laneStride), depthBase)));
  return {
    values: (inner, p) => pointers.map((ptr, i) => inner.let("v", read(inner, view, ptr.ref, lanes[i], add(depthStart, p)))),
    advance: (inner) => {
      for (const ptr of pointers) inner.assign(ptr.name, add(ptr.ref, view.depthStride));
    },
  };
}
