/**
 * The register-tiled micro-kernel: mr×nr accumulators held in locals, a k loop whose body is
 * fully unrolled at lowering time (mr + nr reads, mr·nr multiply-adds), and the epilogue that
 * merges the tile into C — unguarded for full tiles, element-guarded at the m/n edges.
 */
import { add, and, convert, eq, f32, ge, i32, load, mul, ne, not, select, typeOf, widen, type Builder } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { scaleByPow2 } from "../pow2.ts";
import { plus, type Accumulation, type SliverSource } from "./panels.ts";

/**
 * Emits the k loop and returns the accumulators, acc[i][j] = Σ_p product(a(i, p), b(p, j)) in order of p,
 * in the accumulation's type (an f64 accumulator widens the mr + nr values of a step once each,
 * so every product is exact and only the sums round).
 */
export function lowerMicroKernel(
  b: Builder,
  accumulation: Accumulation,
  mr: number,
  nr: number,
  depth: Expr,
  a: SliverSource,
  bSource: SliverSource,
  unroll = 1,
  product: (a: Expr, b: Expr) => Expr = mul,
): Expr[][] {
  const acc = Array.from({ length: mr }, () => Array.from({ length: nr }, () => b.var("acc", accumulation.zero)));
  b.for("p", i32(0), depth, (p, body) => {
    const wide = (values: readonly Expr[]) => (accumulation.type === "f64" ? values.map((v) => body.let("w", widen(v))) : values);
    const steps = Array.from({ length: unroll }, (_, u) => ({ a: wide(a.values(body, p, u)), b: wide(bSource.values(body, p, u)) }));
    // One update per accumulator and iteration, the unrolled steps chained in order of k.
    for (let i = 0; i < mr; i++) {
      for (let j = 0; j < nr; j++) {
        const sum = steps.reduce((s, step) => add(s, product(step.a[i], step.b[j])), acc[i][j].ref);
        body.assign(acc[i][j].name, sum);
      }
    }
    a.advance(body, unroll);
    bSource.advance(body, unroll);
  }, unroll);
  return acc.map((row) => row.map((v) => v.ref));
}

/** Where the tile lands: C index of element (i, j) is base + rowOffsets[i] + j; rows/cols left. */
export interface TilePlacement {
  readonly base: Expr;
  readonly rowOffsets: readonly Expr[];
  readonly rowsLeft: Expr;
  readonly colsLeft: Expr;
}

/**
 * Emits `store(i, j, index)` for each element of an mr×nr tile inside C: straight-line for a
 * full tile, each row and column guarded at an edge.
 */
export function forTileElements(
  b: Builder,
  mr: number,
  nr: number,
  place: TilePlacement,
  store: (b: Builder, i: number, j: number, index: Expr) => void,
): void {
  const index = (i: number, j: number) => plus(plus(place.base, place.rowOffsets[i]), i32(j));
  b.if(
    and(ge(place.rowsLeft, i32(mr)), ge(place.colsLeft, i32(nr))),
    (full) => {
      for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) store(full, i, j, index(i, j));
    },
    (edge) => {
      const row = (inner: Builder, i: number) => {
        const cols = (ib: Builder, j: number) => {
          if (j >= nr) return;
          const emit = (jb: Builder) => {
            store(jb, i, j, index(i, j));
            cols(jb, j + 1);
          };
          // Column j exists only if colsLeft > j; column 0 always does.
          if (j === 0) emit(ib);
          else ib.if(ge(place.colsLeft, i32(j + 1)), emit);
        };
        cols(inner, 0);
      };
      for (let i = 0; i < mr; i++) {
        if (i === 0) row(edge, 0);
        else edge.if(ge(place.rowsLeft, i32(i + 1)), (inner) => row(inner, i));
      }
    },
  );
}

/**
 * How a tile value merges into C during one k block: C ← α·v + cScale·C, or C ← α·v when C
 * must not be read (β = 0 in the first block, so NaNs in C are ignored as BLAS does). α and
 * cScale have the tile value's type (f32, or f64 for an f64 accumulator).
 */
export interface Merge {
  readonly alpha: Expr;
  readonly cScale: Expr;
  readonly readC: Expr;
}

/**
 * The merge of the first k block (C scaled by β) or of a later one (C kept); `alpha` is already
 * of the accumulator's type, β is the f32 parameter (widened here for an f64 accumulator).
 */
export function blockMerge(b: Builder, alpha: Expr, beta: Expr, first: Expr): Merge {
  const scale = select(first, beta, f32(1));
  return {
    alpha,
    cScale: b.let("c_scale", typeOf(alpha) === "f64" ? widen(scale) : scale),
    readC: b.let("read_c", not(and(first, eq(beta, f32(0))))),
  };
}

/**
 * Emits C[index] ← merge of the value v: in f32 for an f32 v; for an f64 v the whole merge is in
 * f64 (cScale·C is exact there) and rounds to f32 once, when stored.
 */
export function storeMerged(b: Builder, c: string, at: Expr, v: Expr, merge: Merge): void {
  const index = b.let("ci", at);
  const scaled = b.let("av", mul(merge.alpha, v));
  const cv = load("f32", c, index);
  const merged = select(merge.readC, add(scaled, mul(merge.cScale, typeOf(v) === "f64" ? widen(cv) : cv)), scaled);
  b.store(c, index, typeOf(v) === "f64" ? convert("f32.fromF64", merged) : merged);
}

/** The i32 partial sums of the k blocks done so far: element (i, j) at base + rowOffsets[i] + j. */
export interface Carry {
  readonly buffer: string;
  readonly base: Expr;
  readonly rowOffsets: readonly Expr[];
}

export interface IntegerMerge {
  /** This is the first / the last k block (bool). */
  readonly first: Expr;
  readonly last: Expr;
  readonly alpha: Expr;
  readonly beta: Expr;
  /** The product's value is sum·2^scaleLog2. */
  readonly scaleLog2: number;
  /**
   * Lane-scaled operands (ShiftQuant): emits, at the start of a finishing block, whatever the
   * tile needs and returns the i32 exponent e(i, j) of tile element (i, j); its value is then
   * sum·2^(scaleLog2 + e). Absent: e = 0.
   */
  readonly laneExponents?: (b: Builder) => (i: number, j: number) => Expr;
  readonly carry: Carry;
}

/**
 * The integer path's merge: the exact i32 sum is carried across k blocks (wrapping i32 adds are
 * exact while the final |sum| < 2^31) and C ← α·f32(sum)·2^(scaleLog2 + e) + β·C once, in the
 * last block (e = 0 unless lane-scaled, see IntegerMerge.laneExponents).
 */
export function lowerIntegerMerge(b: Builder, mr: number, nr: number, place: TilePlacement, sums: readonly (readonly Expr[])[], m: IntegerMerge): void {
  // C is untouched until the last k block, so the merge always applies β.
  const merge: Merge = { alpha: m.alpha, cScale: m.beta, readC: ne(m.beta, f32(0)) };
  const carried = (i: number, j: number) => plus(plus(m.carry.base, m.carry.rowOffsets[i]), i32(j));
  // The tile's stores in a finishing block: the lane exponents (if any) are emitted once per block.
  const finishing = (block: Builder, total: (s: Builder, i: number, j: number) => Expr) => {
    const exponent = m.laneExponents?.(block);
    forTileElements(block, mr, nr, place, (s, i, j, at) =>
      storeMerged(s, "c", at, integerToF32(s, total(s, i, j), m.scaleLog2, exponent?.(i, j)), merge));
  };
  b.if(
    m.first,
    (first) =>
      first.if(
        m.last,
        // One k block (k ≤ kc): nothing carried in or out.
        (only) => finishing(only, (_s, i, j) => sums[i][j]),
        (start) => forTileElements(start, mr, nr, place, (s, i, j) => s.store(m.carry.buffer, carried(i, j), sums[i][j])),
      ),
    (later) =>
      later.if(
        m.last,
        (end) => finishing(end, (s, i, j) => s.let("total", add(sums[i][j], load("i32", m.carry.buffer, carried(i, j))))),
        (middle) =>
          forTileElements(middle, mr, nr, place, (s, i, j) => {
            const index = s.let("carry_i", carried(i, j));
            s.store(m.carry.buffer, index, add(sums[i][j], load("i32", m.carry.buffer, index)));
          }),
      ),
  );
}

/**
 * The f32 value of an exact i32 sum of integer products: f32(sum)·2^scaleLog2, or with a run-time
 * i32 exponent e, f32(sum)·2^(scaleLog2 + e) scaled in two exact steps (scaleByPow2), so the
 * only roundings are f32(sum) (for |sum| > 2^24) and a result beyond the normal range.
 */
export function integerToF32(b: Builder, sum: Expr, scaleLog2: number, exponent?: Expr): Expr {
  const v = convert("f32.fromI32", sum);
  if (exponent !== undefined) return scaleByPow2(b, b.let("iv", v), scaleLog2 === 0 ? exponent : add(exponent, i32(scaleLog2)));
  return b.let("iv", scaleLog2 === 0 ? v : mul(v, f32(2 ** scaleLog2)));
}
