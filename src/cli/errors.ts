/**
 * The errors a CLI run can end with. Every one is a user error (exit 2, one line on stderr);
 * anything else that escapes is an internal defect (exit 1).
 */
import * as Data from "effect/Data";
import { match } from "ts-pattern";
import type { InputError, SpecError, UnknownFormatError } from "../dsl/errors.ts";

/** A command line that names no command, an unknown flag, or a flag value that does not parse. */
export class UsageError extends Data.TaggedError("UsageError")<{
  /** The command the error belongs to, for the `numforge help COMMAND` hint. */
  readonly command: string | undefined;
  readonly message: string;
}> {
  override toString(): string {
    const help = this.command === undefined ? "numforge --help" : `numforge help ${this.command}`;
    return `numforge${this.command === undefined ? "" : ` ${this.command}`}: ${this.message} (see \`${help}\`)`;
  }
}

/** Several independent failures of one run (one per spec given to `check`), one line each. */
export class ManyErrors extends Data.TaggedError("ManyErrors")<{
  readonly errors: readonly SingleError[];
}> {}

type SingleError = SpecError | UnknownFormatError | InputError | UsageError;

/** Every error a command may fail with. */
export type CliError = SingleError | ManyErrors;

/** The line printed for a user error (one per error for ManyErrors); a message never spans lines. */
export function describeCliError(error: CliError): string {
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ");
  return match(error)
    .with({ _tag: "SpecError" }, (e) => oneLine(e.toString()))
    .with({ _tag: "UnknownFormatError" }, (e) => oneLine(e.toString()))
    .with({ _tag: "InputError" }, (e) => oneLine(e.toString()))
    .with({ _tag: "UsageError" }, (e) => oneLine(e.toString()))
    .with({ _tag: "ManyErrors" }, (e) => e.errors.map(describeCliError).join("\n"))
    .exhaustive();
}

