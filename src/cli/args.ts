/**
 * The hand-written argument parser: argv → an Invocation (help, version, or a command with its
 * flags checked against the command's FlagSpecs). Values follow as `--flag value` or `--flag=value`.
 */
import * as Effect from "effect/Effect";
import type { CliCommand, CommandEntry, ParsedArgs } from "./command.ts";
import { excerpt } from "../dsl/errors.ts";
import { UsageError } from "./errors.ts";

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: "help"; readonly command: CliCommand | undefined }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly command: CliCommand; readonly args: ParsedArgs };

const isHelpFlag = (token: string) => token === "--help" || token === "-h";

/** Parses the whole argv (without node and the script path), loading only the command named. */
export function parseInvocation(argv: readonly string[], entries: readonly CommandEntry[]): Effect.Effect<Invocation, UsageError> {
  const [first, ...rest] = argv;
  if (first === undefined) return Effect.fail(new UsageError({ command: undefined, message: "missing command" }));
  if (isHelpFlag(first)) return Effect.succeed({ kind: "help", command: undefined });
  if (first === "--version" || first === "-V") return Effect.succeed({ kind: "version" });
  if (first === "help") {
    if (rest.length > 1) return Effect.fail(new UsageError({ command: undefined, message: `help takes one command name, got ${rest.length}` }));
    if (rest[0] === undefined) return Effect.succeed({ kind: "help", command: undefined });
    return loadCommand(rest[0], entries).pipe(Effect.map((command): Invocation => ({ kind: "help", command })));
  }
  return loadCommand(first, entries).pipe(
    Effect.flatMap((command) =>
      rest.some(isHelpFlag)
        ? Effect.succeed<Invocation>({ kind: "help", command })
        : parseCommandArgs(command, rest).pipe(Effect.map((args): Invocation => ({ kind: "run", command, args }))),
    ),
  );
}

function loadCommand(name: string, entries: readonly CommandEntry[]): Effect.Effect<CliCommand, UsageError> {
  const entry = entries.find((c) => c.name === name);
  if (entry !== undefined)
    return Effect.promise(() => entry.load()).pipe(Effect.map(({ command }) => ({ name: entry.name, summary: entry.summary, ...command })));
  const names = entries.map((c) => c.name);
  const what = name.startsWith("-") ? `unknown option "${excerpt(name)}"` : `unknown command "${excerpt(name)}"`;
  return didYouMean(name, names).pipe(
    Effect.flatMap((hint) => Effect.fail(new UsageError({ command: undefined, message: `${what}${hint}; commands: ${names.join(", ")}` }))),
  );
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
    const written = eq === -1 ? token : token.slice(0, eq);
    const name = written.replace(/^--?/, "");
    const spec = command.flags.find((f) => f.name === name);
    if (spec === undefined || !token.startsWith("--")) {
      const allowed = command.flags.map((f) => `--${f.name}`);
      const list = allowed.length === 0 ? "it takes no flags" : `flags: ${allowed.join(", ")}`;
      return didYouMean(written, allowed).pipe(Effect.flatMap((hint) => fail(`unknown flag "${excerpt(written)}"${hint}; ${list}`)));
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
  if (positionals.length < expected.length) return fail(`missing ${expected.slice(positionals.length).map((p) => p.name).join(" ")}`);
  if (positionals.length > expected.length && expected[expected.length - 1]?.variadic !== true)
    return fail(`unexpected argument "${excerpt(positionals[expected.length])}"; usage: numforge ${command.name} ${command.usage}`);
  return Effect.succeed({ positionals, flags });
}

/**
 * " (did you mean …?)" for close candidates, or "". Leading dashes take no part in the
 * comparison. The matcher lives with the format registry, loaded only on this error path.
 */
function didYouMean(name: string, candidates: readonly string[]): Effect.Effect<string> {
  const bare = (s: string) => s.replace(/^-+/, "");
  return Effect.promise(() => import("../dsl/registry.ts")).pipe(
    Effect.map(({ closeMatches }) => {
      const close = closeMatches(bare(name), candidates.map(bare)).map((c) => candidates.find((x) => bare(x) === c) ?? c);
      return close.length === 0 ? "" : ` (did you mean ${close.join(", ")}?)`;
    }),
  );
}
