/**
 * Checkpoint files: a JSON header (any JSON-able metadata plus a table of named typed arrays)
 * followed by the arrays' raw little-endian bytes and a SHA-256 of everything before it, so a
 * flipped byte, a truncation or a foreign file is found before any of it is used. Written
 * atomically: a temporary file in the same folder, then a rename, so a kill leaves either the old
 * checkpoint or the new one (and a `.tmp-PID` file that the next writer under the same lock removes).
 */
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { pidAlive } from "../io/lock.ts";

const MAGIC = "NFCKPT02";
/** The layout before checksums: such a file cannot be verified, so it is never resumed from. */
const MAGIC_UNCHECKED = "NFCKPT01";
const CHECKSUM_BYTES = 32;

/** Why a checkpoint file cannot be used: damaged (bytes changed or missing) or unverifiable (an older layout). */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    readonly problem: "damaged" | "unverifiable",
    /** What is wrong, e.g. "damaged checkpoint (checksum mismatch: …)". */
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** The typed arrays a checkpoint stores. */
export type StoredArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array;

const TYPES = { f32: Float32Array, f64: Float64Array, i32: Int32Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array, i8: Int8Array } as const;
type TypeName = keyof typeof TYPES;

/** Metadata and named arrays. */
export interface Checkpoint {
  readonly meta: unknown;
  readonly arrays: ReadonlyMap<string, StoredArray>;
}

function typeName(a: StoredArray): TypeName {
  for (const [name, Type] of Object.entries(TYPES) as [TypeName, (typeof TYPES)[TypeName]][]) if (a instanceof Type) return name;
  throw new TypeError("checkpoint: unsupported array type");
}

/** The bytes of a checkpoint. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const table: Array<{ name: string; type: TypeName; length: number; offset: number }> = [];
  let offset = 0;
  for (const [name, array] of checkpoint.arrays) {
    table.push({ name, type: typeName(array), length: array.length, offset });
    offset += Math.ceil(array.byteLength / 8) * 8;
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta: checkpoint.meta, arrays: table }));
  const headerPadded = Math.ceil((header.length + 12) / 8) * 8;
  const out = new Uint8Array(headerPadded + offset + CHECKSUM_BYTES);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  table.forEach((entry, i) => {
    const array = [...checkpoint.arrays.values()][i];
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), headerPadded + entry.offset);
  });
  out.set(sha256(out.subarray(0, out.length - CHECKSUM_BYTES)), out.length - CHECKSUM_BYTES);
  return out;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

function isArrayEntry(e: unknown): e is { name: string; type: TypeName; length: number; offset: number } {
  const x = e as Record<string, unknown>;
  return typeof x === "object" && x !== null && typeof x.name === "string" && typeof x.type === "string" && Object.hasOwn(TYPES, x.type)
    && Number.isSafeInteger(x.length) && (x.length as number) >= 0 && Number.isSafeInteger(x.offset) && (x.offset as number) >= 0 && (x.offset as number) % 8 === 0;
}

/** Parses checkpoint bytes; throws a CheckpointError naming `file` when they are not an intact checkpoint. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const damaged = (why: string) => new CheckpointError(file, "damaged", `damaged checkpoint (${why})`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic === MAGIC_UNCHECKED) throw new CheckpointError(file, "unverifiable", "checkpoint of an older numforge, without a checksum to verify it");
  if (magic !== MAGIC) throw new CheckpointError(file, "damaged", "not a numforge checkpoint (wrong first bytes)");
  if (bytes.length < 12 + CHECKSUM_BYTES) throw damaged(`truncated to ${bytes.length} bytes`);
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  if (!Buffer.from(sha256(body)).equals(bytes.subarray(body.length))) throw damaged("checksum mismatch: bytes changed or missing");
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + headerLength > body.length) throw damaged("truncated header");
  let header: { meta: unknown; arrays: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(body.subarray(12, 12 + headerLength)));
  } catch {
    throw damaged("unreadable header");
  }
  if (typeof header !== "object" || header === null || !Array.isArray(header.arrays)) throw damaged("no array table");
  const base = Math.ceil((headerLength + 12) / 8) * 8;
  const arrays = new Map<string, StoredArray>();
  for (const entry of header.arrays as unknown[]) {
    if (!isArrayEntry(entry)) throw damaged("malformed array table");
    const Type = TYPES[entry.type];
    const start = base + entry.offset;
    const byteLength = entry.length * Type.BYTES_PER_ELEMENT;
    if (start + byteLength > body.length) throw damaged(`array ${entry.name} is truncated`);
    const copy = new Uint8Array(byteLength);
    copy.set(body.subarray(start, start + byteLength));
    arrays.set(entry.name, new Type(copy.buffer));
  }
  return { meta: header.meta, arrays };
}

/** Writes `bytes` to `path` atomically (temporary file + fsync + rename). */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    try {
      const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true }); // a full disk or a vanished folder leaves no half-written file behind
    throw e;
  }
}

/**
 * Removes the temporary files that writers of `path` left when they were killed (`path.tmp-PID`),
 * whose process is gone. Call it only while holding the lock that every writer of `path` holds:
 * then no live process is writing one, on this host or any other that shares the folder.
 */
export function removeTemporariesOf(path: string): string[] {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  // A live pid here is kept all the same: some process we do not know of may be writing it.
  const removed = names.filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)) && !pidAlive(Number(n.slice(prefix.length))));
  for (const n of removed) rmSync(join(dirname(path), n), { force: true });
  return removed;
}

/** Saves a checkpoint atomically. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/** Loads a checkpoint. */
export function readCheckpoint(path: string): Checkpoint {
  return decodeCheckpoint(readFileSync(path), path);
}
