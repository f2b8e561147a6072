/**
 * JSON parsing whose syntax errors say where (line and column) and what was expected, in our own
 * words: engines word JSON.parse errors differently and Node 20 often gives no position at all.
 */
import * as Effect from "effect/Effect";
import { SpecError } from "./errors.ts";

/** Parses JSON text; a syntax error names the line, the column and what was expected. */
export function parseJsonText(text: string, file: string): Effect.Effect<unknown, SpecError> {
  return Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: () => {
      const { offset, expected } = locateSyntaxError(text);
      return new SpecError({ file, pointer: "", message: `not valid JSON at ${lineColumn(text, offset)}: expected ${expected}` });
    },
  });
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** The offset of the first syntax error of invalid JSON text and what was expected there. */
export function locateSyntaxError(text: string): { offset: number; expected: string } {
  let i = 0;
  const fail = (expected: string): never => {
    throw { offset: i, expected };
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) { i--; fail(`"${word}"`); }
  };
  const string = () => {
    if (text[i] !== '"') fail("a double-quoted string");
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] < " ") fail("an escaped control character");
      i += text[i] === "\\" ? 2 : 1;
    }
    if (i >= text.length) fail('a closing "');
    i++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (match === null || match[0] === "" || match[0] === "-") fail("a value");
    i += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === "{") {
      i++;
      space();
      if (text[i] === "}") { i++; return; }
      for (;;) {
        space();
        if (text[i] !== '"') fail("a double-quoted property name");
        string();
        space();
        if (text[i] !== ":") fail('":"');
        i++;
        value();
        space();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return; }
        fail('"," or "}"');
      }
    }
    if (ch === "[") {
      i++;
      space();
      if (text[i] === "]") { i++; return; }
      for (;;) {
        value();
        space();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return; }
        fail('"," or "]"');
      }
    }
    if (ch === '"') return string();
    if (ch === "t") return literal("true");
    if (ch === "f") return literal("false");
    if (ch === "n") return literal("null");
    number();
  };
  try {
    value();
    space();
    if (i < text.length) fail("the end of the document");
    return { offset: text.length, expected: "a complete JSON value" };
  } catch (e) {
    return e as { offset: number; expected: string };
  }
}
