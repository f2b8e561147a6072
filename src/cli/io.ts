/** The process boundary, passed explicitly so commands never touch `process` themselves. */
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";
import { decodeUserText, describeBytes } from "../dsl/user-text.ts";

/**
 * Most bytes read from stdin: 256 MiB, about 12 million values as JSON numbers of 20 characters
 * (encode and decode hold every value in memory, and text output is a table row per value).
 */
export const MAX_STDIN_BYTES = 256 * 1024 * 1024;

/** Everything a command may do to the outside world. */
export interface Io {
  /** The whole of stdin as text; fails with an InputError beyond MAX_STDIN_BYTES or when it is not UTF-8. */
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
      let total = 0;
      for await (const chunk of process.stdin) {
        total += (chunk as Buffer).length;
        if (total > MAX_STDIN_BYTES) {
          process.stdin.destroy();
          throw new InputError({ where: "stdin", message: `more than ${describeBytes(MAX_STDIN_BYTES)}, the limit for stdin; split the input` });
        }
        chunks.push(chunk as Buffer);
      }
      const decoded = decodeUserText(Buffer.concat(chunks, total));
      if (!decoded.ok) throw new InputError({ where: "stdin", message: decoded.message });
      return decoded.text;
    },
    stdinIsTerminal: process.stdin.isTTY === true,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
  };
}

/** Writes text to stdout, adding the final newline. */
export const printLine = (io: Io, text: string): Effect.Effect<void> => Effect.sync(() => io.stdout(`${text}\n`));
