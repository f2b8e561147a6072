/**
 * The format spec language: one JSON Schema, the single source of truth.
 * `formats/format.schema.json` is this object written to disk (`npm run gen:schema`);
 * a test fails when the two differ. The TypeScript types are derived from it with
 * json-schema-to-ts, so they cannot drift from what ajv accepts.
 */
import type { FromSchema } from "json-schema-to-ts";
import { scalingSchema } from "../scaling/registry.ts";

const roundingMode = {
  description:
    "How a value between two representable neighbours is rounded. nearest-even / nearest-away: to nearest, ties to the even code / away from zero; toward-zero, toward-positive, toward-negative: directed (IEEE 754); odd: an inexact value takes the neighbour with the odd code (P3109 round-to-odd; finite overflow saturates, as toward-zero). Stochastic rounding draws `bits` random bits per element from a counter-based generator keyed by (seed, element index).",
  oneOf: [
    { type: "string", enum: ["nearest-even", "nearest-away", "toward-zero", "toward-positive", "toward-negative", "odd"] },
    {
      type: "object",
      additionalProperties: false,
      required: ["mode", "bits"],
      properties: {
        mode: { const: "stochastic" },
        bits: { type: "integer", minimum: 1, maximum: 24, description: "Random bits compared with the discarded fraction." },
      },
    },
  ],
} as const;

const floatElement = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "exponentBits", "mantissaBits", "bias", "infinity", "nan", "negativeZero", "subnormals"],
  properties: {
    kind: { const: "float" },
    signed: { type: "boolean", default: true, description: "False for unsigned formats such as E8M0 (no sign bit)." },
    exponentBits: { type: "integer", minimum: 1, maximum: 8 },
    mantissaBits: { type: "integer", minimum: 0, maximum: 23 },
    bias: {
      type: "integer",
      minimum: -128,
      maximum: 255,
      description: "Every value must be a float32: the largest binade ≤ 2^127 and the lowest binade's step 2^(minNormalExponent − mantissaBits) ≥ 2^−149.",
    },
    infinity: { type: "boolean", description: "±Inf encoded IEEE-style (exponent all ones, mantissa zero)." },
    nan: {
      enum: ["ieee", "all-ones", "negative-zero", "none"],
      description:
        "ieee: exponent all ones with non-zero mantissa; all-ones: only the all-ones magnitude (OCP E4M3, E8M0); negative-zero: the code 1000…0 (FNUZ); none: no NaN (then nanInput says what NaN becomes).",
    },
    negativeZero: { type: "boolean" },
    subnormals: {
      type: "boolean",
      description: "false: below the smallest normal, values round (with the spec's rounding) to 0 or ±min normal; codes with exponent field 0 and a non-zero mantissa decode as ±0.",
    },
    zero: {
      type: "boolean",
      default: true,
      description:
        "False when exponent field 0 is an ordinary binade and the format has no zero (E8M0): ±0 and smaller inputs encode to the smallest value of their sign; excludes subnormals, negativeZero and nan \"negative-zero\".",
    },
  },
} as const;

const positElement = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "bits", "es"],
  properties: {
    kind: { const: "posit" },
    bits: { type: "integer", minimum: 3, maximum: 32 },
    es: { type: "integer", minimum: 0, maximum: 5, description: "Exponent bits; the range must fit float32 (2^es·(bits−2) ≤ 126)." },
  },
} as const;

const intElement = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "bits", "signed", "range"],
  properties: {
    kind: { const: "int" },
    bits: { type: "integer", minimum: 2, maximum: 16 },
    signed: { type: "boolean" },
    range: {
      enum: ["full", "symmetric"],
      description: "symmetric drops the most negative code so the range is ±(2^(bits−1)−1); that code, never produced by encode, decodes as −(2^(bits−1)−1).",
    },
    fractionBits: {
      type: "integer",
      minimum: 0,
      maximum: 15,
      default: 0,
      description: "Fixed-point fraction bits: a code c stands for c·2^−fractionBits (MXINT8 uses 6).",
    },
    zeroPoint: {
      type: "integer",
      minimum: -32768,
      maximum: 65535,
      default: 0,
      description:
        "Asymmetric (affine) quantization: code q = clamp(round(x·2^fractionBits) + zeroPoint), value = (q − zeroPoint)·2^−fractionBits; a code value, so within the format's integer range.",
    },
  },
} as const;

const tableElement = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "values"],
  properties: {
    kind: { const: "table" },
    values: {
      type: "array",
      minItems: 2,
      maxItems: 256,
      items: { type: "number" },
      description:
        "A codebook (NF4, FP4, learned): code c stands for values[c]. Float32 numbers, strictly increasing; codes take ⌈log2(count)⌉ bits and codes past the last value decode as the last value. Encode rounds to a neighbouring value (nearest: ties to the even code, or away from zero) and saturates at both ends.",
    },
  },
} as const;

/** The spec schema with a placeholder for `scaling`, whose shape the scaling kinds own (src/scaling/registry.ts). */
const formatSpecBase = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://numforge.dev/format.schema.json",
  title: "numforge number format",
  description: "A number format: the element encoding, how values are rounded into it, and how a tensor is scaled before encoding.",
  type: "object",
  additionalProperties: false,
  required: ["name", "summary", "element", "rounding", "overflow", "scaling"],
  properties: {
    $schema: { type: "string" },
    name: { type: "string", pattern: "^[a-z0-9][a-z0-9_-]{0,63}$", description: "Lower-case identifier used on the command line." },
    summary: { type: "string", maxLength: 200 },
    element: { type: "object", required: ["kind"], oneOf: [floatElement, positElement, intElement, tableElement] },
    rounding: roundingMode,
    overflow: {
      enum: ["saturate", "infinity", "saturate-propagate"],
      description:
        "saturate: finite overflow and ±Inf give ±max finite; infinity: round first, then beyond max gives ±Inf (NaN where the format has no Inf; directed roundings, odd and toward-zero give ±max where they round toward zero, as IEEE 754); saturate-propagate (P3109 SatPropagate, floats with an infinity): finite overflow gives ±max, ±Inf stays ±Inf.",
    },
    nanInput: {
      enum: ["zero", "max", "min"],
      description: "What NaN encodes to when the format has no NaN: zero, the largest or the most negative finite code.",
    },
    scaling: { type: "object", required: ["kind"], properties: { kind: { type: "string" } } },
  },
} as const;

const ELEMENTS = { float: floatElement, posit: positElement, int: intElement, table: tableElement } as const;

/** `element`: its `kind` picks the fields (if/then, so errors point into the chosen kind; no custom keywords). */
const elementSchema = {
  type: "object",
  required: ["kind"],
  description: "How one value is encoded: float (sign, exponent, mantissa), posit, int, or table (a codebook).",
  properties: { kind: { enum: Object.keys(ELEMENTS) } },
  allOf: Object.entries(ELEMENTS).map(([kind, schema]) => ({ if: { type: "object", properties: { kind: { const: kind } }, required: ["kind"] }, then: schema })),
};

/** "element has these field values" (each field present). */
const elementIs = (properties: Readonly<Record<string, object>>) => ({
  type: "object",
  required: ["element"],
  properties: { element: { type: "object", properties, required: Object.keys(properties) } },
});

/** "element's fields, where present, satisfy these". */
const elementFields = (properties: Readonly<Record<string, object>>) => ({ type: "object", properties: { element: { type: "object", properties } } });

/** "scaling is of this kind". */
const scalingIs = (kind: string) => ({ type: "object", required: ["scaling"], properties: { scaling: { type: "object", properties: { kind: { const: kind } }, required: ["kind"] } } });

/** "the spec has `field`" (strict validators want a required field declared beside it). */
const has = (field: string) => ({ type: "object", properties: { [field]: true }, required: [field] });

/**
 * Rules across fields that JSON Schema can state, for editors (resolve states them too, with
 * longer messages): an IEEE infinity needs IEEE NaN; nanInput exactly when the format has no NaN
 * (ints, tables, floats with nan "none"); only floats overflow to infinity, and saturate-propagate
 * needs a float with one; posits round to nearest even; tables do not round stochastically;
 * the flags of a float element that exclude each other; the element kinds scalings need. Rules
 * on numbers (bias ranges, fraction bits < bits) or other files (scale formats) are resolve's only.
 */
const crossFieldRules = [
  { if: elementIs({ infinity: { const: true } }), then: { type: "object", properties: { element: { type: "object", properties: { nan: { const: "ieee" } } } } } },
  { if: elementIs({ kind: { const: "int" } }), then: has("nanInput") },
  { if: elementIs({ kind: { const: "table" } }), then: has("nanInput") },
  { if: elementIs({ kind: { const: "float" }, nan: { const: "none" } }), then: has("nanInput") },
  { if: elementIs({ kind: { const: "posit" } }), then: { type: "object", not: has("nanInput") } },
  { if: elementIs({ kind: { const: "float" }, nan: { enum: ["ieee", "all-ones", "negative-zero"] } }), then: { type: "object", not: has("nanInput") } },
  { if: { type: "object", properties: { overflow: { const: "infinity" } }, required: ["overflow"] }, then: { type: "object", properties: { element: { type: "object", properties: { kind: { const: "float" } } } } } },
  { if: { type: "object", properties: { overflow: { const: "saturate-propagate" } }, required: ["overflow"] }, then: elementIs({ kind: { const: "float" }, infinity: { const: true } }) },
  { if: elementIs({ kind: { const: "posit" } }), then: { type: "object", properties: { rounding: { const: "nearest-even" } } } },
  { if: elementIs({ kind: { const: "table" } }), then: { type: "object", properties: { rounding: { type: "string" } } } },
  // Inside a float element.
  { if: elementIs({ nan: { const: "ieee" } }), then: elementFields({ mantissaBits: { type: "integer", minimum: 1 } }) },
  { if: elementIs({ nan: { const: "negative-zero" } }), then: elementFields({ negativeZero: { const: false }, zero: { const: true } }) },
  { if: elementIs({ zero: { const: false } }), then: elementFields({ subnormals: { const: false }, negativeZero: { const: false } }) },
  { if: elementIs({ kind: { const: "float" }, signed: { const: false } }), then: elementFields({ negativeZero: { const: false } }) },
  { if: elementIs({ kind: { const: "int" }, signed: { const: false } }), then: elementFields({ range: { const: "full" } }) },
  // Scalings that need an element kind.
  { if: scalingIs("shift-squeeze"), then: elementFields({ kind: { const: "float" } }) },
  { if: scalingIs("shift-groups"), then: elementFields({ kind: { const: "int" }, signed: { const: true } }) },
  { if: scalingIs("block"), then: elementFields({ kind: { enum: ["float", "int", "table"] } }) },
];

/**
 * The format spec schema as validated: the base with the element kinds and each registered
 * scaling kind's schema under if/then. `crossField` adds the rules across fields (the file
 * editors read has them; `check` leaves them to resolve, whose messages explain more).
 */
export const currentFormatSpecSchema = (options: { readonly crossField?: boolean } = {}) => ({
  ...formatSpecBase,
  properties: { ...formatSpecBase.properties, element: elementSchema, scaling: scalingSchema() },
  ...(options.crossField === true ? { allOf: crossFieldRules } : {}),
});
/** The schema of formats/format.schema.json: the built-in scaling kinds and the cross-field rules. */
export const formatSpecSchema = currentFormatSpecSchema({ crossField: true });

/** A spec's `scaling` object; the kind's own schema (src/scaling/<kind>) gives its fields a type. */
export type ScalingSpec = { readonly kind: string } & Readonly<Record<string, unknown>>;
/** A format spec exactly as ajv accepts it (before defaults are applied). */
export type FormatSpec = Omit<FromSchema<typeof formatSpecBase>, "scaling"> & { readonly scaling: ScalingSpec };
export type ElementSpec = FormatSpec["element"];
export type FloatElementSpec = Extract<ElementSpec, { kind: "float" }>;
export type PositElementSpec = Extract<ElementSpec, { kind: "posit" }>;
export type IntElementSpec = Extract<ElementSpec, { kind: "int" }>;
export type TableElementSpec = Extract<ElementSpec, { kind: "table" }>;
export type RoundingSpec = FormatSpec["rounding"];
