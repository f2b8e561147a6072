/**
 * Loader for the conformance fixtures in test/fixtures/reference (gzipped JSON written by
 * independent implementations; see the README there). Shared by every conformance test.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** One fixture vector: fields differ per file (code, x, x_bits, value, nar, …). */
export type ReferenceVector = Readonly<Record<string, unknown>>;

/** A parsed fixture file: its header fields plus `count` and `vectors`. */
export interface ReferenceFile {
  readonly [header: string]: unknown;
  readonly count: number;
  readonly vectors: readonly ReferenceVector[];
}

const FIXTURE_DIR = fileURLToPath(new URL("../fixtures/reference/", import.meta.url));

/** Gunzips and parses `<name>.json.gz` (the suffix is optional); throws if count ≠ vectors.length. */
export function loadReference(name: string): ReferenceFile {
  const file = name.endsWith(".json.gz") ? name : `${name}.json.gz`;
  const path = `${FIXTURE_DIR}${file}`;
  const parsed: unknown = JSON.parse(gunzipSync(readFileSync(path)).toString("utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path}: expected a JSON object at the top level`);
  }
  const record = parsed as Record<string, unknown>;
  const { count, vectors } = record;
  if (typeof count !== "number" || !Array.isArray(vectors)) {
    throw new Error(`${path}: expected a numeric "count" and a "vectors" array`);
  }
  // A truncated or hand-edited fixture must fail loudly, not test less than it claims.
  if (vectors.length !== count) {
    throw new Error(`${path}: "count" is ${count} but there are ${vectors.length} vectors`);
  }
  return record as ReferenceFile;
}

/** Exact double from 16 hex digits of IEEE-754 binary64 bits (with or without 0x). */
export function float64FromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(hex.startsWith("0x") ? hex : `0x${hex}`));
  return view.getFloat64(0);
}

/** Exact float32 value (as a number) from 8 hex digits of IEEE-754 binary32 bits. */
export function float32FromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, Number(hex.startsWith("0x") ? hex : `0x${hex}`));
  return view.getFloat32(0);
}

/** IEEE-754 binary64 bits of a double as 16 lowercase hex digits with 0x (for messages). */
export function float64Bits(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return `0x${view.getBigUint64(0).toString(16).padStart(16, "0")}`;
}

/** Reads a field that must be a string, with a message naming the vector. */
export function stringField(v: ReferenceVector, key: string): string {
  const value = v[key];
  if (typeof value !== "string") throw new Error(`fixture vector ${JSON.stringify(v)}: "${key}" is not a string`);
  return value;
}

/** Reads a field that must be a number, with a message naming the vector. */
export function numberField(v: ReferenceVector, key: string): number {
  const value = v[key];
  if (typeof value !== "number") throw new Error(`fixture vector ${JSON.stringify(v)}: "${key}" is not a number`);
  return value;
}
