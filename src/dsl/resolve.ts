/**
 * resolve: a schema-valid spec → a frozen ResolvedFormat. Checks the facts the schema cannot
 * (fields that contradict each other, ranges that leave float32) and derives every constant.
 */
import * as Effect from "effect/Effect";
import { match } from "ts-pattern";
import { scalingKindNamed } from "../scaling/registry.ts";
import { SpecError, UnknownFormatError } from "./errors.ts";
import type { FloatElementSpec, FormatSpec, IntElementSpec, PositElementSpec, RoundingSpec, ScalingSpec } from "./spec-schema.ts";
import { resolveTable } from "./resolve-table.ts";
import type {
  NanInput,
  ResolvedElement,
  ResolvedFloat,
  ResolvedFormat,
  ResolvedInt,
  ResolvedPosit,
  ResolvedScaling,
  Rounding,
  SpecialCodes,
} from "./resolved.ts";

/** Finds another format by name (block scale formats refer to one). */
export type FormatLookup = (name: string) => Effect.Effect<ResolvedFormat, SpecError | UnknownFormatError>;

/** Largest binade exponent and smallest subnormal exponent of float32: kernels exchange f32. */
const F32_MAX_EXPONENT = 127;
const F32_MIN_SUBNORMAL_EXPONENT = -149;

export interface Ranges {
  readonly element: ResolvedElement;
  readonly maxFinite: number;
  readonly minFinite: number;
  readonly minNormal: number;
  readonly minSubnormal: number;
  readonly epsilon: number;
  readonly codes: SpecialCodes;
}

export type Fail = (pointer: string, message: string) => Effect.Effect<never, SpecError>;

/** Resolves a spec that already passed the schema; `file` is only used in messages. */
export function resolveFormat(spec: FormatSpec, file: string, lookup: FormatLookup): Effect.Effect<ResolvedFormat, SpecError> {
  return Effect.gen(function* () {
    const fail = (pointer: string, message: string) => Effect.fail(new SpecError({ file, pointer, message }));
    const ranges = yield* match(spec.element)
      .with({ kind: "float" }, (e) => resolveFloat(e, fail))
      .with({ kind: "posit" }, (e) => resolvePosit(e, fail))
      .with({ kind: "int" }, (e) => resolveInt(e, fail))
      .with({ kind: "table" }, (e) => resolveTable(e, fail))
      .exhaustive();
    const element = ranges.element;
    const hasNaN = ranges.codes.nan !== null;
    const hasInfinity = ranges.codes.positiveInfinity !== null;
    const rounding = resolveRounding(spec.rounding);

    if (element.kind === "posit" && rounding.mode !== "nearest-even")
      return yield* fail("/rounding", "posits round to nearest, ties to even, on the bit pattern; rounding must be \"nearest-even\"");
    if (element.kind === "table" && rounding.mode === "stochastic")
      return yield* fail("/rounding", "a table's values are not evenly spaced, so stochastic rounding is not defined for it; use a deterministic mode (nearest-even, nearest-away, toward-zero, toward-positive, toward-negative or odd)");
    if (spec.overflow !== "saturate" && element.kind !== "float")
      return yield* fail("/overflow", `${element.kind} formats saturate; overflow must be "saturate"`);
    if (spec.overflow === "saturate-propagate" && !hasInfinity)
      return yield* fail("/overflow", "\"saturate-propagate\" keeps ±Inf as ±Inf, and this format has no infinity; use \"saturate\" (±Inf gives ±max) or \"infinity\"");
    if (spec.overflow === "infinity" && !hasNaN && !hasInfinity)
      return yield* fail("/overflow", "\"infinity\" needs a format with an infinity or a NaN to overflow to; use \"saturate\"");
    if (!hasNaN && spec.nanInput === undefined)
      return yield* fail("/nanInput", "missing: this format has no NaN, so the spec must say what NaN becomes (\"zero\", \"max\" or \"min\")");
    if (hasNaN && spec.nanInput !== undefined)
      return yield* fail("/nanInput", "this format has a NaN; nanInput applies only to formats without one");
    // A float without zero maps NaN to what 0 encodes to (its smallest value); a table has no such rule.
    if (spec.nanInput === "zero" && element.kind === "table" && ranges.codes.positiveZero === null)
      return yield* fail("/nanInput", "\"zero\": this table has no value 0 for NaN to encode to; add 0 to its values or use \"max\" or \"min\"");

    const bits = element.bits;
    const unscaled: ResolvedFormat = {
      name: spec.name,
      summary: spec.summary,
      element,
      rounding,
      overflow: spec.overflow,
      nanInput: (spec.nanInput ?? null) as NanInput | null,
      scaling: { kind: "none" },
      bits,
      codeCount: 2 ** bits,
      maxFinite: ranges.maxFinite,
      minFinite: ranges.minFinite,
      minNormal: ranges.minNormal,
      minSubnormal: ranges.minSubnormal,
      epsilon: ranges.epsilon,
      dynamicRangeBinades: Math.log2(ranges.maxFinite / ranges.minSubnormal),
      hasNaN,
      hasInfinity,
      codes: ranges.codes,
    };
    const scaling = yield* resolveScaling(spec.scaling, unscaled, file, lookup);
    if (scaling.kind !== "none" && !(ranges.maxFinite > 0))
      return yield* fail("/scaling", `${scaling.kind} scaling maps a tensor's largest magnitude onto the element's largest value, and this format's largest value is ${ranges.maxFinite}; it needs a positive one, or scaling "none"`);
    if (element.kind === "int" && element.zeroPoint !== 0 && scaling.kind !== "none" && scaling.kind !== "amax" && scaling.kind !== "block")
      return yield* fail("/element/zeroPoint", `${scaling.kind} scaling has its own integer layout; a zero point works with scaling "none", "amax" or "block"`);
    return deepFreeze({ ...unscaled, scaling });
  });
}

export function resolveRounding(spec: RoundingSpec): Rounding {
  return typeof spec === "string" ? { mode: spec, bits: 0 } : { mode: "stochastic", bits: spec.bits };
}

function resolveFloat(spec: FloatElementSpec, fail: Fail): Effect.Effect<Ranges, SpecError> {
  return Effect.gen(function* () {
    const signed = spec.signed ?? true;
    const zero = spec.zero ?? true;
    const e = spec.exponentBits;
    const m = spec.mantissaBits;
    const bits = (signed ? 1 : 0) + e + m;
    if (bits > 32) return yield* fail("/element", `sign + exponent + mantissa is ${bits} bits; at most 32`);
    if (spec.infinity !== (spec.nan === "ieee"))
      return yield* fail(spec.infinity ? "/element/infinity" : "/element/nan", "IEEE-style infinities and NaNs come together: infinity true requires nan \"ieee\" and nan \"ieee\" requires infinity true");
    if (spec.nan === "ieee" && m === 0)
      return yield* fail("/element/nan", "IEEE NaNs need at least one mantissa bit to tell them from infinity; use \"all-ones\"");
    if (!signed && (spec.negativeZero || spec.nan === "negative-zero"))
      return yield* fail(spec.negativeZero ? "/element/negativeZero" : "/element/nan", "an unsigned format has no negative zero code");
    if (spec.nan === "negative-zero" && spec.negativeZero)
      return yield* fail("/element/negativeZero", "with nan \"negative-zero\" the code 1000…0 is NaN, so negativeZero must be false");
    if (!zero && (spec.subnormals || spec.negativeZero))
      return yield* fail(spec.subnormals ? "/element/subnormals" : "/element/negativeZero", "a format without zero has no subnormals and no negative zero");
    if (!zero && spec.nan === "negative-zero")
      return yield* fail("/element/nan", "without zero the code 1000…0 is −(smallest value), not a negative zero that could be NaN; use \"none\" or \"all-ones\", or zero true");

    const exponentAllOnes = 2 ** e - 1;
    const mantissaAllOnes = 2 ** m - 1;
    // Only the NaN encodings take codes away from the largest binade.
    const [maxExponentField, maxMantissa] =
      spec.nan === "ieee" ? [exponentAllOnes - 1, mantissaAllOnes]
      : spec.nan === "all-ones" ? (m === 0 ? [exponentAllOnes - 1, 0] : [exponentAllOnes, mantissaAllOnes - 1])
      : [exponentAllOnes, mantissaAllOnes];
    const minNormalField = zero ? 1 : 0;
    if (maxExponentField < minNormalField)
      return yield* fail("/element/exponentBits", `${e} exponent bit(s) with nan "${spec.nan}" leave no normal binade; use more exponent bits`);
    const minNormalExponent = minNormalField - spec.bias;
    const maxExponent = maxExponentField - spec.bias;
    const minSubnormalExponent = minNormalExponent - (spec.subnormals ? m : 0);
    // Every value is a multiple of the lowest binade's step 2^(minNormalExponent − m), subnormals
    // or not: float32 must hold that step and the largest binade for every value to be exact.
    const minStepExponent = minNormalExponent - m;
    if (maxExponent > F32_MAX_EXPONENT || minStepExponent < F32_MIN_SUBNORMAL_EXPONENT) {
      const span = maxExponent - minStepExponent;
      if (span > F32_MAX_EXPONENT - F32_MIN_SUBNORMAL_EXPONENT)
        return yield* fail("/element", `${e} exponent and ${m} mantissa bits put the largest binade ${span} binades above the finest step, float32's only ${F32_MAX_EXPONENT - F32_MIN_SUBNORMAL_EXPONENT} (steps of 2^${F32_MIN_SUBNORMAL_EXPONENT} up to 2^${F32_MAX_EXPONENT}), so no bias fits; use fewer exponent or mantissa bits`);
      const lo = maxExponentField - F32_MAX_EXPONENT;
      const hi = minNormalField - m - F32_MIN_SUBNORMAL_EXPONENT;
      return yield* fail("/element/bias", `bias ${spec.bias} puts the values in steps of 2^${minStepExponent} up to 2^${maxExponent}, outside float32 (steps of 2^${F32_MIN_SUBNORMAL_EXPONENT} up to 2^${F32_MAX_EXPONENT}); for these field widths the bias must be ${lo === hi ? `${lo}` : `in ${lo}..${hi}`}`);
    }
    const element: ResolvedFloat = {
      kind: "float", bits, signed, exponentBits: e, mantissaBits: m, bias: spec.bias, infinity: spec.infinity,
      nan: spec.nan, negativeZero: spec.negativeZero, subnormals: spec.subnormals, zero,
      minNormalExponent, maxExponent, maxMantissaAtMaxExponent: maxMantissa,
    };
    const maxFinite = 2 ** maxExponent * (1 + maxMantissa / 2 ** m);
    const minNormal = 2 ** minNormalExponent;
    const signBit = signed ? 2 ** (bits - 1) : 0;
    const maxCode = maxExponentField * 2 ** m + maxMantissa;
    const nan =
      spec.nan === "ieee" ? exponentAllOnes * 2 ** m + 2 ** (m - 1)
      : spec.nan === "all-ones" ? 2 ** (e + m) - 1
      : spec.nan === "negative-zero" ? signBit
      : null;
    const infinity = spec.infinity ? exponentAllOnes * 2 ** m : null;
    const oneRepresentable = minNormalExponent <= 0 && maxExponent >= 0;
    return {
      element,
      maxFinite,
      minFinite: signed ? -maxFinite : zero ? 0 : 2 ** minNormalExponent,
      minNormal,
      minSubnormal: 2 ** minSubnormalExponent,
      epsilon: oneRepresentable ? 2 ** -m : Number.NaN,
      codes: {
        positiveZero: zero ? 0 : null,
        negativeZero: spec.negativeZero ? signBit : null,
        positiveInfinity: infinity,
        negativeInfinity: infinity === null || !signed ? null : infinity + signBit,
        nan,
        negativeNan: nan === null ? null : spec.nan === "negative-zero" || !signed ? nan : nan + signBit,
        maxFinite: maxCode,
        minFinite: signed ? maxCode + signBit : 0,
      },
    };
  });
}

function resolvePosit(spec: PositElementSpec, fail: Fail): Effect.Effect<Ranges, SpecError> {
  const n = spec.bits;
  const es = spec.es;
  const maxPosLog2 = 2 ** es * (n - 2);
  if (maxPosLog2 > F32_MAX_EXPONENT - 1) {
    let maxEs = 0;
    while (2 ** (maxEs + 1) * (n - 2) <= F32_MAX_EXPONENT - 1) maxEs++;
    return fail("/element/es", `es ${es} gives posit<${n},${es}> a range of 2^±${maxPosLog2}, beyond float32; with ${n} bits es must be at most ${maxEs}`);
  }
  // Near 1 a posit has n−3−es fraction bits; when the regime leaves fewer than es exponent
  // bits the next value above 1 is 2^(2^(missing exponent bits)).
  const fractionBitsAtOne = n - 3 - es;
  const epsilon = fractionBitsAtOne >= 0 ? 2 ** -fractionBitsAtOne : 2 ** 2 ** -fractionBitsAtOne - 1;
  const element: ResolvedPosit = { kind: "posit", bits: n, es };
  const maxFinite = 2 ** maxPosLog2;
  const nar = 2 ** (n - 1);
  return Effect.succeed({
    element,
    maxFinite,
    minFinite: -maxFinite,
    minNormal: 2 ** -maxPosLog2,
    minSubnormal: 2 ** -maxPosLog2,
    epsilon,
    codes: {
      positiveZero: 0, negativeZero: null, positiveInfinity: null, negativeInfinity: null,
      nan: nar, negativeNan: nar, maxFinite: nar - 1, minFinite: nar + 1,
    },
  });
}

function resolveInt(spec: IntElementSpec, fail: Fail): Effect.Effect<Ranges, SpecError> {
  const n = spec.bits;
  const fractionBits = spec.fractionBits ?? 0;
  if (!spec.signed && spec.range === "symmetric")
    return fail("/element/range", "\"symmetric\" drops the most negative code of a signed format; an unsigned format must use \"full\"");
  if (fractionBits >= n)
    return fail("/element/fractionBits", `${fractionBits} fraction bits leave no integer bit in a ${n}-bit code; at most ${n - 1}`);
  const maxInt = spec.signed ? 2 ** (n - 1) - 1 : 2 ** n - 1;
  const minInt = !spec.signed ? 0 : spec.range === "symmetric" ? -maxInt : -(2 ** (n - 1));
  const zeroPoint = spec.zeroPoint ?? 0;
  if (zeroPoint < minInt || zeroPoint > maxInt)
    return fail("/element/zeroPoint", `zero point ${zeroPoint} is not a code value of this ${n}-bit ${spec.signed ? "signed" : "unsigned"} format; it must be in ${minInt}..${maxInt}`);
  const unit = 2 ** -fractionBits;
  const element: ResolvedInt = { kind: "int", bits: n, signed: spec.signed, minInt, maxInt, fractionBits, zeroPoint };
  const zeroCode = zeroPoint < 0 ? zeroPoint + 2 ** n : zeroPoint;
  return Effect.succeed({
    element,
    maxFinite: (maxInt - zeroPoint) * unit,
    minFinite: (minInt - zeroPoint) * unit,
    minNormal: unit,
    minSubnormal: unit,
    epsilon: (maxInt - zeroPoint) * unit >= 1 ? unit : Number.NaN,
    codes: {
      positiveZero: zeroCode, negativeZero: null, positiveInfinity: null, negativeInfinity: null, nan: null, negativeNan: null,
      maxFinite: maxInt, minFinite: minInt < 0 ? minInt + 2 ** n : 0,
    },
  });
}

/** The spec's scaling, resolved by its kind (src/scaling/registry.ts) against the unscaled format. */
function resolveScaling(spec: ScalingSpec, unscaled: ResolvedFormat, file: string, lookup: FormatLookup): Effect.Effect<ResolvedScaling, SpecError> {
  const kind = scalingKindNamed(spec.kind);
  if (kind === undefined) return Effect.fail(new SpecError({ file, pointer: "/scaling/kind", message: `unknown scaling kind "${spec.kind}"` }));
  const fail = (pointer: string, message: string) => Effect.fail(new SpecError({ file, pointer: `/scaling${pointer}`, message }));
  return kind.resolve(spec as never, { unscaled, file, lookup, fail });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
