/**
 * Reading text a user hands us (spec and recipe files, stdin) with stated limits and plain
 * errors: a size cap (a never-ending file such as /dev/zero stops at the cap instead of filling
 * memory), a UTF-8 byte-order mark accepted, UTF-16 and other non-UTF-8 bytes named as such,
 * and each way a path can fail to be a readable file said in words.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import * as Effect from "effect/Effect";
import { SpecError } from "./errors.ts";

/** Largest spec or recipe file read (the built-in specs are under 1 KiB). */
export const MAX_SPEC_FILE_BYTES = 1024 * 1024;

/** A size in words: "1 MiB", "256 MiB", "512 bytes". */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** Bytes as text, or what is wrong with them as text. */
export function decodeUserText(bytes: Uint8Array): { ok: true; text: string } | { ok: false; message: string } {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    return { ok: false, message: "the text is UTF-16; save it as UTF-8" };
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  const nul = body.indexOf(0);
  if (nul !== -1)
    return { ok: false, message: `byte ${nul} is NUL: this is not UTF-8 text${looksUtf16(body) ? " (it looks like UTF-16; save it as UTF-8)" : ""}` };
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body) };
  } catch {
    return { ok: false, message: "the text is not valid UTF-8; save it as UTF-8" };
  }
}

/** ASCII text as UTF-16 without a byte-order mark: every other byte is 0. */
function looksUtf16(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 64);
  let zeros = 0;
  for (let i = 0; i < n; i++) if (bytes[i] === 0) zeros++;
  return n >= 4 && zeros * 2 >= n - 1;
}

/** What went wrong opening or reading a path, in words. */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "ELOOP":
      return "a loop of symbolic links: the path never reaches a file";
    case "EACCES":
    case "EPERM":
      return "permission denied: cannot read it";
    case "EISDIR":
      return "is a folder, not a file";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder";
    case "ENAMETOOLONG":
      return "the path is too long";
    default:
      return `cannot read: ${code ?? (error as Error).message}`;
  }
}

/**
 * Reads a user's text file of at most `limit` bytes (`what` names it in the size message:
 * "spec files"); every failure is a SpecError naming the path.
 */
export function readUserTextFile(path: string, what: string, limit: number = MAX_SPEC_FILE_BYTES): Effect.Effect<string, SpecError> {
  return Effect.suspend(() => {
    const fail = (message: string) => Effect.fail(new SpecError({ file: path, pointer: "", message }));
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      return fail(describeFileError(e));
    }
    try {
      if (fstatSync(fd).isDirectory()) return fail(describeFileError({ code: "EISDIR" }));
      const bytes = readAtMost(fd, limit + 1);
      if (bytes.length > limit) return fail(`larger than ${describeBytes(limit)}, the limit for ${what}`);
      const decoded = decodeUserText(bytes);
      return decoded.ok ? Effect.succeed(decoded.text) : fail(decoded.message);
    } catch (e) {
      return fail(describeFileError(e));
    } finally {
      closeSync(fd);
    }
  });
}

/** Up to `count` bytes from `fd`, stopping early at the end of the file. */
function readAtMost(fd: number, count: number): Uint8Array {
  const buffer = Buffer.alloc(Math.min(count, 64 * 1024));
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < count) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, count - total), null);
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
    total += n;
  }
  return Buffer.concat(chunks, total);
}
