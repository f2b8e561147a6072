/**
 * JSON on stdin and stdout. Values travel as JSON numbers or one of the strings "NaN",
 * "Infinity", "-Infinity", "-0"; codes as integers checked against the format's width.
 * Errors name the offending element (counted from 0) and say what was expected.
 */
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";
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
    catch: (e) => new InputError({ where: "stdin", message: `cannot read: ${(e as Error).message}` }),
  });
}

/** Parses stdin text as JSON; a syntax error says where (line and column when the engine tells). */
export function parseStdinJson(text: string, expected: string): Effect.Effect<unknown, InputError> {
  if (text.trim() === "") return Effect.fail(stdinError(`empty; expected ${expected}`));
  return Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => {
      const message = (e as Error).message.split("\n")[0];
      const position = /position (\d+)/.exec(message);
      const where = position === null ? "" : ` at ${lineColumn(text, Number(position[1]))}`;
      return stdinError(`not valid JSON${where}: ${message}; expected ${expected}`);
    },
  });
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** A short description of a JSON value for messages: the value itself, truncated. */
export function showJson(value: unknown): string {
  const text = value === undefined ? "nothing" : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
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
    Effect.flatMap((items) => Effect.forEach(items, (item, i) => parseValue(item, at(label, i)))),
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
