/**
 * Operand panels of the GEMM schedule: packing (decode each element once into a contiguous
 * panel of r-lane slivers, zero-padded past the matrix edge) and the per-k-step reads of the
 * micro-kernel, from a packed sliver or, with pack off, from the operand itself.
 *
 * A and B are handled alike through their "lane" dimension (rows of op(A), columns of op(B):
 * the register tile's extent) and their "depth" dimension (the k of the product).
 */
import { add, and, eq, f32, f64, i32, load, lt, min, mul, or, select, shl, shr, sub, type Builder } from "../../ir/build.ts";
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
 * `panel`: sliver s (r lanes) at s·paddedDepth, element (p, i) at s·paddedDepth + p·r + i,
 * decoded once; steps [depth, paddedDepth) are zeros (see GemmSchedule.unroll).
 * `vector` is the schedule's (see GemmSchedule.vector): it changes the code's shape, not the panel.
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
  paddedDepth: Expr,
  vector = 1,
): void {
  b.for("sliver", i32(0), laneCount, (s, body) => {
    const firstLane = body.let("lane0", add(laneStart, s));
    const dst = body.var("dst", mul(s, paddedDepth));
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
        const sliver = (offsets: readonly Expr[]) => (block: Builder) => {
          const src = block.var("src", add(mul(firstLane, view.laneStride), depthBase));
          block.for("p", i32(0), depth, (p, inner) => {
            const at = add(depthStart, p);
            for (let i = 0; i < r; i++) {
              inner.store(panel, plus(dst.ref, i32(i)), read(inner, view, plus(src.ref, offsets[i]), plus(firstLane, i32(i)), at));
            }
            inner.assign(src.name, add(src.ref, view.depthStride));
            inner.assign(dst.name, add(dst.ref, i32(r)));
          });
        };
        // A vector schedule spells out the unit-stride case (B as stored, Aᵀ) with constant lane
        // offsets, so a SIMD target sees 4 consecutive reads per 4 consecutive stores.
        if (vector > 1) full.if(eq(view.laneStride, i32(1)), sliver(Array.from({ length: r }, (_, i) => i32(i))), sliver(view.laneOffsets));
        else sliver(view.laneOffsets)(full);
      },
    );
    if (paddedDepth !== depth) {
      body.for("pad", depth, paddedDepth, (_p, inner) => {
        for (let i = 0; i < r; i++) inner.store(panel, plus(dst.ref, i32(i)), view.accumulation.operandZero);
        inner.assign(dst.name, add(dst.ref, i32(r)));
      });
    }
  }, r);
}

/**
 * Packs like lowerPackPanel, but integer operands as pairs of k steps in one i32 word: pair q of
 * lane i at s·paddedSteps + q·r + i holds step 2q in its low 16 bits and step 2q + 1 in its high
 * 16 bits (zero past an odd depth); pairs [⌈depth/2⌉, paddedSteps) are zeros. Every value must
 * fit in 16 signed bits.
 */
export function lowerPackPairs(
  b: Builder,
  view: OperandView,
  panel: string,
  r: number,
  laneStart: Expr,
  laneCount: Expr,
  depthStart: Expr,
  depth: Expr,
  paddedSteps: Expr,
  vector = 1,
): void {
  const word = (lo: Expr, hi: Expr | null) => (hi === null ? and(lo, i32(0xffff)) : or(and(lo, i32(0xffff)), shl(hi, i32(16))));
  const fullPairs = b.let("full_pairs", shr(depth, i32(1)));
  const odd = b.let("odd_depth", eq(and(depth, i32(1)), i32(1)));
  b.for("sliver", i32(0), laneCount, (s, body) => {
    const firstLane = body.let("lane0", add(laneStart, s));
    const dst = body.var("dst", mul(s, paddedSteps));
    const depthBase = body.let("depth_base", mul(depthStart, view.depthStride));
    const pairStride = body.let("pair_stride", add(view.depthStride, view.depthStride));
    // Emits the words of the full pairs and of the odd last step, reading lane i at base + offsets[i]
    // and storing keep(i, value) (zero for lanes past the edge).
    const emit = (block: Builder, base: Expr, offsets: readonly Expr[], keep: (i: number, v: Expr) => Expr) => {
      const src = block.var("src", base);
      const read1 = (inner: Builder, index: Expr, i: number, depthAt: Expr) => keep(i, read(inner, view, index, plus(firstLane, i32(i)), depthAt));
      block.for("q", i32(0), fullPairs, (q, inner) => {
        const at = add(depthStart, add(q, q));
        const srcHi = inner.let("src_hi", add(src.ref, view.depthStride));
        for (let i = 0; i < r; i++) {
          const lo = read1(inner, plus(src.ref, offsets[i]), i, at);
          const hi = read1(inner, plus(srcHi, offsets[i]), i, add(at, i32(1)));
          inner.store(panel, plus(dst.ref, i32(i)), word(lo, hi));
        }
        inner.assign(src.name, add(src.ref, pairStride));
        inner.assign(dst.name, add(dst.ref, i32(r)));
      });
      block.if(odd, (tail) => {
        const at = add(depthStart, sub(depth, i32(1)));
        for (let i = 0; i < r; i++) tail.store(panel, plus(dst.ref, i32(i)), word(read1(tail, plus(src.ref, offsets[i]), i, at), null));
        tail.assign(dst.name, add(dst.ref, i32(r)));
      });
    };
    body.if(
      lt(sub(laneCount, s), i32(r)),
      (edge) => {
        // Lanes past the edge read a clamped (valid) element and store zero.
        const last = edge.let("last_lane", sub(view.lanes, i32(1)));
        const valid = Array.from({ length: r }, (_, i) => edge.let("valid", lt(plus(firstLane, i32(i)), view.lanes)));
        const offsets = Array.from({ length: r }, (_, i) => edge.let("lane_off", mul(sub(min(plus(firstLane, i32(i)), last), firstLane), view.laneStride)));
        emit(edge, add(mul(firstLane, view.laneStride), depthBase), offsets, (i, v) => select(valid[i], v, i32(0)));
      },
      (full) => {
        const base = add(mul(firstLane, view.laneStride), depthBase);
        const plain = (_i: number, v: Expr) => v;
        if (vector > 1) {
          full.if(
            eq(view.laneStride, i32(1)),
            (unit) => emit(unit, base, Array.from({ length: r }, (_, i) => i32(i)), plain),
            (strided) => emit(strided, base, view.laneOffsets, plain),
          );
        } else emit(full, base, view.laneOffsets, plain);
      },
    );
    body.for("pad", add(fullPairs, select(odd, i32(1), i32(0))), paddedSteps, (_p, inner) => {
      for (let i = 0; i < r; i++) inner.store(panel, plus(dst.ref, i32(i)), i32(0));
      inner.assign(dst.name, add(dst.ref, i32(r)));
    });
  }, r);
}

/** lo·lo + hi·hi of two packed pair words (16-bit halves, sign-extended): one pair step's product. */
export function pairProduct(a: Expr, b: Expr): Expr {
  const lo = (x: Expr) => shr(shl(x, i32(16)), i32(16));
  const hi = (x: Expr) => shr(x, i32(16));
  return add(mul(lo(a), lo(b)), mul(hi(a), hi(b)));
}

/** The r values of one k step of the micro-kernel, and how to move to the next step. */
export interface SliverSource {
  /** Emits the reads of step p + u (let-bound; u < the steps of one advance) and returns them. */
  values(b: Builder, p: Expr, u: number): readonly Expr[];
  /** Emits the pointer updates after `steps` k steps. */
  advance(b: Builder, steps: number): void;
}

/** Reads a packed sliver starting at `offset` (r values per step). */
export function packedSliver(b: Builder, panel: string, type: "f32" | "i32", r: number, offset: Expr): SliverSource {
  const ptr = b.var("ptr", offset);
  return {
    values: (inner, _p, u) => Array.from({ length: r }, (_, i) => inner.let("v", load(type, panel, plus(ptr.ref, i32(u * r + i))))),
    advance: (inner, steps) => inner.assign(ptr.name, add(ptr.ref, i32(steps * r))),
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
    values: (inner, p, u) => {
      if (u !== 0) throw new Error("GEMM: an unpacked operand is read one k step at a time");
      return pointers.map((ptr, i) => inner.let("v", read(inner, view, ptr.ref, lanes[i], add(depthStart, p))));
    },
    advance: (inner, steps) => {
      if (steps !== 1) throw new Error("GEMM: an unpacked operand is read one k step at a time");
      for (const ptr of pointers) inner.assign(ptr.name, add(ptr.ref, view.depthStride));
    },
  };
}
