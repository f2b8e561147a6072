/**
 * The library's one error class. Every failure the CLI reports as bad input (exit 2) reaches a
 * program as a NumforgeError whose message is the line the CLI prints and whose `reason` is the
 * typed error behind it (SpecError with file and JSON pointer, UnknownFormatError with suggestions,
 * InputError, UsageError). Anything else that escapes is a defect and is rethrown as it is.
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import { InputError } from "../dsl/errors.ts";
import { describeCliError, type CliError } from "../cli/errors.ts";

/** Bad input to a library call, with the CLI's message for it. */
export class NumforgeError extends Error {
  override readonly name = "NumforgeError";
  /** The typed error: `reason._tag` says which kind ("SpecError", "UnknownFormatError", "InputError", "UsageError", "ManyErrors"). */
  readonly reason: CliError;

  constructor(reason: CliError, message: string = describeCliError(reason)) {
    super(message);
    this.reason = reason;
  }
}

/** The failure of an exit as a NumforgeError, or its defect rethrown. */
function settle<A>(exit: Exit.Exit<A, CliError>): A {
  if (Exit.isSuccess(exit)) return exit.value;
  const failure = Cause.findError(exit.cause);
  if (failure._tag === "Success") throw new NumforgeError(failure.success);
  throw Cause.squash(exit.cause);
}

/** Runs a synchronous pipeline step; typed failures become NumforgeError. */
export const runSync = <A>(effect: Effect.Effect<A, CliError>): A => settle(Effect.runSyncExit(effect));

/** Runs an asynchronous pipeline step; typed failures become NumforgeError. */
export const runAsync = async <A>(effect: Effect.Effect<A, CliError>): Promise<A> => settle(await Effect.runPromiseExit(effect));

/** Throws a NumforgeError for bad input named by `where`. */
export function inputError(where: string, message: string): never {
  throw new NumforgeError(new InputError({ where, message }));
}
