/**
 * Typed errors of the format pipeline. Each says where (file and JSON pointer) and what is
 * allowed, so the CLI can print it as one line and exit 2 without a stack trace.
 */
import * as Data from "effect/Data";

/** A spec that is not valid JSON, fails the schema, or describes no consistent format. */
export class SpecError extends Data.TaggedError("SpecError")<{
  readonly file: string;
  readonly pointer: string;
  readonly message: string;
}> {
  override toString(): string {
    return `${this.file}: ${this.pointer || "/"}: ${this.message}`;
  }
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
