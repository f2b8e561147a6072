/**
 * The format spec language: one JSON Schema, the single source of truth.
 * `formats/format.schema.json` is this object written to disk (`npm run gen:schema`);
 * a test fails when the two differ. The TypeScript types are derived from it with
 * json-schema-to-ts, so they cannot drift from what ajv accepts.
 */
import type { FromSchema } from "json-schema-to-ts";

const roundingMode = {
  description:
    "How a value between two representable neighbours is rounded. Stochastic rounding draws `bits` random bits per element from a counter-based generator keyed by (seed, element index).",
  oneOf: [
    { type: "string", enum: ["nearest-even", "nearest-away", "toward-zero"] },
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
    bias: { type: "integer", minimum: -128, maximum: 255 },
    infinity: { type: "boolean", description: "±Inf encoded IEEE-style (exponent all ones, mantissa zero)." },
    nan: {
      enum: ["ieee", "all-ones", "negative-zero", "none"],
      description:
        "ieee: exponent all ones with non-zero mantissa; all-ones: only the all-ones magnitude (OCP E4M3, E8M0); negative-zero: the code 1000…0 (FNUZ); none: no NaN (then nanInput says what NaN becomes).",
    },
    negativeZero: { type: "boolean" },
    subnormals: { type: "boolean" },
    zero: {
      type: "boolean",
      default: true,
      description: "False when exponent field 0 is an ordinary binade and the format has no zero (E8M0).",
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
      description: "symmetric drops the most negative code so the range is ±(2^(bits−1)−1).",
    },
    fractionBits: {
      type: "integer",
      minimum: 0,
      maximum: 15,
      default: 0,
      description: "Fixed-point fraction bits: a code c stands for c·2^−fractionBits (MXINT8 uses 6).",
    },
  },
} as const;

const amaxScaling = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "granularity", "history", "scale"],
  properties: {
    kind: { const: "amax" },
    granularity: { enum: ["tensor", "channel"], description: "channel: one scale per leading-axis slice." },
    history: {
      description: "current: scale from this tensor's amax; delayed: from the max over the last `length` amaxes (Transformer Engine style).",
      oneOf: [
        { const: "current" },
        {
          type: "object",
          additionalProperties: false,
          required: ["mode", "length"],
          properties: { mode: { const: "delayed" }, length: { type: "integer", minimum: 1, maximum: 4096 } },
        },
      ],
    },
    margin: { type: "integer", minimum: 0, maximum: 32, default: 0, description: "The scale is divided by 2^margin." },
    scale: { enum: ["fp32", "power-of-two"], description: "fp32: maxFinite/amax; power-of-two: that rounded down to a power of two." },
  },
} as const;

const blockScaling = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "blockSize", "scaleFormat", "scaleRounding"],
  properties: {
    kind: { const: "block" },
    blockSize: { type: "integer", minimum: 1, maximum: 4096, description: "Consecutive elements sharing one scale (MX: 32)." },
    scaleFormat: { type: "string", pattern: "^[a-z0-9][a-z0-9_-]{0,63}$", description: "Name of a power-of-two format (mantissaBits 0) such as e8m0." },
    scaleRounding: {
      enum: ["floor", "ceil", "even"],
      description: "floor: 2^(⌊log2 amax⌋ − emax) as OCP MX; ceil: smallest power of two with no clipping; even: the nearer of the two in log2.",
    },
  },
} as const;

const shiftSqueezeScaling = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "targetMaxLog2"],
  properties: {
    kind: { const: "shift-squeeze" },
    targetMaxLog2: {
      type: "number",
      minimum: 1,
      maximum: 126,
      description: "S2FP8: log2|Y| = α·log2|X| + β with mean(log2|Y|) = 0 and max(log2|Y|) = targetMaxLog2 (15 for E5M2).",
    },
  },
} as const;

const shiftGroupsScaling = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "groups"],
  properties: {
    kind: { const: "shift-groups" },
    groups: {
      type: "integer",
      minimum: 1,
      maximum: 32,
      description: "ShiftQuant: channels take the power-of-two scale of their magnitude, clamped to `groups` consecutive shifts below the largest.",
    },
  },
} as const;

export const formatSpecSchema = {
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
    element: { type: "object", required: ["kind"], discriminator: { propertyName: "kind" }, oneOf: [floatElement, positElement, intElement] },
    rounding: roundingMode,
    overflow: {
      enum: ["saturate", "infinity"],
      description: "saturate: finite overflow and ±Inf give ±max finite; infinity: round first, then beyond max gives ±Inf (NaN where the format has no Inf).",
    },
    nanInput: {
      enum: ["zero", "max", "min"],
      description: "What NaN encodes to when the format has no NaN: zero, the largest or the most negative finite code.",
    },
    scaling: {
      type: "object",
      required: ["kind"],
      discriminator: { propertyName: "kind" },
      oneOf: [{ type: "object", additionalProperties: false, required: ["kind"], properties: { kind: { const: "none" } } }, amaxScaling, blockScaling, shiftSqueezeScaling, shiftGroupsScaling],
    },
  },
} as const;

/** A format spec exactly as ajv accepts it (before defaults are applied). */
export type FormatSpec = FromSchema<typeof formatSpecSchema>;
export type ElementSpec = FormatSpec["element"];
export type FloatElementSpec = Extract<ElementSpec, { kind: "float" }>;
export type PositElementSpec = Extract<ElementSpec, { kind: "posit" }>;
export type IntElementSpec = Extract<ElementSpec, { kind: "int" }>;
export type RoundingSpec = FormatSpec["rounding"];
export type ScalingSpec = FormatSpec["scaling"];
