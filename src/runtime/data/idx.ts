/**
 * Reader for the IDX format of the MNIST files (LeCun et al.): bytes 0–1 zero, byte 2 the
 * element type (0x08 = unsigned byte, the only one MNIST uses), byte 3 the number of
 * dimensions, then each dimension as a big-endian uint32, then the data. Gzipped files
 * (.gz, or any file starting with the gzip magic) are inflated first.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** Thrown for a file that is missing, truncated or not IDX; the message starts with the file. */
export class IdxError extends Error {
  override readonly name = "IdxError";
  constructor(readonly file: string, readonly detail: string) {
    super(`${file}: ${detail}`);
  }
}

/** A parsed IDX file: its dimensions and its bytes (row-major). */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte", 0x09: "signed byte", 0x0b: "int16", 0x0c: "int32", 0x0d: "float32", 0x0e: "float64",
};

/** Parses IDX bytes (already inflated); `file` only names the source in errors. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new IdxError(file, `truncated: ${bytes.length} bytes, shorter than the 4-byte IDX magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(file, `not an IDX file: magic number starts with 0x${hex(bytes[0])}${hex(bytes[1])}, expected 0x0000`);
  }
  const type = bytes[2];
  if (type !== 0x08) {
    const known = TYPE_NAMES[type];
    throw new IdxError(file, known
      ? `element type 0x${hex(type)} (${known}) is not supported; MNIST files hold unsigned bytes (0x08)`
      : `unknown IDX element type 0x${hex(type)}`);
  }
  const rank = bytes[3];
  if (rank === 0) throw new IdxError(file, "IDX header declares 0 dimensions");
  const headerLen = 4 + 4 * rank;
  if (bytes.length < headerLen) {
    throw new IdxError(file, `truncated: header declares ${rank} dimensions (${headerLen} header bytes), file has ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const have = bytes.length - headerLen;
  if (have < count) {
    throw new IdxError(file, `truncated: dimensions [${dims.join(", ")}] need ${count} data bytes, file has ${have}`);
  }
  if (have > count) {
    throw new IdxError(file, `malformed: ${have - count} bytes after the ${count} data bytes that dimensions [${dims.join(", ")}] declare`);
  }
  return { dims, data: bytes.subarray(headerLen) };
}

/** Reads and parses an IDX file, inflating it when it is gzipped. */
export function readIdxFile(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new IdxError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new IdxError(path, `corrupt gzip data: ${(e as Error).message}`);
    }
  } else if (path.endsWith(".gz")) {
    throw new IdxError(path, "named .gz but does not start with the gzip magic bytes 1f 8b");
  }
  return parseIdx(raw, path);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
