/**
 * A declared accumulator's GEMM on float32 operands, for the JS and wasm targets: C row by row, the
 * depth walked in k order, and for each depth step t every output of the row updated at once —
 *
 *   for i:  sums[j] = 0 (totals[j] = 0, compensations[j] = 0)
 *     for each promotion block [t0, t0 + N) of the depth (one block of k without promotion):
 *       for t in the block:  for j:  sums[j] ← acc(sums[j] + f32(op(A)(i, t) · op(B)(t, j)))
 *                                    (Kahan: the definition's four sums, compensations[j] its c)
 *       (promotion)          for j:  totals[j] ← f32(totals[j] + sums[j]); sums[j] ← +0 (c ← +0)
 *     for j:  C[i, j] ← f32(α·v) (+ f32(β·C[i, j]) when β ≠ 0), v = totals[j] or sums[j]
 *
 * Each output's products are summed in k order, one rounding to the format per sum, as
 * dsl/semantics/accumulate.ts defines it; only the order in which different outputs are visited
 * changes, which no output sees. Promoting after the last, partial block too leaves the result as
 * the definition's v = f32(F + s): F is never −0 (it starts at +0 and a float32 sum is −0 only
 * when both addends are), so f32(F + s) promoted is what v would be, and adding +0 afterwards
 * changes nothing. The innermost loops run over j with every access at j (op(B) first copied as
 * k×n rows, so consecutive j read consecutive elements), which the wasm vectorizer takes 4 outputs
 * at a time — with the IEEE form of the sum (lowerAccumulatorAdd `ieee`), which has no per-lane
 * shifts.
 */
import type { Accumulator } from "../../../dsl/semantics/accumulate.ts";
import { add, eq, f32, i32, load, min, mul, ne, neg, ref, select, sub, type Builder } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { lowerAccumulatorAdd } from "./accumulator.ts";

/** Scratch of the row kernel: op(B) as k×n rows, and for one row of C each output's running sum, promoted total and Kahan compensation. */
export const DECLARED_ROWS_SCRATCH = { rowsB: "packB", sums: "sums", totals: "totals", compensations: "compensations" } as const;

const { rowsB: ROWS_B, sums: SUMS, totals: TOTALS, compensations: COMPENSATIONS } = DECLARED_ROWS_SCRATCH;

/** The body of the row kernel, for α ≠ 0 and k > 0 (the caller's branch handles the rest). */
export function lowerDeclaredRows(b: Builder, accumulator: Accumulator, m: Expr, n: Expr, k: Expr, alpha: Expr, beta: Expr): void {
  const { format, promoteEvery, compensated } = accumulator;
  const promotes = promoteEvery !== null;
  const acc = (body: Builder, x: Expr, y: Expr) => lowerAccumulatorAdd(body, format, x, y, false, true);
  const transA = b.let("trans_a", ne(ref("i32", "transA"), i32(0)));
  copyRowsOfB(b, n, k);
  b.for("i", i32(0), m, (i, row) => {
    row.for("j", i32(0), n, (j, zero) => {
      zero.store(SUMS, j, f32(0));
      if (promotes) zero.store(TOTALS, j, f32(0));
      if (compensated) zero.store(COMPENSATIONS, j, f32(0));
    });
    // The caller keeps k ≤ 2^20 (MAX_DECLARED_ACCUMULATOR_K), so without promotion one block covers the depth.
    const block = promoteEvery ?? 2 ** 20;
    row.for(
      "t0",
      i32(0),
      k,
      (t0, blockBody) => {
        const end = blockBody.let("t_end", min(add(t0, i32(block)), k));
        blockBody.for("t", t0, end, (t, depth) => {
          const a = depth.let("a_it", load("f32", "a", select(transA, add(mul(t, m), i), add(mul(i, k), t))));
          const rowB = depth.let("b_row", mul(t, n));
          depth.for("j", i32(0), n, (j, sum) => {
            const product = sum.let("prod", mul(a, load("f32", ROWS_B, add(j, rowB))));
            const s = load("f32", SUMS, j);
            if (!compensated) {
              sum.store(SUMS, j, acc(sum, s, product));
              return;
            }
            const y = sum.let("kahan_y", acc(sum, product, neg(load("f32", COMPENSATIONS, j))));
            const u = sum.let("kahan_u", acc(sum, s, y));
            sum.store(COMPENSATIONS, j, acc(sum, acc(sum, u, neg(s)), neg(y)));
            sum.store(SUMS, j, u);
          });
        });
        if (promotes)
          blockBody.for("j", i32(0), n, (j, promote) => {
            promote.store(TOTALS, j, add(load("f32", TOTALS, j), load("f32", SUMS, j)));
            promote.store(SUMS, j, f32(0));
            if (compensated) promote.store(COMPENSATIONS, j, f32(0));
          });
      },
      block,
    );
    const base = row.let("c_row", mul(i, n));
    // C's row at its own index, the row's sums at that index less the row's start (an offset the vectorizer takes).
    const back = row.let("c_row_back", sub(i32(0), base));
    row.for("cj", base, add(base, n), (cj, merge) => {
      const scaled = merge.let("alpha_v", mul(alpha, load("f32", promotes ? TOTALS : SUMS, add(cj, back))));
      merge.store("c", cj, select(eq(beta, f32(0)), scaled, add(scaled, mul(beta, load("f32", "c", cj)))));
    });
  });
}

/** op(B) (B stored k×n, or n×k when transB ≠ 0) as k×n rows: a plain copy, or a transpose. */
function copyRowsOfB(b: Builder, n: Expr, k: Expr): void {
  const total = b.let("b_elements", mul(k, n));
  b.if(
    eq(ref("i32", "transB"), i32(0)),
    (copy) => copy.for("bi", i32(0), total, (bi, body) => body.store(ROWS_B, bi, load("f32", "b", bi))),
    (transpose) =>
      transpose.for("t", i32(0), k, (t, depth) => {
        const rowB = depth.let("b_row", mul(t, n));
        depth.for("tj", i32(0), n, (j, body) => body.store(ROWS_B, add(rowB, j), load("f32", "b", add(mul(j, k), t))));
      }),
  );
}
