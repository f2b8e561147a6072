/**
 * Declared GEMM accumulators in IR (the definition: dsl/semantics/accumulate.ts): one sum of the
 * accumulator's format, acc(x + y), and the micro-kernel that sums a tile's products in k order
 * with it — plain, compensated (Kahan) and promoted into fp32 every N products.
 *
 * acc(x + y) rounds the exact sum once: x + y is formed in float32 with round-to-odd in integer
 * arithmetic (the exact sum's truncation to 24 significant bits, its last bit forced to 1 when
 * anything was cut off; no f64, so WGSL runs it too, and no float identity a shader compiler could
 * fold), then rounded to the format by the element rounding lowering (lowerFakeQuantizeElement),
 * which rounds once more without changing the result since the format keeps at least 2 fewer bits.
 * An fp32 accumulator is the plain float32 addition (or, for WGSL, its nearest-even rounding of
 * the same integer sum: see lowerAccumulatorAdd).
 */
import type { ResolvedFormat } from "../../../dsl/resolved.ts";
import { isFloat32Accumulator, type Accumulator } from "../../../dsl/semantics/accumulate.ts";
import { add, and, asI32, asU32, bitsOf, clz, eq, f32, fromBits, ge, gt, i32, lt, max, min, mul, ne, neg, or, select, shl, shr, sub, u32, xor, type Builder } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { lowerFakeQuantizeElement } from "../fake-element.ts";
import type { SliverSource } from "./panels.ts";

const F32_EXPONENT_MASK = 0x7f800000;
const MAX_F32_BITS = 0x7f7fffff;

/**
 * x + y (finite f32 values) rounded to float32 with round-to-odd, as the bits of its magnitude and
 * whether it was inexact. Both significands get 3 guard bits; the smaller is shifted right with its
 * lost bits jammed into the last bit (sticky), which keeps the truncation and inexactness of the
 * sum exact; the result is renormalized (a carry shifts right once, cancellation left, exactly)
 * and denormalized below float32's normal range. Overflow gives the largest finite (odd) value.
 */
function roundedMagnitudes(b: Builder, x: Expr, y: Expr): { magnitude: Expr; nearest: Expr; sign: Expr; inexact: Expr } {
  const bx = b.let("ro_bx", bitsOf(x));
  const by = b.let("ro_by", bitsOf(y));
  const ax = b.let("ro_ax", and(bx, u32(0x7fffffff)));
  const ay = b.let("ro_ay", and(by, u32(0x7fffffff)));
  const swap = b.let("ro_swap", gt(ay, ax));
  const big = b.let("ro_big", select(swap, ay, ax));
  const small = b.let("ro_small", select(swap, ax, ay));
  const sign = b.let("ro_sign", shr(select(swap, by, bx), u32(31)));
  const field = (v: Expr) => b.let("ro_field", asI32(shr(v, u32(23))));
  const significand = (v: Expr, f: Expr) => or(and(v, u32(0x7fffff)), select(ne(f, i32(0)), u32(0x800000), u32(0)));
  const fb = field(big);
  const fs = field(small);
  const eb = b.let("ro_eb", max(fb, i32(1)));
  const d = b.let("ro_d", asU32(min(sub(eb, max(fs, i32(1))), i32(31))));
  const mb = b.let("ro_mb", shl(significand(big, fb), u32(3)));
  const ms = b.let("ro_ms", shl(significand(small, fs), u32(3)));
  const lost = ne(and(ms, sub(shl(u32(1), d), u32(1))), u32(0));
  const aligned = b.let("ro_aligned", or(shr(ms, d), select(lost, u32(1), u32(0))));
  const same = eq(shr(xor(bx, by), u32(31)), u32(0));
  const sum = b.let("ro_sum", select(same, add(mb, aligned), sub(mb, aligned)));
  // Leading bit at 26 + r; the shift R = max(r, 1 − eb) also denormalizes (R > 0 only for a carry, r = 1).
  const r = b.let("ro_r", sub(sub(i32(31), asI32(clz(sum))), i32(26)));
  const shift = b.let("ro_shift", max(r, sub(i32(1), eb)));
  const normed = b.let("ro_normed", select(gt(shift, i32(0)), or(shr(sum, u32(1)), and(sum, u32(1))), shl(sum, asU32(max(neg(shift), i32(0))))));
  const e = add(eb, shift);
  // A normal significand's hidden bit carries into the exponent field: field = e (e − 1 + 1), subnormals stay at 0.
  const bits = b.let("ro_bits", add(shl(asU32(sub(e, i32(1))), u32(23)), shr(normed, u32(3))));
  const inexact = b.let("ro_inexact", ne(and(normed, u32(7)), u32(0)));
  const magnitude = select(ge(bits, u32(F32_EXPONENT_MASK)), u32(MAX_F32_BITS), select(inexact, or(bits, u32(1)), bits));
  // Nearest even from the same 3 guard bits (guard, round, sticky): up above half, or at half when the last bit is odd; a carry may reach ∞.
  const guard = and(normed, u32(7));
  const up = or(gt(guard, u32(4)), and(eq(guard, u32(4)), ne(and(bits, u32(1)), u32(0))));
  const rounded = b.let("ro_rounded", add(bits, select(up, u32(1), u32(0))));
  // An exact cancellation has no leading bit (its "exponent" above is meaningless): +0 magnitude.
  const nearest = select(eq(sum, u32(0)), u32(0), select(ge(rounded, u32(F32_EXPONENT_MASK)), u32(F32_EXPONENT_MASK), rounded));
  return { magnitude: b.let("ro_magnitude", magnitude), nearest: b.let("ro_nearest", nearest), sign, inexact };
}

/**
 * x + y (finite f32 values) rounded to float32 with round-to-odd, from the exact error of the
 * rounded sum (Fast2Sum on the operands ordered by magnitude: z = s − big is exact, so y − z is the
 * error, with no intermediate overflow while s is finite; TwoSum on unordered operands can overflow
 * in s − x next to ±max). An inexact s moves one step toward the exact sum when it is even — its
 * magnitude's bits minus one when the sum lies below it, then the last bit set — and a sum beyond
 * float32's range gives the largest finite (odd) value, as the integer form does. Only for targets
 * whose float operations are IEEE float32 exactly as written (JS, WebAssembly): a shader compiler
 * may fold z − … to 0.
 */
function roundedToOddIeee(b: Builder, x: Expr, y: Expr): { odd: Expr; inexact: Expr; sum: Expr } {
  const swap = b.let("ts_swap", gt(and(bitsOf(y), u32(0x7fffffff)), and(bitsOf(x), u32(0x7fffffff))));
  const big = b.let("ts_big", select(swap, y, x));
  const small = b.let("ts_small", select(swap, x, y));
  const sum = b.let("ts_sum", add(big, small));
  const error = b.let("ts_error", sub(small, sub(sum, big)));
  const sumBits = b.let("ts_sum_bits", bitsOf(sum));
  // The exact sum lies below |s| when the error's sign is not s's (s = ±∞: the error is ∓∞, below).
  const below = select(lt(sum, f32(0)), gt(error, f32(0)), lt(error, f32(0)));
  const magnitude = and(sumBits, u32(0x7fffffff));
  const truncated = min(sub(magnitude, select(below, u32(1), u32(0))), u32(MAX_F32_BITS));
  const odd = fromBits(or(or(truncated, u32(1)), and(sumBits, u32(0x80000000))));
  return { odd: b.let("ts_odd", odd), inexact: b.let("ts_inexact", ne(error, f32(0))), sum };
}

/**
 * acc(x + y): the exact sum of two f32 values rounded once to the accumulator format (an f32 expression).
 * `opaqueF32`: an fp32 accumulator's sum is formed in integer arithmetic too (nearest even), for
 * targets whose compilers may treat float additions as real numbers: a shader compiler without
 * exact-math guarantees folds Kahan's ((s + y) − s) − y to 0 and fuses a product into the sum.
 * `ieee`: the round-to-odd sum is formed from its exact float error (roundedToOddIeee: about a
 * third of the integer form's operations, and no per-lane shifts, so the wasm vectorizer takes
 * it) — for JS and WebAssembly only; the same bits.
 */
export function lowerAccumulatorAdd(b: Builder, format: ResolvedFormat, x: Expr, y: Expr, opaqueF32 = false, ieee = false): Expr {
  const float32 = isFloat32Accumulator(format);
  if (float32 && !opaqueF32) return b.let("acc_sum", add(x, y));
  const finite = and(lt(and(bitsOf(x), u32(0x7fffffff)), u32(F32_EXPONENT_MASK)), lt(and(bitsOf(y), u32(0x7fffffff)), u32(F32_EXPONENT_MASK)));
  const integer = float32 || !ieee ? roundedMagnitudes(b, x, y) : null;
  if (float32) {
    const ro = integer!;
    // An exact zero sum is −0 only when both addends are −0 (x + (−x) = +0 in nearest even).
    const zeroSign = shr(and(bitsOf(x), bitsOf(y)), u32(31));
    const sign = select(eq(ro.nearest, u32(0)), zeroSign, ro.sign);
    const nearest = fromBits(or(ro.nearest, shl(sign, u32(31))));
    return b.let("acc_sum", select(finite, nearest, add(x, y)));
  }
  // The round-to-odd float32 sum, in integer arithmetic or from its exact float error (`ieee`).
  const ro = integer === null ? roundedToOddIeee(b, x, y) : { odd: fromBits(or(integer.magnitude, shl(integer.sign, u32(31)))), inexact: integer.inexact, sum: add(x, y) };
  // Exact sums (zeros with their IEEE sign among them) and non-finite ones are the float32 sum itself.
  const sum = b.let("ro_sum_f32", select(and(finite, ro.inexact), ro.odd, ro.sum));
  return b.let("acc_sum", lowerFakeQuantizeElement(b, format, sum, null));
}

/** One output's accumulator state: mutable locals of the micro-kernel. */
interface State {
  readonly s: { ref: Expr; name: string };
  readonly c: { ref: Expr; name: string } | null;
  readonly total: { ref: Expr; name: string } | null;
}

/**
 * The micro-kernel under a declared accumulator: for each of the mr×nr outputs the products
 * f32(a·b) summed in k order as the accumulator says; returns the f32 value v of each output
 * (before α, β). One k step per iteration; the whole depth must be one k block.
 */
export function lowerAccumulatorMicroKernel(
  b: Builder,
  accumulator: Accumulator,
  mr: number,
  nr: number,
  depth: Expr,
  aSource: SliverSource,
  bSource: SliverSource,
): Expr[][] {
  const { format, promoteEvery, compensated } = accumulator;
  const states: State[][] = Array.from({ length: mr }, () =>
    Array.from({ length: nr }, () => ({
      s: b.var("acc", f32(0)),
      c: compensated ? b.var("acc_comp", f32(0)) : null,
      total: promoteEvery !== null ? b.var("acc_total", f32(0)) : null,
    })),
  );
  const since = promoteEvery !== null ? b.var("acc_since", i32(0)) : null;
  // Only the JS and wasm targets run this kernel (WGSL has its own GEMM): the IEEE form of the sum.
  const sum = (inner: Builder, x: Expr, y: Expr) => lowerAccumulatorAdd(inner, format, x, y, false, true);
  b.for("p", i32(0), depth, (p, body) => {
    const av = aSource.values(body, p, 0);
    const bv = bSource.values(body, p, 0);
    for (let i = 0; i < mr; i++) {
      for (let j = 0; j < nr; j++) {
        const st = states[i][j];
        const product = body.let("prod", mul(av[i], bv[j]));
        if (st.c === null) {
          body.assign(st.s.name, sum(body, st.s.ref, product));
          continue;
        }
        const y = sum(body, product, neg(st.c.ref));
        const u = sum(body, st.s.ref, y);
        body.assign(st.c.name, sum(body, sum(body, u, neg(st.s.ref)), neg(y)));
        body.assign(st.s.name, u);
      }
    }
    if (since !== null) {
      body.assign(since.name, add(since.ref, i32(1)));
      body.if(eq(since.ref, i32(promoteEvery!)), (promote) => {
        for (const row of states) {
          for (const st of row) {
            promote.assign(st.total!.name, add(st.total!.ref, st.s.ref));
            promote.assign(st.s.name, f32(0));
            if (st.c !== null) promote.assign(st.c.name, f32(0));
          }
        }
        promote.assign(since.name, i32(0));
      });
    }
    aSource.advance(body, 1);
    bSource.advance(body, 1);
  });
  return states.map((row) => row.map((st) => (st.total === null ? st.s.ref : b.let("acc_value", add(st.total.ref, st.s.ref)))));
}
