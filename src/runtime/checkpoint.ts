/**
 * Checkpoint files: a JSON header (any JSON-able metadata plus a table of named typed arrays)
 * followed by the arrays' raw little-endian bytes. Written atomically: a temporary file in the
 * same folder, then a rename, so a kill leaves either the old checkpoint or the new one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";

const MAGIC = "NFCKPT01";

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
  const out = new Uint8Array(headerPadded + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  table.forEach((entry, i) => {
    const array = [...checkpoint.arrays.values()][i];
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), headerPadded + entry.offset);
  });
  return out;
}

/** Parses checkpoint bytes; throws with `file` in the message when they are not a checkpoint. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const bad = (why: string) => new Error(`${file}: not a numforge checkpoint (${why})`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad("wrong magic");
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + headerLength > bytes.length) throw bad("truncated header");
  let header: { meta: unknown; arrays: Array<{ name: string; type: TypeName; length: number; offset: number }> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    throw bad("unreadable header");
  }
  const base = Math.ceil((headerLength + 12) / 8) * 8;
  const arrays = new Map<string, StoredArray>();
  for (const entry of header.arrays) {
    const Type = TYPES[entry.type];
    if (Type === undefined) throw bad(`unknown array type ${entry.type}`);
    const start = base + entry.offset;
    const byteLength = entry.length * Type.BYTES_PER_ELEMENT;
    if (start + byteLength > bytes.length) throw bad(`array ${entry.name} is truncated`);
    const copy = new Uint8Array(byteLength);
    copy.set(bytes.subarray(start, start + byteLength));
    arrays.set(entry.name, new Type(copy.buffer));
  }
  return { meta: header.meta, arrays };
}

/** Writes `bytes` to `path` atomically (temporary file + fsync + rename). */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Saves a checkpoint atomically. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/** Loads a checkpoint. */
export function readCheckpoint(path: string): Checkpoint {
  return decodeCheckpoint(readFileSync(path), path);
}
