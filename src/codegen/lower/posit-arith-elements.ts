/**
 * Elementwise posit arithmetic kernels in integer IR, bit-identical to dsl/semantics/posit-arith.ts
 * (positOp) on every target:
 *
 *   posit_add(a, b, out, count)   posit_sub(…)   posit_mul(…)   posit_div(…)
 *   posit_fma(a, b, c, out, count)  — a·b + c rounded once
 *   posit_sqrt(a, out, count)
 *
 * add, sub, mul and fma sum their exact terms in a quire (posit-arith-parts.ts; an addend x is the
 * product x·1), so each is exact and rounded once by construction. div forms 32 quotient bits
 * after the leading one by restoring long division of the significands (the remainder is the
 * sticky bit); sqrt forms a 31-bit root digit by digit (two radicand bits per step, the remainder
 * kept below 2^32 by the classic bound rem ≤ 2·root). Both then round with roundToCode.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { PositOp } from "../../dsl/semantics/posit-arith.ts";
import { and, asU32, bool, eq, ge, gt, i32, kernel, load, lt, ne, not, or, ref, select, shl, shr, sub, u32, type Builder } from "../ir/build.ts";
import type { Expr, Kernel, Param } from "../ir/nodes.ts";
import { codeStorage } from "./elementwise.ts";
import { decodeOperand, positArithShape, Quire, roundToCode, type PositArithShape, type PositOperand } from "./posit-arith-parts.ts";

const OPERANDS: Readonly<Record<PositOp, readonly string[]>> = { add: ["a", "b"], sub: ["a", "b"], mul: ["a", "b"], div: ["a", "b"], fma: ["a", "b", "c"], sqrt: ["a"] };

/** The kernel `posit_<op>` of a posit format: out[i] = op(operands[i]) for i < count. */
export function lowerPositOpElements(format: ResolvedFormat, op: PositOp): Kernel {
  const shape = positArithShape(format);
  const storage = codeStorage(format);
  const names = OPERANDS[op];
  const params: Param[] = [
    ...names.map((name): Param => ({ kind: "buffer", name, storage, access: "read" })),
    { kind: "buffer", name: "out", storage, access: "write" },
    { kind: "scalar", name: "count", type: "i32" },
  ];
  return kernel(`posit_${op}`, params, (b) => {
    b.for("i", i32(0), ref("i32", "count"), (i, body) => {
      const x = names.map((name) => decodeOperand(body, shape, load("u32", name, i)));
      const nar = x.reduce<Expr>((any, v) => or(any, v.isNar), bool(false));
      const code = lowerOp(body, shape, op, x);
      body.store("out", i, select(nar, u32(shape.nar), code));
    });
  });
}

/** The operand that stands for 1 in a quire sum (x = x·1). */
function unit(shape: PositArithShape): PositOperand {
  return { negative: bool(false), scale: i32(0), significand: u32(2 ** shape.fractionBits), isZero: bool(false), isNar: bool(false) };
}

/** −x (negation flips the sign of a decoded operand). */
const negated = (b: Builder, x: PositOperand): PositOperand => ({ ...x, negative: b.let("flipped", not(x.negative)) });

/** The result code for non-NaR operands (the caller selects NaR). */
function lowerOp(b: Builder, shape: PositArithShape, op: PositOp, [x, y, z]: readonly PositOperand[]): Expr {
  const sum = (terms: readonly [PositOperand, PositOperand][]) => {
    const quire = new Quire(b, shape);
    for (const [p, q] of terms) quire.addOperandProduct(b, p, q);
    return quire.round(b);
  };
  switch (op) {
    case "add":
      return sum([[x, unit(shape)], [y, unit(shape)]]);
    case "sub":
      return sum([[x, unit(shape)], [negated(b, y), unit(shape)]]);
    case "mul":
      return sum([[x, y]]);
    case "fma":
      return sum([[x, y], [z, unit(shape)]]);
    case "div":
      return lowerDiv(b, shape, x, y);
    case "sqrt":
      return lowerSqrt(b, shape, x);
  }
}

/** x / y: NaR for y = 0 (x = NaR is the caller's), 0 for x = 0, else the rounded quotient. */
function lowerDiv(b: Builder, shape: PositArithShape, x: PositOperand, y: PositOperand): Expr {
  // Significands have F+1 ≤ 30 bits: num < 2·sigY < 2^31 and rem·2 < 2^31 stay exact in u32.
  const divisor = b.let("divisor", select(y.isZero, u32(1), y.significand)); // any nonzero value: the result is replaced
  const adjust = b.let("div_adjust", lt(x.significand, divisor));
  const numerator = select(adjust, shl(x.significand, u32(1)), x.significand);
  const rem = b.var("div_rem", sub(numerator, divisor)); // quotient's integer bit is 1
  const fraction = b.var("div_fraction", u32(0));
  b.for("q", i32(0), i32(32), (_, step) => {
    const doubled = step.let("div_doubled", shl(rem.ref, u32(1)));
    const fits = step.let("div_fits", ge(doubled, divisor));
    step.assign(rem.name, select(fits, sub(doubled, divisor), doubled));
    step.assign(fraction.name, or(shl(fraction.ref, u32(1)), asU32(fits)));
  });
  const scale = sub(sub(x.scale, y.scale), select(adjust, i32(1), i32(0)));
  const code = roundToCode(b, shape, b.let("div_negative", ne(x.negative, y.negative)), b.let("div_scale", scale), fraction.ref, ne(rem.ref, u32(0)));
  return select(y.isZero, u32(shape.nar), select(x.isZero, u32(0), code));
}

/** √x: NaR for x < 0, 0 for 0, else the rounded root. */
function lowerSqrt(b: Builder, shape: PositArithShape, x: PositOperand): Expr {
  const F = shape.fractionBits;
  // x = (m / 2^F)·2^s' with s' even and m / 2^F in [1, 4); the radicand m·2^(60−F) < 2^62 is two words.
  const odd = b.let("sqrt_odd", ne(and(x.scale, i32(1)), i32(0)));
  const m = b.let("sqrt_m", select(odd, shl(x.significand, u32(1)), x.significand));
  const even = b.let("sqrt_even_scale", sub(x.scale, select(odd, i32(1), i32(0))));
  const shift = 60 - F; // 31 … 60
  const high = b.let("sqrt_high", shift >= 32 ? shl(m, u32(shift - 32)) : shr(m, u32(32 - shift)));
  const low = b.let("sqrt_low", shift >= 32 ? u32(0) : shl(m, u32(shift)));
  const rem = b.var("sqrt_rem", u32(0));
  const root = b.var("sqrt_root", u32(0));
  // Two radicand bits per step from the top; root and rem < 2^32 after every step (rem ≤ 2·root).
  b.for("d", i32(0), i32(32), (d, step) => {
    const pairIndex = step.let("sqrt_pair_index", sub(i32(31), d)); // 31 … 0
    const fromHigh = ge(pairIndex, i32(16));
    const pair = and(select(fromHigh, shr(high, asU32(shl(sub(pairIndex, i32(16)), i32(1)))), shr(low, asU32(shl(pairIndex, i32(1))))), u32(3));
    // R = 4·rem + pair and T = 4·root + 1 as (2-bit high, 32-bit low) pairs.
    const rHigh = step.let("sqrt_r_high", shr(rem.ref, u32(30)));
    const rLow = step.let("sqrt_r_low", or(shl(rem.ref, u32(2)), pair));
    const tHigh = step.let("sqrt_t_high", shr(root.ref, u32(30)));
    const tLow = step.let("sqrt_t_low", or(shl(root.ref, u32(2)), u32(1)));
    const fits = step.let("sqrt_fits", or(gt(rHigh, tHigh), and(eq(rHigh, tHigh), ge(rLow, tLow))));
    step.assign(rem.name, select(fits, sub(rLow, tLow), rLow));
    step.assign(root.name, or(shl(root.ref, u32(1)), asU32(fits)));
  });
  // root = ⌊√(x·2^60 / 2^s')⌋ has its leading one at bit 30: the 30 bits below it, left-aligned.
  const fraction = shl(root.ref, u32(2));
  const scale = b.let("sqrt_scale", shr(even, i32(1)));
  const code = roundToCode(b, shape, bool(false), scale, fraction, ne(rem.ref, u32(0)));
  return select(x.negative, u32(shape.nar), select(x.isZero, u32(0), code));
}
