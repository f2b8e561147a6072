/**
 * Host arrays on the GPU for the span of one submission: each distinct array passed to the calls
 * gets one storage buffer (its bytes, narrow codes as they are, padded to whole u32 words), and
 * the written ones are copied back through one staging buffer. Array-likes that are not a typed
 * array of the parameter's width are staged through one that is, as the wasm target does.
 */
import type { Param, StorageType } from "../../codegen/ir/nodes.ts";
import { MAP_READ, USAGE } from "./device.ts";

type TypedArray = Float32Array | Int32Array | Uint32Array | Uint16Array | Int16Array | Uint8Array | Int8Array;

const STORAGE_ARRAY: Record<StorageType, { readonly create: (n: number) => TypedArray; readonly accepts: (a: ArrayBufferView) => boolean }> = {
  f32: { create: (n) => new Float32Array(n), accepts: (a) => a instanceof Float32Array },
  i32: { create: (n) => new Int32Array(n), accepts: (a) => a instanceof Int32Array || a instanceof Uint32Array },
  u32: { create: (n) => new Uint32Array(n), accepts: (a) => a instanceof Int32Array || a instanceof Uint32Array },
  u16: { create: (n) => new Uint16Array(n), accepts: (a) => a instanceof Int16Array || a instanceof Uint16Array },
  u8: { create: (n) => new Uint8Array(n), accepts: (a) => a instanceof Int8Array || a instanceof Uint8Array },
  i8: { create: (n) => new Int8Array(n), accepts: (a) => a instanceof Int8Array || a instanceof Uint8Array },
};

/** Bytes rounded up to whole u32 words (at least one: WebGPU bindings are never empty). */
export const padded = (bytes: number) => Math.max(4, Math.ceil(bytes / 4) * 4);

interface Resident {
  readonly storage: StorageType;
  /** The argument itself when it is a typed array of the storage's width, else a typed copy. */
  readonly staged: TypedArray;
  readonly exact: boolean;
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  written: boolean;
}

export class Residency {
  private readonly residents = new Map<ArrayLike<number>, Resident>();
  private readonly temporary: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {}

  /** The storage buffer holding `array` (uploaded on first use) for a buffer parameter. */
  buffer(array: ArrayLike<number>, p: Param & { kind: "buffer" }, kernel: string): GPUBuffer {
    let r = this.residents.get(array);
    if (r === undefined) {
      const kind = STORAGE_ARRAY[p.storage];
      const exact = ArrayBuffer.isView(array) && kind.accepts(array);
      const staged = exact ? (array as unknown as TypedArray) : kind.create(array.length);
      if (!exact) for (let k = 0; k < array.length; k++) staged[k] = array[k];
      const bytes = padded(staged.byteLength);
      const buffer = this.device.createBuffer({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST, label: p.name });
      const words = new Uint8Array(bytes);
      words.set(new Uint8Array(staged.buffer, staged.byteOffset, staged.byteLength));
      this.device.queue.writeBuffer(buffer, 0, words);
      r = { storage: p.storage, staged, exact, buffer, bytes, written: false };
      this.residents.set(array, r);
    } else if (r.storage !== p.storage) throw new Error(`${kernel}: the same array is passed as ${r.storage} and as ${p.storage}`);
    r.written ||= p.access !== "read";
    return r.buffer;
  }

  /** A buffer that lives until release() (scratch, uniforms). */
  temporaryBuffer(size: number, usage: number, label?: string): GPUBuffer {
    const buffer = this.device.createBuffer({ size, usage, label });
    this.temporary.push(buffer);
    return buffer;
  }

  /** Encodes the copies of the written arrays that `readBack` accepts; call read() after submitting. */
  copyBack(encoder: GPUCommandEncoder, readBack: (array: ArrayLike<number>) => boolean): () => Promise<void> {
    const back = [...this.residents].filter(([array, r]) => r.written && readBack(array));
    let size = 0;
    const offsets = back.map(([, r]) => {
      const at = size;
      size += r.bytes;
      return at;
    });
    if (size === 0) return async () => {};
    const staging = this.temporaryBuffer(size, USAGE.MAP_READ | USAGE.COPY_DST, "read back");
    back.forEach(([, r], k) => encoder.copyBufferToBuffer(r.buffer, 0, staging, offsets[k], r.bytes));
    return async () => {
      await staging.mapAsync(MAP_READ);
      const mapped = new Uint8Array(staging.getMappedRange());
      back.forEach(([array, r], k) => {
        new Uint8Array(r.staged.buffer, r.staged.byteOffset, r.staged.byteLength).set(mapped.subarray(offsets[k], offsets[k] + r.staged.byteLength));
        if (!r.exact) for (let i = 0; i < array.length; i++) (array as { [i: number]: number })[i] = r.staged[i];
      });
      staging.unmap();
    };
  }

  /** Destroys every buffer (after the submission's results are read). */
  release(): void {
    for (const r of this.residents.values()) r.buffer.destroy();
    for (const b of this.temporary) b.destroy();
    this.residents.clear();
    this.temporary.length = 0;
  }
}
