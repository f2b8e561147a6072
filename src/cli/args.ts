/**
 * The hand-written argument parser: argv → an Invocation (help, version, or a command with
 * flags checked against its FlagSpecs). Values may follow as `--flag value` or `--flag=value`.
 */
import { Effect } from "effect";
import { closeMatches } from "../dsl/registry.ts";
import type { CliCommand, ParsedArgs } from "./command.ts";
import { UsageError } from "./errors.ts";

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: "help"; readonly command: CliCommand | undefined }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly command: CliCommand; readonly args: ParsedArgs };

const isHelpFlag = (token: string) => token === "--help" || token === "-h";

/** Parses the whole argv (without node and the script path). */
export function parseInvocation(argv: readonly string[], commands: readonly CliCommand[]): Effect.Effect<Invocation, UsageError> {
  const [first, ...rest] = argv;
  if (first === undefined) return Effect.fail(new UsageError({ command: undefined, message: "missing command" }));
  if (isHelpFlag(first)) return Effect.succeed({ kind: "help", command: undefined });
  if (first === "--version" || first === "-V") return Effect.succeed({ kind: "version" });
  if (first === "help") {
    if (rest.length > 1) return Effect.fail(new UsageError({ command: undefined, message: `help takes one command name, got ${rest.length}` }));
    if (rest[0] === undefined) return Effect.succeed({ kind: "help", command: undefined });
    return findCommand(rest[0], commands).pipe(Effect.map((command) => ({ kind: "help" as const, command })));
  }
  return findCommand(first, commands).pipe(
    Effect.flatMap((command) =>
      rest.some(isHelpFlag)
        ? Effect.succeed<Invocation>({ kind: "help", command })
        : parseCommandArgs(command, rest).pipe(Effect.map((args): Invocation => ({ kind: "run", command, args }))),
    ),
  );
}

function findCommand(name: string, commands: readonly CliCommand[]): Effect.Effect<CliCommand, UsageError> {
  const command = commands.find((c) => c.name === name);
  if (command !== undefined) return Effect.succeed(command);
  const what = name.startsWith("-") ? `unknown option "${name}"` : `unknown command "${name}"`;
  return Effect.fail(new UsageError({ command: undefined, message: `${what}${didYouMean(name, commands.map((c) => c.name))}; commands: ${commands.map((c) => c.name).join(", ")}` }));
}

/** Checks a command's tokens against its flags and positionals. */
export function parseCommandArgs(command: CliCommand, tokens: readonly string[]): Effect.Effect<ParsedArgs, UsageError> {
  const fail = (message: string) => Effect.fail(new UsageError({ command: command.name, message }));
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (onlyPositionals || !token.startsWith("-") || token === "-" || /^-\d/.test(token)) {
      positionals.push(token);
      continue;
    }
    if (token === "--") {
      onlyPositionals = true;
      continue;
    }
    const eq = token.indexOf("=");
    const name = (eq === -1 ? token : token.slice(0, eq)).replace(/^--?/, "");
    const spec = command.flags.find((f) => f.name === name);
    if (spec === undefined || !token.startsWith("--")) {
      const allowed = command.flags.map((f) => `--${f.name}`);
      return fail(`unknown flag "${eq === -1 ? token : token.slice(0, eq)}"${didYouMean(`--${name}`, allowed)}; ${allowed.length === 0 ? "it takes no flags" : `flags: ${allowed.join(", ")}`}`);
    }
    if (flags.has(name)) return fail(`--${name} is given twice`);
    if (spec.value === undefined) {
      if (eq !== -1) return fail(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = eq !== -1 ? token.slice(eq + 1) : tokens[i + 1];
    if (value === undefined || (eq === -1 && value.startsWith("--"))) return fail(`--${name} needs a value: --${name} ${spec.value}`);
    if (eq === -1) i++;
    flags.set(name, value);
  }
  const expected = command.positionals;
  if (positionals.length < expected.length)
    return fail(`missing ${expected.slice(positionals.length).map((p) => p.name).join(" ")}`);
  if (positionals.length > expected.length)
    return fail(`unexpected argument "${positionals[expected.length]}"; usage: numforge ${command.name} ${command.usage}`);
  return Effect.succeed({ positionals, flags });
}

/** " (did you mean …?)" for close candidates; leading dashes take no part in the comparison. */
function didYouMean(name: string, candidates: readonly string[]): string {
  const bare = (s: string) => s.replace(/^-+/, "");
  const close = closeMatches(bare(name), candidates.map(bare)).map((c) => candidates.find((x) => bare(x) === c) ?? c);
  return close.length === 0 ? "" : ` (did you mean ${close.join(", ")}?)`;
}
