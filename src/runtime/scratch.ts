/**
 * Buffers for values that live only inside one call of an op, or one run of its backward closure
 * (a GEMM's output before it is permuted, an im2col matrix for one GEMM, a quantized copy that one
 * im2col reads), or one quantize call (a lane-major or rotated copy of an operand): a fresh array
 * per call is garbage the collector pays for on every training step.
 * A buffer taken here must not outlive that call — not stored in a tensor, captured by a closure
 * that runs later, or returned — and one key holds one value at a time. Ops run synchronously on
 * one thread, so a key is never taken twice at once.
 */
import type { FloatArray } from "./tensor.ts";

const buffers = new Map<string, FloatArray>();

/**
 * `n` elements of the dtype of `like` under `key`, zeroed when `zeroed` (else holding whatever the
 * last user left, for callers that write every element before reading it).
 */
export function scratch(key: string, like: FloatArray, n: number, zeroed: boolean): FloatArray {
  const wide = like instanceof Float64Array;
  const id = `${key}:${wide ? "f64" : "f32"}`;
  let buffer = buffers.get(id);
  if (buffer === undefined || buffer.length < n) {
    buffer = wide ? new Float64Array(n) : new Float32Array(n);
    buffers.set(id, buffer);
    return buffer.subarray(0, n);
  }
  const view = buffer.subarray(0, n);
  if (zeroed) view.fill(0);
  return view;
}

const FLOAT32 = new Float32Array(0);

/** `scratch` in float32 whatever the caller's dtype, contents unspecified. */
export function scratchFloat32(key: string, n: number): Float32Array {
  return scratch(key, FLOAT32, n, false) as Float32Array;
}
