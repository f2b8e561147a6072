/**
 * One CLI run: argv → Invocation → the command's Effect → an exit code. User errors (the typed
 * failures) print one line and give 2; defects print "internal error" and give 1; never a stack
 * trace unless NUMFORGE_DEBUG is set.
 */
import { readFileSync } from "node:fs";
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import { match } from "ts-pattern";
import { parseInvocation, type Invocation } from "./args.ts";
import type { CommandEntry } from "./command.ts";
import { describeCliError, type CliError } from "./errors.ts";
import { commandHelp, globalHelp } from "./help.ts";
import { printLine, type Io } from "./io.ts";
import { commands } from "./registry.ts";

/** Runs the CLI on argv and returns the exit code. */
export async function runCli(argv: readonly string[], io: Io, entries: readonly CommandEntry[] = commands): Promise<number> {
  const program = parseInvocation(argv, entries).pipe(Effect.flatMap((invocation) => execute(invocation, io, entries)));
  const exit = await Effect.runPromiseExit(program);
  if (Exit.isSuccess(exit)) return 0;
  const failure = Cause.findError(exit.cause);
  if (failure._tag === "Success") {
    io.stderr(`${describeCliError(failure.success)}\n`);
    return 2;
  }
  const defect = Cause.squash(exit.cause);
  io.stderr(`numforge: internal error: ${defect instanceof Error ? defect.message : String(defect)}\n`);
  if ((process.env.NUMFORGE_DEBUG ?? "") !== "" && defect instanceof Error) io.stderr(`${defect.stack ?? ""}\n`);
  return 1;
}

function execute(invocation: Invocation, io: Io, entries: readonly CommandEntry[]): Effect.Effect<void, CliError> {
  return match(invocation)
    .with({ kind: "help" }, ({ command }) => printLine(io, command === undefined ? globalHelp(entries) : commandHelp(command)))
    .with({ kind: "version" }, () => printLine(io, version()))
    .with({ kind: "run" }, ({ command, args }) =>
      Effect.promise(() => import("../dsl/registry.ts")).pipe(Effect.flatMap(({ createRegistry }) => command.run({ args, io, registry: createRegistry() }))),
    )
    .exhaustive();
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return `numforge ${pkg.version}`;
}
