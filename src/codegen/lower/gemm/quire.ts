/**
 * Quire GEMM of posits lowered to integer IR (dsl/semantics/posit-arith-quire.ts is its
 * definition): C[i·n + j] = round(Σ_p A[i·k + p]·B[p·n + j]), every product exact, summed in a
 * quire of u32 limbs (posit-arith-parts.ts) in order of p, rounded once per output; an output
 * whose dot product meets NaR is NaR. Integer sums do not depend on the order, so every target
 * (and every schedule) gives the same codes.
 *
 * Kernel `quire_gemm(a, b, c, m, n, k)`: A m×k, B k×n, C m×n, row-major code buffers of the
 * format's code storage; one loop over the m·n outputs, each whole in one iteration (WGSL runs
 * them across invocations), exact for k ≤ 2^31 − 1.
 */
import type { ResolvedFormat } from "../../../dsl/resolved.ts";
import { add, asU32, div, i32, kernel, load, mul, ne, or, ref, select, sub, u32 } from "../../ir/build.ts";
import type { Kernel } from "../../ir/nodes.ts";
import { codeStorage } from "../elementwise.ts";
import { decodeOperand, positArithShape, Quire } from "../posit-arith-parts.ts";

/** The quire GEMM kernel of a posit format (throws for a non-posit format). */
export function lowerQuireGemm(format: ResolvedFormat, name = "quire_gemm"): Kernel {
  const shape = positArithShape(format);
  const storage = codeStorage(format);
  return kernel(
    name,
    [
      { kind: "buffer", name: "a", storage, access: "read" },
      { kind: "buffer", name: "b", storage, access: "read" },
      { kind: "buffer", name: "c", storage, access: "write" },
      { kind: "scalar", name: "m", type: "i32" },
      { kind: "scalar", name: "n", type: "i32" },
      { kind: "scalar", name: "k", type: "i32" },
    ],
    (b) => {
      const m = ref("i32", "m");
      const n = ref("i32", "n");
      const k = ref("i32", "k");
      b.for("t", i32(0), mul(m, n), (t, out) => {
        const i = out.let("row", div(t, n));
        const j = out.let("column", sub(t, mul(i, n)));
        const quire = new Quire(out, shape);
        const nar = out.var("nar", u32(0));
        out.for("p", i32(0), k, (p, step) => {
          const x = decodeOperand(step, shape, load("u32", "a", add(mul(i, k), p)));
          const y = decodeOperand(step, shape, load("u32", "b", add(mul(p, n), j)));
          step.assign(nar.name, or(nar.ref, asU32(or(x.isNar, y.isNar))));
          quire.addOperandProduct(step, x, y);
        });
        const code = quire.round(out);
        out.store("c", t, select(ne(nar.ref, u32(0)), u32(shape.nar), code));
      });
    },
  );
}
