/**
 * JSON on stdin and stdout. Values travel as JSON numbers or one of the strings "NaN",
 * "Infinity", "-Infinity", "-0"; codes as integers checked against the format's width.
 * Errors name the offending element (counted from 0) and say what was expected.
 */
import * as Effect from "effect/Effect";
import { excerpt, InputError } from "../dsl/errors.ts";
import { describeOffset, parseJson } from "../dsl/json-text.ts";
import type { Io } from "./io.ts";

/** The JSON form of a value: a number, or a string for what JSON numbers cannot say. */
export type JsonValue = number | "NaN" | "Infinity" | "-Infinity" | "-0";

const SPECIAL_STRINGS: ReadonlyMap<string, number> = new Map([
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["-0", -0],
]);

/** A number as JSON, with NaN, ±Infinity and −0 as strings. */
export function valueToJson(v: number): JsonValue {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "Infinity";
  if (v === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

/** JSON text with one array element per line when `lines`, otherwise on one line. */
export function jsonText(value: unknown, lines = false): string {
  if (lines && Array.isArray(value)) return value.length === 0 ? "[]" : `[\n${value.map((v) => JSON.stringify(v)).join(",\n")}\n]`;
  return JSON.stringify(value);
}

const stdinError = (message: string) => new InputError({ where: "stdin", message });

/** Reads stdin; `expected` says what should have been piped in when nothing was. */
export function readStdin(io: Io, expected: string): Effect.Effect<string, InputError> {
  if (io.stdinIsTerminal)
    return Effect.fail(new InputError({ where: "stdin", message: `nothing piped in; expected ${expected}` }));
  return Effect.tryPromise({
    try: () => io.readStdin(),
    catch: (e) => (e instanceof InputError ? e : new InputError({ where: "stdin", message: `cannot read: ${(e as Error).message}` })),
  });
}

/**
 * Parses stdin text as JSON (a UTF-8 byte-order mark is skipped). A syntax error says the line and
 * column; a number beyond the float64 range (1e400, which JSON.parse would take as Infinity) names
 * its element: write "Infinity" or "-Infinity" for an infinity.
 */
export function parseStdinJson(text: string, expected: string): Effect.Effect<unknown, InputError> {
  return Effect.suspend(() => {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    if (body.trim() === "") return Effect.fail(stdinError(`empty; expected ${expected}`));
    const parsed = parseJson(body);
    if (parsed.ok) return Effect.succeed(parsed.document.value);
    const { kind, offset, pointer, message } = parsed.problem;
    // A value that parsed but is refused names its element; a syntax error's line and column say enough.
    const element = /^\/(\d+)$/.exec(pointer);
    const named = kind === "range" || kind === "duplicate";
    const at = describeOffset(body, offset);
    if (!named) return Effect.fail(stdinError(`not valid JSON at ${at}: ${message}; expected ${expected}`));
    const where = element !== null ? `element ${element[1]}` : pointer === "" ? "" : `${excerpt(pointer)}`;
    const hint = kind === "range" ? `; write "Infinity" or "-Infinity" for an infinity` : "";
    return Effect.fail(stdinError(`${where === "" ? "" : `${where}, `}${at}: ${message}${hint}`));
  });
}

/** A short description of a JSON value for messages: the value itself, truncated. */
export function showJson(value: unknown): string {
  if (value === undefined) return "nothing";
  // A big array or object is described, not serialized whole only to be cut.
  if (Array.isArray(value) && value.length > 8) return `an array of ${value.length} elements`;
  return excerpt(JSON.stringify(value), 40);
}

/** The name of a JSON value's type, for "expected X, got Y" messages. */
export function jsonType(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A JSON array; `label` names it in messages ("codes" gives "codes element 3"). */
function array(json: unknown, expected: string, label: string): Effect.Effect<readonly unknown[], InputError> {
  return Array.isArray(json) ? Effect.succeed(json) : Effect.fail(stdinError(`${label === "" ? "" : `${label}: `}expected ${expected}, got ${jsonType(json)}`));
}

const at = (label: string, i: number) => `${label === "" ? "" : `${label} `}element ${i}`;

const NOT_A_NUMBER_HINT = `use a JSON number or "NaN", "Infinity", "-Infinity", "-0"`;

/** One value: a JSON number or a special string; `where` names it in the message. */
export function parseValue(item: unknown, where: string): Effect.Effect<number, InputError> {
  const value = typeof item === "number" ? item : typeof item === "string" ? SPECIAL_STRINGS.get(item) : undefined;
  return value === undefined ? Effect.fail(stdinError(`${where}: ${showJson(item)} is not a number (${NOT_A_NUMBER_HINT})`)) : Effect.succeed(value);
}

/** Values: JSON numbers or the special strings. */
export function parseValues(json: unknown, label = ""): Effect.Effect<number[], InputError> {
  return array(json, `a JSON array of numbers (or "NaN", "Infinity", "-Infinity", "-0")`, label).pipe(
    Effect.flatMap((items) => {
      // A plain loop: stdin may hold millions of values, and an Effect per element costs more than the encode.
      const values = new Array<number>(items.length);
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const value = typeof item === "number" ? item : typeof item === "string" ? SPECIAL_STRINGS.get(item) : undefined;
        if (value === undefined) return parseValue(item, at(label, i)).pipe(Effect.as(values));
        values[i] = value;
      }
      return Effect.succeed(values);
    }),
  );
}

/** What the commands that read a tensor take on stdin, in words. */
export const STDIN_VALUES = `a JSON array of numbers (or "NaN", "Infinity", "-Infinity", "-0")`;

/** Numbers on stdin as the commands that read tensors take them (`example`: a command line that works, for messages). */
export function readStdinValues(io: Io, example: string): Effect.Effect<number[], InputError> {
  const expected = `${STDIN_VALUES}, e.g. ${example}`;
  return readStdin(io, expected).pipe(
    Effect.flatMap((text) => parseStdinJson(text, expected)),
    Effect.flatMap((json) => parseValues(json)),
  );
}

/** Integers in [min, max]; `what` introduces the range in messages ("e4m3 codes are"). */
export function parseIntegers(json: unknown, min: number, max: number, what: string, label = ""): Effect.Effect<number[], InputError> {
  return array(json, `a JSON array of integers (${what} ${min}..${max})`, label).pipe(
    Effect.flatMap((items) => {
      const out: number[] = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (typeof item !== "number" || !Number.isInteger(item))
          return Effect.fail(stdinError(`${at(label, i)}: ${showJson(item)} is not an integer (${what} ${min}..${max})`));
        if (item < min || item > max)
          return Effect.fail(stdinError(`${at(label, i)}: ${item} is out of range (${what} ${min}..${max})`));
        out.push(item);
      }
      return Effect.succeed(out);
    }),
  );
}

/** Codes of a `bits`-wide format: integers 0..2^bits−1. */
export const parseCodes = (json: unknown, bits: number, formatName: string, label = "") =>
  parseIntegers(json, 0, 2 ** bits - 1, `${formatName} codes are`, label);
