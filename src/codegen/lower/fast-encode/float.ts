/**
 * Fast encode of sign-exponent-mantissa elements (m in [1, 21] mantissa bits, zero and subnormals,
 * the whole subnormal grid within float32's reach), lane-wise and without lookups:
 *
 *   |x| is clamped to the largest finite float32 (so ±∞ and NaN compute some finite code, replaced
 *   below), its binade exponent e is raised to the format's emin (the subnormal binades share
 *   emin's quantum), and y = |x|·2^(m − e) — one exact multiplication by a power of two built from
 *   exponent bits — is the position on the format's grid in units of the quantum: y ∈ [2^m, 2^(m+1))
 *   in a normal binade, y < 2^m below it. y rounds to an integer n by the probed decision
 *   (round.ts), and the code's magnitude is ((e − emin) << m) + n: n = 2^(m+1) carries into the next
 *   binade and n = 2^m below emin is the smallest normal, as the code layout does by itself.
 *
 * What arithmetic alone does not give is taken from the semantics at lowering time (probe.ts):
 * the code of a magnitude beyond the largest finite one, of ±0 and of magnitude 0, of ±∞ and NaN,
 * each per sign; a select is emitted only where the semantics differ from what the arithmetic
 * already produced. Unsigned formats take one code for every negative non-zero input.
 */
import type { ResolvedFloat, ResolvedFormat } from "../../../dsl/resolved.ts";
import { Builder, add, and, asI32, asU32, bitsOf, eq, f32, fromBits, gt, i32, lt, max, min, mul, ne, or, select, shr, sub, u32 } from "../../ir/build.ts";
import type { Expr } from "../../ir/nodes.ts";
import { MAX_F32, probeDecision, probeSpecialCodes, sameDecision, type Encoder, type RoundingDecision, type SpecialCodes } from "./probe.ts";
import { isTiesToEven, lowerRoundByDecision } from "./round.ts";
import { negativeNonZero, signedCodes } from "./sign.ts";

const F32_EXPONENT = 0x7f800000;
const F32_MAX_BITS = 0x7f7fffff;
/** 2^23's float32 bits. */
const TWO_23_BITS = 0x4b000000;

/** What the float fast path needs, derived once per (format, rounding, overflow). */
export interface FloatPlan extends SpecialCodes {
  readonly m: number;
  readonly minNormalExponent: number;
  /** Largest finite code magnitude. */
  readonly maxMagnitude: number;
  /** Code weight of the sign bit (0 for unsigned formats). */
  readonly signWeight: number;
  readonly decision: { readonly positive: RoundingDecision; readonly negative: RoundingDecision | null };
}

export function planFloat(format: ResolvedFormat, enc: Encoder): FloatPlan | null {
  if (format.element.kind !== "float") return null;
  const el: ResolvedFloat = format.element;
  const m = el.mantissaBits;
  const emin = el.minNormalExponent;
  if (m < 1 || m > 21 || !el.zero || !el.subnormals || emin < -126 || emin > m) return null;
  if (!(format.maxFinite < MAX_F32)) return null;
  const signWeight = el.signed ? 2 ** (el.bits - 1) : 0;
  const magnitude = (code: number) => (el.signed && code >= signWeight ? code - signWeight : code);
  const maxMagnitude = magnitude(enc(format.maxFinite));
  if (!(maxMagnitude > 0)) return null;
  const quantum = 2 ** (emin - m);
  const value = (n: number) => n * quantum;
  const decide = (sign: 1 | -1) => {
    // The smallest normal binade and the subnormal one must decide alike.
    const normal = probeDecision(enc, sign, 2 ** m, value, magnitude);
    const subnormal = probeDecision(enc, sign, 0, value, magnitude);
    return normal !== null && subnormal !== null && sameDecision(normal, subnormal) ? normal : null;
  };
  const positive = decide(1);
  const negative = el.signed ? decide(-1) : null;
  if (positive === null || (el.signed && negative === null)) return null;
  const specials = probeSpecialCodes(enc, el.signed, quantum);
  if (specials === null) return null;
  return { m, minNormalExponent: emin, maxMagnitude, signWeight, decision: { positive, negative }, ...specials };
}

export function lowerFastFloatEncode(b: Builder, plan: FloatPlan, x: Expr): Expr {
  const { m, minNormalExponent: emin, signWeight } = plan;
  const bits = b.let("bits", bitsOf(x));
  const absBits = b.let("abs_bits", and(bits, u32(0x7fffffff)));
  const signBit = b.let("sign", shr(bits, u32(31)));
  const negative = b.let("negative", lt(asI32(bits), i32(0)));
  const { withSign, bySign, isSigned, sameAs, capOf } = signedCodes(b, signBit, negative, signWeight);

  // ±∞ and NaN compute as the largest float32 (clamped here), whose code the selects below replace
  // where the semantics differ. Where NaN takes its own select anyway, m ≥ 2 and the format's
  // binades end below float32's, the clamp is left out: ∞ times the power of two below stays ∞
  // (m ≥ 2 keeps that power non-zero), its magnitude (255 − emin − 127)·2^m lands beyond the
  // largest code as the largest float32's does, and NaN's garbage is replaced.
  const nanSelected = !sameAs(plan.nan, plan.beyondMax);
  const infinityBeyond = (255 - emin - 127) * 2 ** m > plan.maxMagnitude;
  const { positive, negative: negativeDecision } = plan.decision;
  const oneDecision = negativeDecision === null || sameDecision(positive, negativeDecision);
  const addRounds = oneDecision && isTiesToEven(positive);
  const cap = capOf(plan.beyondMax, plan.maxMagnitude);
  // Where the addition rounds (below) and a minimum caps, ±∞ and NaN need no clamp either: y is
  // then ∞ or NaN (∞ times 0 where m = 1), whose bits (exponent field all ones, either sign)
  // give magnitudes of at least 0x34800000, beyond every code, so they cap like the largest float32.
  const unclamped = (nanSelected && m >= 2 && infinityBeyond) || (addRounds && cap !== null);
  const finite = unclamped ? absBits : b.let("finite_bits", min(absBits, u32(F32_MAX_BITS)));
  const lowest = (emin + 127) * 2 ** 23;
  const exponent = b.let("binade", max(and(finite, u32(F32_EXPONENT)), u32(lowest)));
  const a = fromBits(finite);
  // 2^(m − e) from exponent bits; below min normal e is emin, whose power may need two steps.
  const scale = fromBits(sub(u32((254 + m) * 2 ** 23), exponent));
  let y = mul(a, scale);
  // Binades below 2^(m − 127) (only where emin is below it) need a power beyond float32's: two steps.
  if (m - emin > 127) y = select(lt(exponent, u32(m * 2 ** 23)), mul(mul(a, f32(2 ** 64)), fromBits(sub(u32((190 + m) * 2 ** 23), exponent))), y);
  const grid = b.let("grid", y);
  let magnitude: Expr;
  if (addRounds) {
    // 0 ≤ y < 2^(m+1) ≤ 2^22 on finite lanes: y + 2^23 lies where float32's spacing is 1, so the
    // addition itself rounds y to the nearest integer n, ties to even, and its bits are 2^23's + n.
    // Both offsets (2^23's bits, lowest's binade) fold into one constant. ∞ (where not clamped)
    // gives 0x7f800000 there, a magnitude beyond every code (below 2^31); NaN's is replaced below.
    const nBits = bitsOf(add(grid, f32(2 ** 23)));
    magnitude = b.let("magnitude", sub(add(shr(exponent, u32(23 - m)), nBits), u32(lowest / 2 ** (23 - m) + TWO_23_BITS)));
  } else {
    const rounded = oneDecision ? lowerRoundByDecision(b, grid, positive) : select(negative, lowerRoundByDecision(b, grid, negativeDecision), lowerRoundByDecision(b, grid, positive));
    // n ≤ 2^(m+1) ≤ 2^22: n + 2^23 is exact and its mantissa field is n.
    const n = and(bitsOf(add(rounded, f32(2 ** 23))), u32(0x7fffff));
    magnitude = b.let("magnitude", add(shr(sub(exponent, u32(lowest)), u32(23 - m)), n));
  }

  let code: Expr;
  const zeroSelected = !isSigned(plan.zero, 0);
  const infinitySelected = !sameAs(plan.infinity, plan.beyondMax);
  let nanDone = !nanSelected;
  if (cap !== null) {
    const [nanPositive, nanNegative] = plan.nan;
    const isNan = () => gt(asI32(absBits), i32(F32_EXPONENT));
    // Where NaN's code is the one after the cap and a NaN lane's magnitude lies beyond every code
    // (y is NaN, unclamped, and the addition's bits give at least 0x34800000, as for ∞ above), the
    // cap is raised by one on NaN lanes: an addition of the compare's bool, one subtraction of its
    // mask on wasm, where a select of the NaN code and a maximum took three instructions.
    const nanRaisesCap = nanSelected && !infinitySelected && nanPositive === cap + 1 && addRounds && finite === absBits;
    const capped = min(magnitude, nanRaisesCap ? add(u32(cap), asU32(isNan())) : u32(cap));
    const nanSigned = signWeight === 0 ? nanNegative === nanPositive : nanPositive < signWeight && nanNegative === nanPositive + signWeight;
    if (nanSelected && !zeroSelected && !infinitySelected && nanPositive >= cap && nanSigned) {
      // A NaN magnitude at or above the cap, with x's sign bit (e4m3, e5m2): the raised cap, or a
      // maximum with it on NaN lanes (a compare's mask and'ed with it: the select of it or 0).
      code = withSign(nanRaisesCap ? capped : max(capped, select(isNan(), u32(nanPositive), u32(0))));
      nanDone = true;
    } else if (nanSelected && !infinitySelected && nanPositive === cap + 1 && nanNegative === cap + 1 && signWeight > cap) {
      // NaN's code is the one after the cap, without a sign bit (the fnuz formats' 0x80): the sign
      // bit is taken where x's bits as i32 are below −0x7fffff, −NaN's least (negative and not NaN:
      // −∞'s −0x800000 included), so a NaN lane holds the cap alone (its magnitude is beyond every
      // code) and the raised cap, or a maximum with the NaN code on NaN lanes, gives it (a bound
      // the store widening sees).
      const sign = select(lt(asI32(bits), i32(-0x7fffff)), u32(signWeight), u32(0));
      code = nanRaisesCap ? or(capped, sign) : max(or(capped, sign), select(isNan(), u32(nanPositive), u32(0)));
      nanDone = true;
    } else code = withSign(capped);
  } else code = select(gt(asI32(magnitude), i32(plan.maxMagnitude)), bySign(plan.beyondMax), withSign(magnitude));
  if (zeroSelected) code = select(eq(magnitude, u32(0)), bySign(plan.zero), code);
  // ±∞ and NaN computed as ±max float32 above; replace them where the semantics differ.
  if (infinitySelected) code = select(eq(absBits, u32(F32_EXPONENT)), bySign(plan.infinity), code);
  if (!nanDone) code = select(gt(asI32(absBits), i32(F32_EXPONENT)), bySign(plan.nan), code);
  if (plan.negativeCode !== null) code = select(negativeNonZero(bits), u32(plan.negativeCode), code);
  return b.let("code", code);
}
