/**
 * The host side of a kernel module's memory: everything below `heap_base` belongs to the
 * module's constant tables; above it an arena hands out 16-aligned byte ranges, growing the
 * memory on demand, and is released back to a mark (per call, or when the caller is done).
 */

const PAGE_BYTES = 65536;
const ALIGN = 16;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 2 ** 32;

/** A typed array of any element type. */
export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

export class WasmHeap {
  private top: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    /** The first byte the host may use (the module's `heap_base`). */
    readonly base: number,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** The current end of the allocated range; pass it to release() to free what follows. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (!(mark >= this.base && mark <= this.top)) throw new Error(`heap mark ${mark} outside [${this.base}, ${this.top}]`);
    this.top = mark;
  }

  /** Reserves `bytes` bytes and returns their byte offset (16-aligned). */
  alloc(bytes: number): number {
    if (!(Number.isInteger(bytes) && bytes >= 0)) throw new Error(`cannot allocate ${bytes} bytes`);
    const offset = this.top;
    const end = offset + Math.ceil(bytes / ALIGN) * ALIGN;
    this.ensure(end);
    this.top = end;
    return offset;
  }

  /** Grows the memory so that bytes [0, end) exist. */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const fail = () => new Error(`WebAssembly memory could not grow to ${end} bytes`);
    if (end > MAX_BYTES) throw fail();
    try {
      this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
    } catch {
      throw fail();
    }
  }

  /** Copies the bytes of `array` to `offset`. */
  write(offset: number, array: ArrayBufferView): void {
    new Uint8Array(this.memory.buffer, offset, array.byteLength).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }

  /** Copies bytes at `offset` into `array` (its byteLength of them). */
  read(offset: number, array: ArrayBufferView): void {
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(new Uint8Array(this.memory.buffer, offset, array.byteLength));
  }

  /** Allocates room for `array` and copies it in; returns the byte offset. */
  copyIn(array: ArrayBufferView): number {
    const offset = this.alloc(array.byteLength);
    this.write(offset, array);
    return offset;
  }
}

/** A memory of at least `minPages` pages for a module to import as env.memory. */
export function createMemory(minPages: number): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: minPages });
  } catch {
    throw new Error(`WebAssembly memory could not grow to ${minPages * PAGE_BYTES} bytes`);
  }
}
