/** JSON parsing that reports where a syntax error is, as file:line:column. */
import { Effect } from "effect";
import { SpecError } from "./errors.ts";

/** Parses JSON text; a syntax error names the line and column. */
export function parseJsonText(text: string, file: string): Effect.Effect<unknown, SpecError> {
  return Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => {
      const message = (e as Error).message;
      const position = /position (\d+)/.exec(message);
      const where = position === null ? "" : ` at ${lineColumn(text, Number(position[1]))}`;
      return new SpecError({ file, pointer: "", message: `not valid JSON${where}: ${message}` });
    },
  });
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}
