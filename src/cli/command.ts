/**
 * What a command is: its help text, the flags and positionals it accepts, and an Effect that
 * runs it. A command is one file under `commands/` plus one line in `registry.ts`.
 */
import type { Effect } from "effect";
import type { Registry } from "../dsl/registry.ts";
import type { CliError } from "./errors.ts";
import type { Io } from "./io.ts";

/** A `--name` flag; `value` is the placeholder shown in help, absent for boolean flags. */
export interface FlagSpec {
  readonly name: string;
  readonly value?: string;
  readonly description: string;
}

/** A required positional argument. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
}

/** The command line of one command, after the flags were checked against its FlagSpecs. */
export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Flag name (without dashes) → its value, or true for a boolean flag. */
  readonly flags: ReadonlyMap<string, string | true>;
}

/** What a command's run receives: its arguments and the world, explicitly. */
export interface CommandInput {
  readonly args: ParsedArgs;
  readonly io: Io;
  readonly registry: Registry;
}

export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis after `numforge NAME`. */
  readonly usage: string;
  /** What it does, in a few lines. */
  readonly description: string;
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  readonly examples: readonly string[];
  readonly run: (input: CommandInput) => Effect.Effect<void, CliError>;
}

/** The shared `--json` flag. */
export const jsonFlag: FlagSpec = { name: "json", description: "print JSON on stdout and nothing else" };

/** The shared FORMAT positional. */
export const formatPositional: PositionalSpec = {
  name: "FORMAT",
  description: "a built-in format name (see `numforge formats`) or a path to a spec file",
};
