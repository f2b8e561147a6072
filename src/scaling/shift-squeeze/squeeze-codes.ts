/**
 * The code S2FP8 gives a squeezed element, encode(exp2f(t)) with t = α·log2f|x| + β, computed
 * from t by comparisons instead of exp2f and the encoder (together ~2/3 of the fake-quantize
 * kernel's instructions).
 *
 * Why it is exact: exp2f(t) depends on t only through exp2fSplit(t) = (n, frac), the integer part
 * and float32 fraction exp2f itself computes (semantics/elementary.ts), so the code is
 * g(n, frac) = encode(exp2fScaled(n, frac)): for each binade n a step function of frac. In the
 * format's normal range every binade steps at the same fractions φ_s (where 2^frac rounds up to
 * the next m-bit mantissa) and its codes are R = 2^m above the binade below, so there
 *   code = A + R·n + #{s : frac ≥ φ_s}, and the overflow code past the largest finite code;
 * the few binades below (results in the format's subnormal range) get their own fractions, and
 * every binade under them the code of zero. All of it is derived at lowering time by bisection
 * on g itself and then checked on every binade n in [−152, 128] at each step of g and of the
 * rule (each step and the float32 before it): two step functions that agree there agree
 * everywhere. Bisection needs g monotone in frac: exp2fScaled is monotone within each of its 32
 * table segments (a positive-coefficient polynomial of r = frac − j/32), so only the segment
 * boundaries are checked. Where any check fails the caller keeps exp2f and the encoder.
 * Below the regular binades (underflow, then the binades whose results are subnormal in the
 * format) the kernel counts steps in t itself: G(t) = g(exp2fSplit(t)) is monotone in t, so its
 * codes there are first + #{k : t ≥ τ_k}, τ_k found by bisection on t's bits and checked at each
 * step and the float32 before it — one compare per code where a binade test and a select per
 * irregular binade cost more.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { f32Bits, fromF32Bits } from "../../dsl/semantics/bits.ts";
import { exp2fScaled, exp2fSplit } from "../../dsl/semantics/elementary.ts";
import { decode, encode } from "../../dsl/semantics/scalar.ts";
import { Builder, add, and, asI32, asU32, bitsOf, eq, f32, ge, gt, i32, le, lt, min, mul, ne, or, select, shl } from "../../codegen/ir/build.ts";
import type { Expr } from "../../codegen/ir/nodes.ts";
import { lowerExp2Split } from "../../codegen/lower/elementary.ts";

/** The binades g is examined on: below −151 exp2f is 0, from 128 up +∞ (the kernel clamps t to this range). */
const LOWEST_BINADE = -152;
const HIGHEST_BINADE = 128;
/** Largest float32 below 1: the last fraction of a binade. */
const LAST_FRACTION = fromF32Bits(f32Bits(1) - 1);
/** Beyond these the rule is not worth its compares; the caller keeps exp2f and the encoder. */
const MAX_REGULAR_STEPS = 16;
const MAX_IRREGULAR_BINADES = 6;
const MAX_LOW_THRESHOLDS = 24;

/** One binade's codes: `first` at frac = 0, then first + s + 1 from frac ≥ steps[s] on. */
interface BinadeSteps {
  readonly first: number;
  readonly steps: readonly number[];
}

/** A positive or negative code, by the sign of the input. */
interface SignedCode {
  readonly positive: number;
  readonly negative: number;
}

/** What the kernel needs to compute a squeezed element's code from t. */
export interface SqueezeCodeRule {
  /** code = base + perBinade·n + #{frac ≥ regular[s]} in the regular binades. */
  readonly base: number;
  readonly perBinade: number;
  readonly regular: readonly number[];
  /** Codes above this are overflows and become `overflow`. */
  readonly maxFinite: number;
  readonly overflow: number;
  /** Binades with their own steps (results below the normal range). */
  readonly irregular: ReadonlyMap<number, BinadeSteps>;
  /** Binades up to this one give the code of +0 (zero.positive). */
  readonly underflowThrough: number;
  /**
   * The same codes below the regular binades as steps in t itself, where there are irregular
   * binades: for n ≤ through, code = first + #{k : t ≥ thresholds[k]} (the kernel's form: one
   * compare per step, where a binade test and its select per irregular binade cost more).
   */
  readonly low: { readonly through: number; readonly first: number; readonly thresholds: readonly number[] } | null;
  /** Added to the magnitude's code for a negative input. */
  readonly signBit: number;
  /** Codes of ±0, ±∞ and NaN (any payload): of underflow and of the inputs the squeeze passes through. */
  readonly zero: SignedCode;
  readonly infinity: SignedCode;
  readonly nan: SignedCode;
}

const nextUp = (frac: number) => fromF32Bits(f32Bits(frac) + 1);
const nextDown = (frac: number) => fromF32Bits(f32Bits(frac) - 1);

/** The code of exp2f(t) for every t with exp2fSplit(t) = (n, frac). */
function codeOf(format: ResolvedFormat, n: number, frac: number): number {
  return encode(format, n < -151 ? 0 : exp2fScaled(n, frac));
}

/** G(t) = encode(exp2f(t)): the code of a positive magnitude squeezed to exponent t. */
function codeOfT(format: ResolvedFormat, t: number): number {
  const { n, frac } = exp2fSplit(t);
  return codeOf(format, n, frac);
}

/**
 * The low range in t: the binades from the lowest through `through` (underflow and irregular
 * ones), as G(t) = first + #{k : t ≥ thresholds[k]}, or null where G does not rise by one at
 * each change there. G is monotone in t within a binade (g is in frac, checked at the table
 * segments, and t ↦ frac is), so bisection on t's bits finds each change.
 */
function lowThresholds(format: ResolvedFormat, through: number): SqueezeCodeRule["low"] {
  const first = codeOfT(format, LOWEST_BINADE);
  const thresholds: number[] = [];
  let code = first;
  for (let n = LOWEST_BINADE; n <= through; n++) {
    const last = codeOfT(format, tBefore(n + 1));
    let from = n;
    if (codeOfT(format, n) !== code) {
      if (codeOfT(format, n) !== code + 1) return null;
      thresholds.push(n);
      code++;
    }
    while (code !== last) {
      let lo = tBits(from);
      let hi = tBits(tBefore(n + 1));
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (codeOfT(format, fromTBits(mid)) === code) lo = mid;
        else hi = mid;
      }
      from = fromTBits(hi);
      if (codeOfT(format, from) !== code + 1) return null;
      thresholds.push(from);
      code++;
    }
  }
  return { through, first, thresholds };
}

/** Float32 t as an integer that orders as t does (for bisection across zero and negative values). */
const tBits = (t: number) => (t < 0 || Object.is(t, -0) ? -(f32Bits(-t) | 0) : f32Bits(t));
const fromTBits = (k: number) => (k < 0 ? -fromF32Bits(-k) : fromF32Bits(k));
/** The float32 just below t, of either sign (nextDown is for fractions, which are positive). */
const tBefore = (t: number) => fromTBits(tBits(t) - 1);

/** g(n, ·) as steps, or null where its codes do not rise by one per step. */
function binadeSteps(format: ResolvedFormat, n: number): BinadeSteps | null {
  const first = codeOf(format, n, 0);
  const last = codeOf(format, n, LAST_FRACTION);
  const steps: number[] = [];
  let code = first;
  let from = 0;
  while (code !== last) {
    // The smallest fraction past `from` whose code is not `code` (g is monotone: checked separately).
    let lo = f32Bits(from);
    let hi = f32Bits(LAST_FRACTION);
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (codeOf(format, n, fromF32Bits(mid)) === code) lo = mid;
      else hi = mid;
    }
    from = fromF32Bits(hi);
    const next = codeOf(format, n, from);
    if (next !== code + 1) return null;
    steps.push(from);
    code = next;
  }
  return { first, steps };
}

/** True when g(n, ·) never steps down in value at an exp2 table segment boundary. */
function monotoneAcrossSegments(format: ResolvedFormat, n: number): boolean {
  for (let j = 1; j < 32; j++) {
    const at = j / 32;
    if (decode(format, codeOf(format, n, nextDown(at))) > decode(format, codeOf(format, n, at))) return false;
  }
  return true;
}

const sameSteps = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const count = (steps: readonly number[], frac: number) => steps.reduce((k, s) => k + (frac >= s ? 1 : 0), 0);

/** The rule's code of a positive magnitude in binade n at frac (the kernel's formula, in JS). */
function ruleCode(rule: Omit<SqueezeCodeRule, "low">, n: number, frac: number): number {
  if (n <= rule.underflowThrough) return rule.zero.positive;
  const own = rule.irregular.get(n);
  if (own !== undefined) return own.first + count(own.steps, frac);
  const code = rule.base + rule.perBinade * n + count(rule.regular, frac);
  return code > rule.maxFinite ? rule.overflow : code;
}

/** Rules by what encode depends on (deriving one takes ~0.1 s; formats are rebuilt often). */
const cache = new Map<string, SqueezeCodeRule | null>();

/** The rule for a format, or null where the kernel must keep exp2f and the encoder. */
export function squeezeCodeRule(format: ResolvedFormat): SqueezeCodeRule | null {
  const key = JSON.stringify([format.element, format.rounding, format.overflow, format.nanInput]);
  let rule = cache.get(key);
  if (rule === undefined) {
    rule = deriveRule(format);
    cache.set(key, rule);
  }
  return rule;
}

function deriveRule(format: ResolvedFormat): SqueezeCodeRule | null {
  const el = format.element;
  if (el.kind !== "float" || !el.signed || format.bits > 8 || format.rounding.mode === "stochastic") return null;
  const binades = new Map<number, BinadeSteps>();
  for (let n = LOWEST_BINADE; n <= HIGHEST_BINADE; n++) {
    const steps = monotoneAcrossSegments(format, n) ? binadeSteps(format, n) : null;
    if (steps === null) return null;
    binades.set(n, steps);
  }
  // A binade inside the normal range, below the largest (which may overflow), sets the rule.
  const reference = Math.min(Math.max(0, el.minNormalExponent), el.maxExponent - 1);
  const regular = binades.get(reference)!;
  if (regular.steps.length === 0 || regular.steps.length > MAX_REGULAR_STEPS) return null;
  const perBinade = regular.steps.length;
  const zero = encode(format, 0);
  let underflowThrough = LOWEST_BINADE - 1;
  while (underflowThrough < HIGHEST_BINADE && sameSteps(binades.get(underflowThrough + 1)!.steps, []) && binades.get(underflowThrough + 1)!.first === zero) underflowThrough++;
  const partial: Omit<SqueezeCodeRule, "low"> = {
    base: regular.first - perBinade * reference,
    perBinade,
    regular: regular.steps,
    maxFinite: encode(format, format.maxFinite),
    overflow: codeOf(format, HIGHEST_BINADE, 0),
    irregular: new Map(),
    underflowThrough,
    signBit: 2 ** (format.bits - 1),
    zero: { positive: zero, negative: encode(format, -0) },
    infinity: { positive: encode(format, Number.POSITIVE_INFINITY), negative: encode(format, Number.NEGATIVE_INFINITY) },
    nan: { positive: encode(format, Number.NaN), negative: encode(format, fromF32Bits(0xffc00000)) },
  };
  // Binades the regular formula misses get their own steps.
  const irregular = new Map<number, BinadeSteps>();
  for (const [n, steps] of binades) {
    if (n <= underflowThrough) continue;
    const agrees = [0, ...steps.steps, ...regular.steps].every((s) => ruleCode(partial, n, s) === codeOf(format, n, s));
    if (!agrees) irregular.set(n, steps);
  }
  if (irregular.size > MAX_IRREGULAR_BINADES) return null;
  const through = Math.max(...irregular.keys());
  // The low range in t where the irregular binades lie right above the underflow (results in the
  // format's subnormal range); elsewhere, or with too many steps, a binade test per irregular binade.
  const contiguous = irregular.size > 0 && [...binades.keys()].every((n) => n <= underflowThrough || n > through || irregular.has(n));
  const thresholds = contiguous ? lowThresholds(format, through) : null;
  const low = thresholds !== null && thresholds.thresholds.length <= MAX_LOW_THRESHOLDS ? thresholds : null;
  const rule = { ...partial, irregular, low };
  return verified(format, rule, binades) && lowVerified(format, rule) ? rule : null;
}

/**
 * The rule gives g's code at every step of g and of the rule and just before it, on every
 * binade, for both signs; ±0 and ±∞ differ by the sign bit alone (the kernel adds it to their
 * magnitudes' codes as to the squeezed ones'); and NaN's codes ignore payloads.
 */
function verified(format: ResolvedFormat, rule: SqueezeCodeRule, binades: ReadonlyMap<number, BinadeSteps>): boolean {
  const ruleSteps = [...rule.regular, ...[...rule.irregular.values()].flatMap((b) => b.steps)];
  for (const [n, steps] of binades) {
    const probes = [0, LAST_FRACTION, ...[...steps.steps, ...ruleSteps].flatMap((s) => (s > 0 ? [s, nextDown(s)] : [s]))];
    for (const frac of probes) {
      const code = codeOf(format, n, frac);
      if (ruleCode(rule, n, frac) !== code) return false;
      const negative = n < -151 ? encode(format, -0) : encode(format, -exp2fScaled(n, frac));
      if (negative !== (code | rule.signBit)) return false;
    }
  }
  for (const signed of [rule.zero, rule.infinity]) if (signed.negative !== (signed.positive | rule.signBit)) return false;
  const payloads = [0x7f800001, 0x7fc00001, 0x7fffffff, 0x7fa5a5a5];
  return payloads.every((p) => encode(format, fromF32Bits(p)) === rule.nan.positive && encode(format, fromF32Bits((p | 0x80000000) >>> 0)) === rule.nan.negative);
}

/**
 * The low range's form gives G at each of its thresholds and the float32 before it, at the start
 * and the last float32 of every binade in it, and the regular form takes over above it: two step
 * functions of t with the same steps agree everywhere between.
 */
function lowVerified(format: ResolvedFormat, rule: SqueezeCodeRule): boolean {
  const low = rule.low;
  if (low === null) return true;
  const lowCode = (t: number) => low.first + low.thresholds.filter((k) => t >= k).length;
  const probes = [LOWEST_BINADE, ...low.thresholds.flatMap((k) => [k, tBefore(k)])];
  for (let n = LOWEST_BINADE; n <= low.through; n++) probes.push(n, tBefore(n + 1));
  for (const t of probes) if (exp2fSplit(t).n <= low.through && lowCode(t) !== codeOfT(format, t)) return false;
  return true;
}

/**
 * start + #{s : v ≥ steps[s]} as an i32, the counts added one by one onto start (on SIMD each
 * addition of a compare's 0 / 1 is one subtraction of its mask: wasm instructions.ts).
 */
function plusStepsPassed(start: Expr, v: Expr, steps: readonly number[]): Expr {
  return steps.reduce((sum, s) => add(sum, asI32(asU32(ge(v, f32(s))))), start);
}

/**
 * The u32 code of encode(squeeze(x)) given x and t = α·log2f|x| + β (t is read only where x is
 * non-zero and finite; elsewhere the code is x's own: ±0, ±∞, NaN).
 */
export function lowerSqueezeCode(b: Builder, rule: SqueezeCodeRule, x: Expr, t: Expr): Expr {
  // Integer compares on x's bits: signed ones (one SIMD instruction each), and no float compare
  // that a target flushing subnormals would get wrong.
  const bits = b.let("x_bits", asI32(bitsOf(x)));
  const absBits = b.let("x_abs_bits", and(bits, i32(0x7fffffff)));
  const negative = b.let("x_negative", lt(bits, i32(0)));
  const isNan = b.let("x_is_nan", gt(absBits, i32(0x7f800000)));
  const isInfinite = eq(absBits, i32(0x7f800000));
  const transformed = and(gt(absBits, i32(0)), lt(absBits, i32(0x7f800000)));
  // Every t below −151 gives exp2f 0 and every t from 128 up +∞: clamping keeps each code, and n
  // small (selects, not min/max: cheaper as SIMD). A NaN t (α, β are finite from the statistics,
  // so only from a caller's own) squeezes to NaN, as exp2f(NaN).
  const tIsNan = b.let("t_is_nan", ne(t, t));
  const low = select(lt(t, f32(LOWEST_BINADE)), f32(LOWEST_BINADE), t);
  const clamped = b.let("t_clamped", select(gt(low, f32(HIGHEST_BINADE)), f32(HIGHEST_BINADE), low));
  const { n, frac } = lowerExp2Split(b, clamped);
  const perBinade = Number.isInteger(Math.log2(rule.perBinade)) ? shl(n, i32(Math.log2(rule.perBinade))) : mul(n, i32(rule.perBinade));
  let code: Expr = b.let("regular_code", plusStepsPassed(add(perBinade, i32(rule.base)), frac, rule.regular));
  // Saturating formats overflow to the largest finite code: a minimum (one SIMD instruction).
  code = rule.overflow === rule.maxFinite ? min(code, i32(rule.maxFinite)) : select(gt(code, i32(rule.maxFinite)), i32(rule.overflow), code);
  if (rule.low !== null) {
    code = select(le(n, i32(rule.low.through)), plusStepsPassed(i32(rule.low.first), clamped, rule.low.thresholds), code);
  } else {
    for (const [binade, own] of rule.irregular) code = select(eq(n, i32(binade)), plusStepsPassed(i32(own.first), frac, own.steps), code);
    code = select(le(n, i32(rule.underflowThrough)), i32(rule.zero.positive), code);
  }
  // The magnitude's code, the sign bit added once; NaN codes that are not sign-symmetric by override.
  const passed = select(isNan, i32(rule.nan.positive), select(isInfinite, i32(rule.infinity.positive), i32(rule.zero.positive)));
  const magnitude = b.let("magnitude_code", select(transformed, select(tIsNan, i32(rule.nan.positive), code), passed));
  let signed = or(magnitude, select(negative, i32(rule.signBit), i32(0)));
  if (rule.nan.negative !== (rule.nan.positive | rule.signBit)) {
    signed = select(or(isNan, and(transformed, tIsNan)), select(negative, i32(rule.nan.negative), i32(rule.nan.positive)), signed);
  }
  return b.let("squeeze_code", asU32(signed));
}
