/**
 * JSON parsing for everything a user writes (spec files, recipe files, stdin), in our own words:
 * engines word JSON.parse errors differently, Node 20 often gives no position, and JSON.parse
 * takes duplicate keys and out-of-range numbers silently. This parser is iterative (no call
 * stack to exhaust), bounds the nesting depth, refuses duplicate keys and numbers beyond the
 * float64 range, and can remember where each value starts so later errors get a line and column.
 */
import * as Effect from "effect/Effect";
import { SpecError } from "./errors.ts";

/** Deepest nesting accepted: specs and recipes nest about 5 levels, stdin 3. */
export const MAX_JSON_DEPTH = 64;

/** A problem found while parsing: what kind, where (offset and JSON pointer of the value being read) and what. */
export interface JsonProblem {
  /** "syntax": not JSON; "depth": nested too deep (pointer ""); "duplicate": a key twice; "range": a number beyond float64. */
  readonly kind: "syntax" | "depth" | "duplicate" | "range";
  readonly offset: number;
  readonly pointer: string;
  readonly message: string;
}

/** A parsed document and where its values start. */
export interface JsonDocument {
  readonly value: unknown;
  /**
   * Line and column (from 1) of the value at `pointer` — of its key, for an object member — or
   * of the nearest enclosing value that has one; undefined when positions were not recorded.
   */
  readonly locate: (pointer: string) => { readonly line: number; readonly column: number } | undefined;
}

/** Options of parseJson: `positions` records where every value starts (for specs, not for big stdin arrays). */
export interface ParseOptions {
  readonly positions?: boolean;
  readonly maxDepth?: number;
}

/** The JSON pointer token of an object key (RFC 6901: ~ → ~0, / → ~1). */
export const pointerToken = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** Line and column (from 1) of an offset of `text`. */
export function lineColumnOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** "line L, column C" of an offset. */
export function describeOffset(text: string, offset: number): string {
  const { line, column } = lineColumnOf(text, offset);
  return `line ${line}, column ${column}`;
}

interface ObjectFrame {
  readonly kind: "object";
  readonly value: Record<string, unknown>;
  /** Offset of every key, for the duplicate-key message. */
  readonly keys: Map<string, number>;
  key: string;
}
interface ArrayFrame {
  readonly kind: "array";
  readonly value: unknown[];
}
type Frame = ObjectFrame | ArrayFrame;

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;

class Problem {
  constructor(readonly offset: number, readonly message: string, readonly kind: JsonProblem["kind"]) {}
}

/** Parses JSON text; a failure says where (offset, pointer) and what was expected. */
export function parseJson(text: string, options: ParseOptions = {}): { ok: true; document: JsonDocument } | { ok: false; problem: JsonProblem } {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const positions = options.positions === true ? new Map<string, number>() : undefined;
  const stack: Frame[] = [];
  let i = 0;

  const pointerOfStack = (): string =>
    stack.map((f) => `/${f.kind === "object" ? pointerToken(f.key) : String(f.value.length)}`).join("");
  const fail = (message: string, at = i, kind: JsonProblem["kind"] = "syntax"): never => {
    throw new Problem(at, message, kind);
  };
  const space = () => {
    while (i < text.length && SPACE.has(text.charCodeAt(i))) i++;
  };
  const expect = (what: string): never => fail(i >= text.length ? `expected ${what}, found the end of the text` : `expected ${what}`);

  const string = (): string => {
    const start = i;
    i++;
    let escaped = false;
    for (;;) {
      if (i >= text.length) fail('expected a closing "', start);
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c < 0x20) fail("a control character in a string must be escaped (\\n, \\t, \\u0000…)");
      if (c === BACKSLASH) {
        escaped = true;
        i += 2;
      } else i++;
    }
    i++;
    if (!escaped) return text.slice(start + 1, i - 1);
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('an escape must be one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX', start);
    }
  };

  const number = (): number => {
    const start = i;
    if (text.charCodeAt(i) === 0x2d) i++;
    if (!isDigit(text.charCodeAt(i))) return expect("a value");
    if (text.charCodeAt(i) === DIGIT_0) i++;
    else while (isDigit(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (!isDigit(text.charCodeAt(i))) return expect("a digit after the decimal point");
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) return expect("a digit in the exponent");
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const literal = text.slice(start, i);
    const value = Number(literal);
    if (!Number.isFinite(value))
      fail(`${clipLiteral(literal)} is beyond the float64 range (about ±1.8e308); a JSON number must be finite`, start, "range");
    return value;
  };

  const literal = (word: string, value: unknown): unknown => {
    if (!text.startsWith(word, i)) return expect("a value");
    i += word.length;
    return value;
  };

  /** Reads an object key and its colon; the next value belongs to it. */
  const key = (frame: ObjectFrame) => {
    space();
    if (text.charCodeAt(i) !== QUOTE) expect("a double-quoted property name");
    const at = i;
    const name = string();
    const first = frame.keys.get(name);
    if (first !== undefined)
      fail(`duplicate key "${clipLiteral(name)}" (first at ${describeOffset(text, first)}); each key may appear once in an object`, at, "duplicate");
    frame.keys.set(name, at);
    frame.key = name;
    positions?.set(pointerOfStack(), at);
    space();
    if (text.charCodeAt(i) !== 0x3a) expect('":"');
    i++;
  };

  const open = (frame: Frame) => {
    stack.push(frame);
    if (stack.length > maxDepth) fail(`nested deeper than ${maxDepth} levels; nothing this program reads nests that deep`, i - 1, "depth");
  };

  try {
    let root: unknown;
    let done = false;
    while (!done) {
      space();
      const c = text.charCodeAt(i);
      let value: unknown;
      let complete = true;
      if (positions !== undefined && (stack.length === 0 || stack[stack.length - 1].kind === "array")) positions.set(pointerOfStack(), i);
      if (c === 0x7b) {
        i++;
        const frame: ObjectFrame = { kind: "object", value: {}, keys: new Map(), key: "" };
        space();
        if (text.charCodeAt(i) === 0x7d) {
          i++;
          value = frame.value;
        } else {
          open(frame);
          key(frame);
          complete = false;
        }
      } else if (c === 0x5b) {
        i++;
        space();
        if (text.charCodeAt(i) === 0x5d) {
          i++;
          value = [];
        } else {
          open({ kind: "array", value: [] });
          complete = false;
        }
      } else if (c === QUOTE) value = string();
      else if (c === 0x74) value = literal("true", true);
      else if (c === 0x66) value = literal("false", false);
      else if (c === 0x6e) value = literal("null", null);
      else value = number();

      // Hand the finished value to its container; a closing bracket finishes the container in turn.
      while (complete) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          root = value;
          done = true;
          break;
        }
        if (top.kind === "array") top.value.push(value);
        else if (top.key === "__proto__") Object.defineProperty(top.value, top.key, { value, writable: true, enumerable: true, configurable: true });
        else top.value[top.key] = value;
        space();
        const next = text.charCodeAt(i);
        if (next === 0x2c) {
          i++;
          if (top.kind === "object") key(top);
          complete = false;
        } else if ((top.kind === "array" && next === 0x5d) || (top.kind === "object" && next === 0x7d)) {
          i++;
          value = top.value;
          stack.pop();
        } else expect(top.kind === "array" ? '"," or "]"' : '"," or "}"');
      }
    }
    space();
    if (i < text.length) expect("the end of the text (one JSON value only)");
    const offsets = positions;
    const locate = (pointer: string) => {
      if (offsets === undefined) return undefined;
      for (let p = pointer; ; p = p.slice(0, p.lastIndexOf("/"))) {
        const offset = offsets.get(p);
        if (offset !== undefined) return lineColumnOf(text, offset);
        if (p === "") return undefined;
      }
    };
    return { ok: true, document: { value: root, locate } };
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    return { ok: false, problem: { kind: e.kind, offset: e.offset, pointer: e.kind === "depth" ? "" : pointerOfStack(), message: e.message } };
  }
}

function clipLiteral(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Parses a spec or recipe file's text with positions; a problem names the file, line, column and pointer. */
export function parseJsonDocument(text: string, file: string): Effect.Effect<JsonDocument, SpecError> {
  return Effect.suspend(() => {
    const parsed = parseJson(text, { positions: true });
    if (parsed.ok) return Effect.succeed(parsed.document);
    const { line, column } = lineColumnOf(text, parsed.problem.offset);
    const { kind, pointer, message } = parsed.problem;
    return Effect.fail(new SpecError({ file, pointer, message: kind === "syntax" || kind === "depth" ? `not valid JSON: ${message}` : message, line, column }));
  });
}

/** Parses JSON text; a problem names the file, line, column and pointer. */
export function parseJsonText(text: string, file: string): Effect.Effect<unknown, SpecError> {
  return parseJsonDocument(text, file).pipe(Effect.map((d) => d.value));
}

/** A SpecError of `file` with the line and column of its pointer in `document`, when it has none yet. */
export function withPosition(error: SpecError, file: string, document: JsonDocument): SpecError {
  if (error.file !== file || error.line !== undefined) return error;
  const at = document.locate(error.pointer);
  return at === undefined ? error : new SpecError({ ...errorFields(error), line: at.line, column: at.column });
}

function errorFields(e: SpecError) {
  return { file: e.file, pointer: e.pointer, message: e.message };
}
