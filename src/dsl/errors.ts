/**
 * Typed errors of the format pipeline. Each says where (file and JSON pointer) and what is
 * allowed, so the CLI can print it as one line and exit 2 without a stack trace.
 */
import * as Data from "effect/Data";

/**
 * A spec that is not valid JSON, fails the schema, or describes no consistent format. Printed
 * `FILE: line L, column C: POINTER: MESSAGE` where the position in the file is known (in the words
 * stdin errors use too), `FILE: POINTER: MESSAGE` otherwise.
 */
export class SpecError extends Data.TaggedError("SpecError")<{
  readonly file: string;
  readonly pointer: string;
  readonly message: string;
  /** Line and column (from 1) in `file` of the value at `pointer` (of its key, for an object member). */
  readonly line?: number;
  readonly column?: number;
}> {
  override toString(): string {
    const at = this.line === undefined ? "" : ` line ${this.line}, column ${this.column ?? 1}:`;
    return `${this.file}:${at} ${this.pointer || "/"}: ${this.message}`;
  }
}

/** Longest piece of user text an error message quotes; longer text is cut with "…" and its length said. */
export const MAX_ECHO = 60;

/** User text short enough to quote in a message: a 10 MB field is cut, and the message says how long it was. */
export function excerpt(text: string, max: number = MAX_ECHO): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}… (${text.length} characters)`;
}

/** A format name that is neither built in nor a spec file. */
export class UnknownFormatError extends Data.TaggedError("UnknownFormatError")<{
  readonly name: string;
  readonly suggestions: readonly string[];
}> {
  override toString(): string {
    const hint = this.suggestions.length > 0 ? `; did you mean ${this.suggestions.join(", ")}?` : "";
    return `unknown format "${this.name}"${hint} (run \`numforge formats\` for the list, or pass a path to a spec file)`;
  }
}

/** Input data (a tensor, a code array, stdin) that cannot be processed, with its position. */
export class InputError extends Data.TaggedError("InputError")<{
  readonly where: string;
  readonly message: string;
}> {
  override toString(): string {
    return `${this.where}: ${this.message}`;
  }
}
