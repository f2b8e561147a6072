/** The process boundary, passed explicitly so commands never touch `process` themselves. */
import { Effect } from "effect";
import { InputError } from "../dsl/errors.ts";

export interface Io {
  /** The whole of stdin as text. */
  readonly readStdin: () => Promise<string>;
  /** True when stdin is an interactive terminal (nothing was piped in). */
  readonly stdinIsTerminal: boolean;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Io over the real process streams. */
export function processIo(): Io {
  return {
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    stdinIsTerminal: process.stdin.isTTY === true,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
  };
}

/** Writes text to stdout, adding the final newline. */
export const printLine = (io: Io, text: string): Effect.Effect<void> => Effect.sync(() => io.stdout(`${text}\n`));

/** Reads stdin; `expected` says what should have been piped in when nothing was. */
export function readStdin(io: Io, expected: string): Effect.Effect<string, InputError> {
  if (io.stdinIsTerminal)
    return Effect.fail(new InputError({ where: "stdin", message: `nothing piped in; expected ${expected}` }));
  return Effect.tryPromise({
    try: () => io.readStdin(),
    catch: (e) => new InputError({ where: "stdin", message: `cannot read: ${(e as Error).message}` }),
  });
}
