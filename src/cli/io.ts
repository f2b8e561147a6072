/** The process boundary, passed explicitly so commands never touch `process` themselves. */
import * as Effect from "effect/Effect";

/** Everything a command may do to the outside world. */
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
