/**
 * The integer pieces posit arithmetic kernels are built from, in i32/u32 IR only (no f32, no
 * f64: WGSL and WebAssembly run them as is), bit-identical to dsl/semantics/posit-arith.ts:
 *
 * - decodeOperand: a code → sign, binary scale, significand with F = max(0, n−3−es) fraction
 *   bits (every fraction of the format fits; shorter ones are padded with zeros), zero and NaR;
 * - Quire: a fixed-point two's complement integer held in L unrolled u32 limbs (kernel locals),
 *   to which exact products are added; its least significant bit weighs 2^(−2·maxScale − 2F), so
 *   every product of two posits is an integer there, and it has 31 carry bits above maxpos² —
 *   exact for any sum of up to 2^31 − 1 products, as the standard's quire;
 * - roundQuire / roundToCode: the exact value → the posit code, rounded once on the pattern
 *   (ties to even, never to 0 or NaR from a nonzero value).
 *
 * Limbs are unrolled (the format fixes L) because the IR has no local arrays: a product lands in
 * at most three limbs, found by comparing each limb's index with the product's position.
 */
import type { ResolvedFormat, ResolvedPosit } from "../../dsl/resolved.ts";
import { add, and, asI32, asU32, clz, eq, ge, i32, lt, le, mul, ne, neg, or, select, shl, shr, sub, u32, xor, type Builder } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";

/** A posit format's constants as the kernels need them. */
export interface PositArithShape {
  readonly n: number;
  readonly es: number;
  /** log2(maxpos) = (n−2)·2^es. */
  readonly maxScale: number;
  /** Fraction bits of a decoded significand: the most any code of the format has. */
  readonly fractionBits: number;
  /** The NaR code 10…0. */
  readonly nar: number;
  /** u32 limbs of the quire. */
  readonly limbs: number;
}

/**
 * Largest maxScale lowered: the quire then has at most 4·2016 + 2·29 + 34 bits (254 limbs). Wider
 * formats (huge es) would unroll thousands of limb operations per product.
 */
const MAX_LOWERED_SCALE = 2016;

/** Throws unless the format is a posit of 3 ≤ n ≤ 32 whose quire stays a reasonable unrolled size. */
export function positArithShape(format: ResolvedFormat): PositArithShape {
  const el = format.element as ResolvedPosit;
  if (el.kind !== "posit") throw new Error(`posit arithmetic needs a posit format; ${format.name} is ${el.kind}`);
  const { bits: n, es } = el;
  const maxScale = (n - 2) * 2 ** es;
  if (n < 3 || n > 32 || maxScale > MAX_LOWERED_SCALE)
    throw new Error(`posit arithmetic kernels need 3 ≤ bits ≤ 32 and (bits−2)·2^es ≤ ${MAX_LOWERED_SCALE} (${format.name})`);
  const fractionBits = Math.max(0, n - 3 - es);
  // Product bits (2F + 2) at positions up to 4·maxScale, 31 carry bits and the sign bit above.
  const quireBits = 4 * maxScale + 2 * fractionBits + 2 + 32;
  return { n, es, maxScale, fractionBits, nar: 2 ** (n - 1), limbs: Math.ceil(quireBits / 32) };
}

/** The n-bit two's complement negation of a u32 holding an n-bit pattern. */
const negateCode = (n: number, x: Expr) => (n < 32 ? and(sub(u32(0), x), u32(2 ** n - 1)) : sub(u32(0), x));

/** A decoded operand; `significand` has the hidden bit at bit F (0 for zero and NaR). */
export interface PositOperand {
  readonly negative: Expr; // bool
  readonly scale: Expr; // i32: the binary exponent of the leading bit
  readonly significand: Expr; // u32
  readonly isZero: Expr; // bool
  readonly isNar: Expr; // bool
}

/** Decodes the low n bits of a u32 code (the regime read with clz, as posit-element.ts does). */
export function decodeOperand(b: Builder, shape: PositArithShape, code: Expr): PositOperand {
  const { n, es, fractionBits: F, nar } = shape;
  const c = b.let("c", n < 32 ? and(code, u32(2 ** n - 1)) : code);
  const negative = b.let("negative", ne(shr(c, u32(n - 1)), u32(0)));
  const body = select(negative, negateCode(n, c), c);
  const pattern = b.let("pattern", shl(body, u32(33 - n))); // first regime bit at bit 31
  const run = b.let("run", asI32(clz(xor(pattern, asU32(shr(asI32(pattern), i32(31)))))));
  const k = select(ne(shr(pattern, u32(31)), u32(0)), sub(run, i32(1)), neg(run));
  // Drop the run and its terminating bit (two shifts: run + 1 reaches 32 for n = 32).
  const rest = b.let("rest", shl(shl(pattern, asU32(run)), u32(1)));
  const exponent = es > 0 ? shr(rest, u32(32 - es)) : u32(0); // cut-off exponent bits read as 0
  const scale = b.let("scale", add(shl(k, i32(es)), asI32(exponent)));
  const fraction = F > 0 ? shr(shl(rest, u32(es)), u32(32 - F)) : u32(0);
  const isZero = b.let("is_zero", eq(c, u32(0)));
  const isNar = b.let("is_nar", eq(c, u32(nar)));
  const significand = b.let("significand", select(or(isZero, isNar), u32(0), or(u32(2 ** F), fraction)));
  return { negative, scale, significand, isZero, isNar };
}

/** The exact 64-bit product of two u32 values below 2^30, as [low, high] words (16-bit partial products). */
export function wideProduct(b: Builder, x: Expr, y: Expr): [Expr, Expr] {
  const lo16 = (v: Expr) => and(v, u32(0xffff));
  const hi16 = (v: Expr) => shr(v, u32(16));
  const ll = b.let("pp_ll", mul(lo16(x), lo16(y)));
  const mid = b.let("pp_mid", add(mul(lo16(x), hi16(y)), mul(hi16(x), lo16(y)))); // < 2^31
  const low = b.let("pp_low", add(ll, shl(mid, u32(16))));
  const carry = asU32(lt(low, ll));
  const high = b.let("pp_high", add(add(mul(hi16(x), hi16(y)), shr(mid, u32(16))), carry));
  return [low, high];
}

/** A quire in unrolled u32 limbs (limb 0 least significant), declared as mutable locals. */
export class Quire {
  readonly limbs: readonly { readonly ref: Expr; readonly name: string }[];
  constructor(b: Builder, readonly shape: PositArithShape) {
    this.limbs = Array.from({ length: shape.limbs }, () => b.var("quire", u32(0)));
  }

  /** Sets every limb back to 0. */
  clear(b: Builder): void {
    for (const limb of this.limbs) b.assign(limb.name, u32(0));
  }

  /**
   * Adds (−1)^negative · product · 2^position (in quire units) to the quire, exactly; product is
   * [low, high], at most 62 bits, position ≥ 0. A negative addend is added as its complement
   * plus one (two's complement across every limb).
   */
  addProduct(b: Builder, product: readonly [Expr, Expr], position: Expr, negative: Expr): void {
    const [low, high] = product;
    const word = b.let("q_word", shr(position, i32(5)));
    const offset = b.let("q_offset", asU32(and(position, i32(31))));
    const aligned = b.let("q_aligned", eq(offset, u32(0)));
    // The product shifted by `offset` across three words (a shift by 32 − 0 would wrap: guarded).
    const spill = (x: Expr) => select(aligned, u32(0), shr(x, sub(u32(32), offset)));
    const w0 = b.let("q_w0", shl(low, offset));
    const w1 = b.let("q_w1", or(shl(high, offset), spill(low)));
    const w2 = b.let("q_w2", spill(high));
    const flip = b.let("q_flip", select(negative, u32(0xffffffff), u32(0)));
    let carry: Expr = asU32(negative);
    this.limbs.forEach((limb, i) => {
      const at = (d: number) => eq(word, i32(i - d));
      const addend = xor(select(at(0), w0, select(at(1), w1, select(at(2), w2, u32(0)))), flip);
      const sum = b.let("q_sum", add(add(limb.ref, addend), carry));
      if (i + 1 < this.limbs.length) {
        // Carry out of a + x + c (c ∈ {0, 1}): the sum wrapped below a, or equals a with c = 1 and x = 2^32 − 1.
        carry = b.let("q_carry", asU32(select(ne(carry, u32(0)), le(sum, limb.ref), lt(sum, limb.ref))));
      }
      b.assign(limb.name, sum);
    });
  }

  /** Adds a·b (decoded operands) exactly; NaR and zero operands add nothing (the caller tracks NaR). */
  addOperandProduct(b: Builder, x: PositOperand, y: PositOperand): void {
    // Value = sigX·sigY·2^(scaleX + scaleY − 2F); the quire's unit is 2^(−2·maxScale − 2F). A zero or
    // NaR operand has significand 0: its position is meaningless but the addend is 0 wherever it lands.
    const position = b.let("q_position", add(add(x.scale, y.scale), i32(2 * this.shape.maxScale)));
    const product = wideProduct(b, x.significand, y.significand);
    this.addProduct(b, product, position, b.let("q_negative", ne(x.negative, y.negative)));
  }

  /** The quire's value rounded once to the format: a u32 code (NaR not included: the caller selects it). */
  round(b: Builder): Expr {
    const { maxScale, fractionBits: F } = this.shape;
    const top = this.limbs[this.limbs.length - 1].ref;
    const negative = b.let("q_result_negative", ne(shr(top, u32(31)), u32(0)));
    // Magnitude: complement plus one when negative.
    const flip = b.let("q_result_flip", select(negative, u32(0xffffffff), u32(0)));
    let carry: Expr = asU32(negative);
    const magnitude: Expr[] = [];
    this.limbs.forEach((limb, i) => {
      const x = b.let("q_mag_in", xor(limb.ref, flip));
      const m = b.let("q_mag", add(x, carry));
      if (i + 1 < this.limbs.length) carry = b.let("q_mag_carry", asU32(and(ne(carry, u32(0)), eq(m, u32(0)))));
      magnitude.push(m);
    });
    // The highest nonzero limb, the one below it, and whether anything lies under those two.
    let index: Expr = i32(-1);
    let lead: Expr = u32(0);
    let next: Expr = u32(0);
    let under: Expr = u32(0);
    let below: Expr = u32(0); // OR of limbs 0 … i−2 for the current candidate i
    magnitude.forEach((m, i) => {
      const nonzero = b.let("q_nonzero", ne(m, u32(0)));
      index = b.let("q_lead_index", select(nonzero, i32(i), index));
      lead = b.let("q_lead", select(nonzero, m, lead));
      next = b.let("q_next", select(nonzero, i > 0 ? magnitude[i - 1] : u32(0), next));
      under = b.let("q_under", select(nonzero, below, under));
      if (i > 0) below = b.let("q_below", or(below, magnitude[i - 1]));
    });
    const z = b.let("q_clz", asI32(clz(lead)));
    // 32 bits after the leading one, left-aligned (double shifts: z + 1 may be 32).
    const fraction = b.let("q_fraction", or(shl(shl(lead, asU32(z)), u32(1)), shr(next, asU32(sub(i32(31), z)))));
    const rest = shl(shl(next, asU32(z)), u32(1));
    const sticky = b.let("q_sticky", or(ne(rest, u32(0)), ne(under, u32(0))));
    const scale = b.let("q_scale", sub(sub(add(shl(index, i32(5)), sub(i32(31), z)), i32(2 * maxScale)), i32(2 * F)));
    const code = roundToCode(b, this.shape, negative, scale, fraction, sticky);
    return b.let("q_code", select(lt(index, i32(0)), u32(0), code));
  }
}

/**
 * The code of (−1)^negative · (1 + fraction/2^32 + δ) · 2^scale, δ ∈ (0, 2^−32) when sticky, rounded
 * on the pattern: the regime, es exponent bits and the fraction are laid out left-aligned in a high
 * word (n−1 kept bits and the guard) and a low word (only sticky), as posit-element.ts encodes.
 */
export function roundToCode(b: Builder, shape: PositArithShape, negative: Expr, scale: Expr, fraction: Expr, sticky: Expr): Expr {
  const { n, es, maxScale, nar } = shape;
  const k = b.let("r_k", shr(scale, i32(es)));
  const exponent = and(asU32(scale), u32(2 ** es - 1));
  // Exponent | the fraction's top 31 − es bits: 31 bits; the fraction's last es + 1 bits only feed sticky.
  const tail = b.let("r_tail", or(es > 0 ? shl(exponent, u32(31 - es)) : u32(0), shr(fraction, u32(es + 1))));
  const tailSticky = ne(and(fraction, u32(2 ** (es + 1) - 1)), u32(0));
  const positive = b.let("r_k_nonneg", ge(k, i32(0)));
  const regime = select(positive, asU32(shr(i32(0x80000000), k)), shr(u32(0x80000000), asU32(neg(k))));
  const regimeLength = b.let("r_regime_length", select(positive, add(k, i32(2)), sub(i32(1), k))); // 2 … n−1 in range
  const high = b.let("r_high", or(regime, shr(tail, asU32(sub(regimeLength, i32(1))))));
  const low = shl(tail, asU32(sub(i32(33), regimeLength)));
  const kept = b.let("r_kept", shr(high, u32(33 - n)));
  const guard = and(shr(high, u32(32 - n)), u32(1));
  const stickyBits = or(or(n < 32 ? and(high, u32(2 ** (32 - n) - 1)) : u32(0), low), asU32(or(tailSticky, sticky)));
  const up = and(guard, or(asU32(ne(stickyBits, u32(0))), and(kept, u32(1))));
  let body = add(kept, up);
  body = select(ge(scale, i32(maxScale)), u32(nar - 1), body); // ≥ maxpos: saturate
  body = b.let("r_body", select(lt(scale, i32(-maxScale)), u32(1), body)); // below minpos: minpos
  return b.let("r_code", select(negative, negateCode(n, body), body));
}
