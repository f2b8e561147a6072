/** Typed arrays that hold codes: the narrowest unsigned array for the format's width. */

export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

/** A zeroed code array of `length` codes of `bits` bits. */
export function codeArray(bits: number, length: number): CodeArray {
  return bits <= 8 ? new Uint8Array(length) : bits <= 16 ? new Uint16Array(length) : new Uint32Array(length);
}

/** The array type name a kernel expects for codes of `bits` bits. */
export function codeArrayName(bits: number): "Uint8Array" | "Uint16Array" | "Uint32Array" {
  return bits <= 8 ? "Uint8Array" : bits <= 16 ? "Uint16Array" : "Uint32Array";
}
