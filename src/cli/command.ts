/**
 * What a command is: a registry entry (name, one-line summary, lazy loader) and, in its own file
 * under `commands/`, its help text, flags, positionals and the Effect that runs it. Loading lazily
 * keeps `--help` and the other commands from paying for a command's imports.
 */
import type * as Effect from "effect/Effect";
import type { Registry } from "../dsl/registry.ts";
import type { CliError } from "./errors.ts";
import type { Io } from "./io.ts";

/** A `--name` flag; `value` is the placeholder shown in help, absent for boolean flags. */
export interface FlagSpec {
  readonly name: string;
  readonly value?: string;
  readonly description: string;
}

/** A required positional argument; a variadic one (last only) takes one or more values. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly variadic?: boolean;
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

/** One line of `registry.ts`: enough to list the command and load it when it is asked for. */
export interface CommandEntry {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  readonly load: () => Promise<{ readonly command: CommandDefinition }>;
}

/** What a file under `commands/` exports as `command`. */
export interface CommandDefinition {
  /** The synopsis after `numforge NAME`. */
  readonly usage: string;
  /** What it does, in a few lines. */
  readonly description: string;
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  readonly examples: readonly string[];
  readonly run: (input: CommandInput) => Effect.Effect<void, CliError>;
}

/** A loaded command: its entry and its definition. */
export type CliCommand = Omit<CommandEntry, "load"> & CommandDefinition;

/** The shared `--json` flag. */
export const jsonFlag: FlagSpec = { name: "json", description: "print JSON on stdout and nothing else" };

/** The tensor layout of a scaled call (cli/options.ts layoutFlags). */
export const SHAPE_FLAG: FlagSpec = { name: "shape", value: "R,C", description: "scaled formats: the values as R rows × C columns, row-major (default one row)" };
export const BLOCK_AXIS_FLAG: FlagSpec = { name: "block-axis", value: "A", description: "block scaling: 1-D scale blocks along axis A, 1 = along rows (default), 0 = down columns" };

/** The shared FORMAT positional. */
export const formatPositional: PositionalSpec = {
  name: "FORMAT",
  description: "a built-in format name (see `numforge formats`) or a path to a spec file",
};
