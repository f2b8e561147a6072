/**
 * fast-check arbitraries over the whole format spec language, aimed at specs that validate: every
 * float field combination (exponent and mantissa widths, bias, infinity, NaN encoding, negative
 * zero, subnormals, zero, signedness), posits of any width and es, integers of any width,
 * signedness, range and fraction bits, every rounding (stochastic with 1–24 bits), both overflows
 * and the NaN input policies. Most draws satisfy resolve's cross-field rules by construction (the
 * bias is drawn inside the window that keeps the range in float32); a small share is drawn from
 * the schema's whole range, so resolve's rejections are exercised too.
 *
 * Scaling: SCALINGS lists the scaling arbitraries the generator picks from, one per kind (none,
 * amax, block, shift-squeeze, shift-groups), each given the element spec it will scale (null where
 * the kind does not apply to it) so it mostly stays valid for it; a new kind joins the fuzz by
 * adding an entry. The harness
 * (check.ts) holds a scaled format's plans to the tensor semantics.
 */
import fc from "fast-check";
import type { PositElementSpec, RoundingSpec, ScalingSpec } from "../../src/dsl/spec-schema.ts";
import type { WrittenElement, WrittenSpec } from "./resolve-spec.ts";

type FloatElementSpec = Extract<WrittenElement, { kind: "float" }>;
type IntElementSpec = Extract<WrittenElement, { kind: "int" }>;

/** float32's exponent limits: the format's largest binade and smallest value must lie inside. */
const F32_MAX_EXPONENT = 127;
const F32_MIN_SUBNORMAL_EXPONENT = -149;
/** The schema's bias bounds. */
const BIAS_MIN = -128;
const BIAS_MAX = 255;

type NanEncoding = FloatElementSpec["nan"];

/** The bias window [lo, hi] that keeps a float's range inside float32 (empty when lo > hi), as resolve computes it. */
export function floatBiasWindow(el: Omit<FloatElementSpec, "bias">): { lo: number; hi: number } {
  const e = el.exponentBits;
  const m = el.mantissaBits;
  const zero = el.zero ?? true;
  const exponentAllOnes = 2 ** e - 1;
  const maxExponentField = el.nan === "ieee" || (el.nan === "all-ones" && m === 0) ? exponentAllOnes - 1 : exponentAllOnes;
  const minNormalField = zero ? 1 : 0;
  return {
    lo: Math.max(BIAS_MIN, maxExponentField - F32_MAX_EXPONENT),
    // The lowest binade's step 2^(minNormal exponent − m) must be a float32 step, subnormals or not.
    hi: Math.min(BIAS_MAX, minNormalField - m - F32_MIN_SUBNORMAL_EXPONENT),
  };
}

/** Whether a draw keeps resolve's cross-field rules (12 in 13 do; the rest exercise its rejections). */
const mostlyStrict = fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

/** Small widths are drawn more often: they are the exhaustively checkable ones. */
const exponentBits = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }) });
const mantissaBits = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 10 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 23 }) },
);

/** A bias in the float32 window: at its ends (range at float32's edges) or anywhere in it; sometimes anywhere in the schema's range. */
function biasIn(window: { lo: number; hi: number }): fc.Arbitrary<number> {
  const anywhere = fc.integer({ min: BIAS_MIN, max: BIAS_MAX });
  if (window.lo > window.hi) return anywhere;
  const usual = Math.min(Math.max(0, window.lo), window.hi);
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: window.lo, max: window.hi }) },
    { weight: 2, arbitrary: fc.constantFrom(window.lo, window.hi, usual) },
    { weight: 1, arbitrary: anywhere },
  );
}

/** Float elements; the NaN encoding decides infinity, and the other flags are drawn consistent with it most of the time. */
export const floatElement: fc.Arbitrary<FloatElementSpec> = fc
  .record({
    signed: fc.boolean(),
    exponentBits,
    mantissaBits,
    nan: fc.constantFrom<NanEncoding>("ieee", "all-ones", "negative-zero", "none"),
    negativeZero: fc.boolean(),
    subnormals: fc.boolean(),
    zero: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    spelled: fc.record({ signed: fc.boolean(), zero: fc.boolean() }), // whether defaults are written out
    strict: mostlyStrict,
  })
  .chain(({ signed, exponentBits: e, mantissaBits: m0, nan: nan0, negativeZero: nz0, subnormals: sub0, zero, spelled, strict }) => {
    const m = Math.min(m0, 32 - e - (signed ? 1 : 0));
    // The cross-field rules resolve enforces, applied unless this draw tests resolve's rejections.
    let nan = nan0;
    if (strict && nan === "ieee" && m === 0) nan = "all-ones";
    if (strict && (!signed || !zero) && nan === "negative-zero") nan = "none";
    // One exponent bit holds no normal binade once "ieee" (or "all-ones" without mantissa) takes its top field.
    if (strict && e === 1 && zero && (nan === "ieee" || (nan === "all-ones" && m === 0))) nan = "none";
    const negativeZero = strict ? nz0 && signed && zero && nan !== "negative-zero" : nz0;
    const subnormals = strict ? sub0 && zero : sub0;
    const infinity = strict ? nan === "ieee" : nan === "ieee" || nz0;
    const base = {
      kind: "float" as const,
      ...(spelled.signed || !signed ? { signed } : {}),
      exponentBits: e,
      mantissaBits: m,
      infinity,
      nan,
      negativeZero,
      subnormals,
      ...(spelled.zero || !zero ? { zero } : {}),
    };
    return biasIn(floatBiasWindow(base)).map((bias): FloatElementSpec => ({ ...base, bias }));
  });

/** Posits of any width with es ≤ 5, mostly inside the float32 range (2^es·(bits−2) ≤ 126). */
export const positElement: fc.Arbitrary<PositElementSpec> = fc
  .record({
    bits: fc.oneof({ weight: 2, arbitrary: fc.integer({ min: 3, max: 16 }) }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 32 }) }),
    es: fc.integer({ min: 0, max: 5 }),
    strict: mostlyStrict,
  })
  .map(({ bits, es, strict }) => {
    let fitted = es;
    while (strict && fitted > 0 && 2 ** fitted * (bits - 2) > 126) fitted--;
    return { kind: "posit", bits, es: fitted };
  });

/** Integers and fixed point of any width, signedness, range and fraction bits. */
export const intElement: fc.Arbitrary<IntElementSpec> = fc
  .record({ bits: fc.integer({ min: 2, max: 16 }), signed: fc.boolean(), symmetric: fc.boolean(), fraction: fc.nat(), spelled: fc.boolean(), strict: mostlyStrict })
  .map(({ bits, signed, symmetric, fraction, spelled, strict }): IntElementSpec => {
    const fractionBits = strict ? fraction % bits : Math.min(fraction % (bits + 2), 15);
    const range = symmetric && (signed || !strict) ? "symmetric" : "full";
    return { kind: "int", bits, signed, range, ...(fractionBits > 0 || spelled ? { fractionBits } : {}) };
  });

export const elementSpec: fc.Arbitrary<WrittenElement> = fc.oneof({ weight: 6, arbitrary: floatElement }, { weight: 2, arbitrary: positElement }, { weight: 2, arbitrary: intElement });

export const roundingSpec: fc.Arbitrary<RoundingSpec> = fc.oneof(
  fc.constantFrom<RoundingSpec>("nearest-even", "nearest-away", "toward-zero"),
  fc.integer({ min: 1, max: 24 }).map((bits): RoundingSpec => ({ mode: "stochastic", bits })),
);

/**
 * The scaling arbitraries the generator draws from, each given the element it scales (null: not
 * for this element). Add a kind here to fuzz it (the harness compares every plan of the format with the tensor semantics).
 */
export const SCALINGS: readonly ((element: WrittenElement) => fc.Arbitrary<ScalingSpec> | null)[] = [
  () => fc.constant({ kind: "none" }),
  () =>
    fc.record({
      kind: fc.constant("amax"),
      granularity: fc.constantFrom("tensor", "channel"),
      history: fc.oneof(fc.constant("current"), fc.record({ mode: fc.constant("delayed"), length: fc.integer({ min: 1, max: 4 }) })),
      margin: fc.integer({ min: 0, max: 3 }),
      scale: fc.constantFrom("fp32", "power-of-two"),
    }),
  // Block scaling over floats and ints: power-of-two (MX) or float32-quotient scales, 1-D blocks or tiles, with or without a tensor level.
  (element) =>
    element.kind === "posit"
      ? null
      : fc
          .record({
            granularity: fc.oneof(
              fc.record({ block: fc.integer({ min: 1, max: 40 }) }),
              fc.record({ tile: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 })) }),
            ),
            scale: fc.oneof(
              fc.record({ format: fc.constant("e8m0"), rounding: fc.constantFrom("floor", "ceil", "even") }),
              fc.record({ format: fc.constantFrom("fp32", "e4m3", "bf16", "fp16"), rounding: fc.constantFrom("nearest-even", "ceil-power-of-two") }),
            ),
            level: fc.boolean(),
          })
          .map(({ granularity, scale, level }) => ({
            kind: "block",
            granularity,
            scale,
            ...(level && scale.rounding === "nearest-even" ? { tensorScale: { format: "fp32" } } : {}),
          })),
  // S2FP8 needs a float whose largest value is at least 2^targetMaxLog2: the top binade, less one for safety (NaN codes there).
  (element) => {
    if (element.kind !== "float") return null;
    const top = 2 ** element.exponentBits - 1 - (element.infinity || element.nan === "ieee" ? 1 : 0) - element.bias - 1;
    return top >= 1 ? fc.record({ kind: fc.constant("shift-squeeze"), targetMaxLog2: fc.integer({ min: 1, max: Math.min(top, 8) }) }) : null;
  },
  (element) => (element.kind === "int" && element.signed ? fc.record({ kind: fc.constant("shift-groups"), groups: fc.integer({ min: 1, max: 6 }) }) : null),
];

/** Whether the element has a NaN code (resolve's rule; decides whether nanInput is required). */
function hasNan(element: WrittenElement): boolean {
  return element.kind === "posit" || (element.kind === "float" && element.nan !== "none");
}

/** Whether the element can overflow to an infinity or a NaN. */
function canOverflowToSpecial(element: WrittenElement): boolean {
  return element.kind === "float" && (element.nan !== "none" || element.infinity);
}

/** A whole format spec: element, rounding, overflow, NaN input and scaling, mostly consistent with each other. */
export const formatSpec: fc.Arbitrary<WrittenSpec> = elementSpec.chain((element) =>
  fc
    .record({
      rounding: roundingSpec,
      overflow: fc.constantFrom("saturate" as const, "infinity" as const),
      nanInput: fc.constantFrom("zero" as const, "max" as const, "min" as const),
      scaling: fc.oneof(...SCALINGS.flatMap((s) => s(element) ?? [])),
      strict: mostlyStrict,
    })
    .map(({ rounding, overflow, nanInput, scaling, strict }): WrittenSpec => {
      const positRounding = strict && element.kind === "posit";
      const fitsOverflow = !strict || canOverflowToSpecial(element);
      const needsNanInput = !hasNan(element);
      return {
        name: "fuzz",
        summary: "a generated spec",
        element,
        rounding: positRounding ? "nearest-even" : rounding,
        overflow: fitsOverflow ? overflow : "saturate",
        ...(needsNanInput || !strict ? { nanInput } : {}),
        scaling,
      };
    }),
);
