/**
 * Schema validation of format specs with ajv. Turns ajv's first error into a SpecError that
 * names the JSON pointer of the offending field and says what is allowed there.
 */
import * as Effect from "effect/Effect";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { pointerToken } from "./json-text.ts";
import { currentFormatSpecSchema, type FormatSpec } from "./spec-schema.ts";
import { retiredScalingShape, scalingGeneration } from "../scaling/registry.ts";
import { excerpt, SpecError } from "./errors.ts";

/** Compiles a schema once (standard draft 2020-12, strict: no custom keywords). */
export function compileSchema<T>(schema: object): ValidateFunction<T> {
  const ajv = new Ajv2020({ allErrors: false, verbose: true, strict: true, strictTuples: false });
  return ajv.compile<T>(schema);
}

let compiled: { readonly generation: number; readonly validate: ValidateFunction<FormatSpec> } | undefined;

/** The format schema's validator, compiled again when a scaling kind has been registered since. */
function formatValidator(): ValidateFunction<FormatSpec> {
  if (compiled?.generation !== scalingGeneration()) compiled = { generation: scalingGeneration(), validate: compileSchema<FormatSpec>(currentFormatSpecSchema()) };
  return compiled.validate;
}

/** Validates parsed JSON against the format schema. */
export function validateSpec(json: unknown, file: string): Effect.Effect<FormatSpec, SpecError> {
  // A shape numforge accepted before gets a message naming the new one, not "unknown field".
  const retired = retiredScalingShape(json);
  if (retired !== null) return Effect.fail(new SpecError({ file, ...retired }));
  const validateFormatSpec = formatValidator();
  return validateFormatSpec(json)
    ? Effect.succeed(json)
    : Effect.fail(schemaError(validateFormatSpec.errors ?? [], file));
}

/** The first ajv error, phrased for a person: where, what is wrong, what is allowed. */
export function schemaError(errors: readonly ErrorObject[], file: string): SpecError {
  const error = pickError(errors);
  if (error === undefined) return new SpecError({ file, pointer: "", message: "invalid spec" });
  const { pointer, message } = describeError(error);
  return new SpecError({ file, pointer, message });
}

// A oneOf without a discriminator reports each branch's failure before its own. A branch error
// inside the value (deeper than the oneOf) means the value took that branch's shape and names the
// wrong field; otherwise the oneOf error itself says what the alternatives were.
function pickError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const oneOf = errors.find((e) => e.keyword === "oneOf");
  if (oneOf === undefined) return errors[0];
  const deeper = errors.find((e) => e.instancePath.startsWith(`${oneOf.instancePath}/`) && e.keyword !== "oneOf");
  return deeper ?? oneOf;
}

/** Plain words for the patterns of the schema. */
const PATTERN_WORDS: Readonly<Record<string, string>> = {
  "^[a-z0-9][a-z0-9_-]{0,63}$": "a lower-case identifier: a-z, 0-9, _ and -, starting with a letter or digit, at most 64 characters",
};

const ARTICLE: Readonly<Record<string, string>> = { object: "an object", integer: "an integer", array: "an array", string: "a string", number: "a number", boolean: "a boolean" };

function describeError(error: ErrorObject): { pointer: string; message: string } {
  const at = error.instancePath;
  const got = error.data === undefined ? "" : ` (got ${show(error.data)})`;
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const allowed = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const field = String(p.additionalProperty);
      return { pointer: `${at}/${pointerToken(field)}`, message: `unknown field "${excerpt(field)}"; allowed fields: ${allowed.join(", ")}` };
    }
    case "required":
      return { pointer: at, message: `missing required field "${String(p.missingProperty)}"` };
    case "enum":
      return { pointer: at, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}${got}` };
    case "const":
      return { pointer: at, message: `must be ${JSON.stringify(p.allowedValue)}${got}` };
    case "type":
      return { pointer: at, message: `must be ${ARTICLE[String(p.type)] ?? String(p.type)}${got}` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { pointer: at, message: `must be ${String(p.comparison)} ${String(p.limit)}${got}` };
    case "pattern":
      return { pointer: at, message: `must be ${PATTERN_WORDS[String(p.pattern)] ?? `a string matching ${String(p.pattern)}`}${got}` };
    case "maxLength":
    case "minLength":
      return { pointer: at, message: `${String(error.message)}${got}` };
    case "oneOf":
      return { pointer: at, message: `must be one of: ${describeAlternatives(error.parentSchema)}${got}` };
    default:
      return { pointer: at, message: `${String(error.message)}${got}` };
  }
}

/** A value the user wrote, as JSON, cut to a length a message can quote. */
const show = (value: unknown): string => excerpt(JSON.stringify(value) ?? String(value));

function describeAlternatives(schema: unknown): string {
  const oneOf = (schema as { oneOf?: unknown[] }).oneOf ?? [];
  return oneOf.map(describeShape).join(" | ");
}

function describeShape(branch: unknown): string {
  const b = branch as { const?: unknown; enum?: unknown[]; properties?: Record<string, { const?: unknown; type?: string; minimum?: number; maximum?: number }>; required?: string[] };
  if (b.const !== undefined) return JSON.stringify(b.const);
  if (b.enum !== undefined) return b.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (b.properties !== undefined) {
    const fields = (b.required ?? Object.keys(b.properties)).map((key) => {
      const f = b.properties?.[key] ?? {};
      if (f.const !== undefined) return `"${key}": ${JSON.stringify(f.const)}`;
      const range = f.minimum !== undefined ? ` ${f.minimum}..${f.maximum ?? "∞"}` : "";
      return `"${key}": ${f.type ?? "value"}${range}`;
    });
    return `{ ${fields.join(", ")} }`;
  }
  return "a value of another shape";
}
