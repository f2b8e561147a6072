/**
 * The host side of numforge's WebAssembly kernels: a growable memory, an arena above the module's
 * constant tables (`heap_base`), and kernels callable like the JS target's (typed arrays copied in
 * before and out after each call) or with raw byte offsets for tensors kept resident.
 *
 * Plans run either through the copying kernels and run-plan.js's runPlan, or resident
 * (residentPlanRunner): every buffer of the plan in the heap from the first step to the last.
 *
 * Shipped verbatim in generated kernel packages (beside run-plan.js, its only import) and used by
 * numforge itself: plain ES2022.
 */
import { allocate, resolveCall, resultOf, stageArray, stepArguments, unstageArray } from "./run-plan.js";

const PAGE_BYTES = 65536;
const ALIGN = 16;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 2 ** 32;
const HEAP_BASE = "heap_base";

/** @typedef {Uint8ArrayConstructor | Int8ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor} TypedArrayType */

/** The typed arrays a copy may move element-wise (same type on both sides, no byte views). */
const ELEMENT_TYPES = [Float32Array, Int32Array, Uint32Array, Uint16Array, Uint8Array, Int8Array, Float64Array];

/**
 * The type of `array` where the heap may copy it as elements of that type at `offset` (a plain
 * typed array of that exact type, `offset` aligned to its elements), else null (bytes).
 * @param {ArrayBufferView} array @param {number} offset @returns {TypedArrayType | null}
 */
function sameTypeView(array, offset) {
  const Type = /** @type {any} */ (array).constructor;
  return ELEMENT_TYPES.includes(Type) && offset % Type.BYTES_PER_ELEMENT === 0 ? Type : null;
}

export class WasmHeap {
  /**
   * @param {WebAssembly.Memory} memory
   * @param {number} base the first byte the host may use (the module's heap_base)
   */
  constructor(memory, base) {
    this.memory = memory;
    this.base = base;
    this.top = Math.ceil(base / ALIGN) * ALIGN;
    /** @type {ArrayBuffer | SharedArrayBuffer | null} the buffer `views` are over */
    this.viewsOf = null;
    /** @type {Map<TypedArrayType, any>} */
    this.views = new Map();
  }

  /** The current end of the allocated range; pass it to release() to free what follows. */
  mark() {
    return this.top;
  }

  /** @param {number} mark */
  release(mark) {
    if (!(mark >= this.base && mark <= this.top)) throw new Error(`heap mark ${mark} outside [${this.base}, ${this.top}]`);
    this.top = mark;
  }

  /** Reserves `bytes` bytes and returns their byte offset (16-aligned). @param {number} bytes */
  alloc(bytes) {
    if (!(Number.isInteger(bytes) && bytes >= 0)) throw new Error(`cannot allocate ${bytes} bytes`);
    const offset = this.top;
    const end = offset + Math.ceil(bytes / ALIGN) * ALIGN;
    this.ensure(end);
    this.top = end;
    return offset;
  }

  /** Grows the memory so that bytes [0, end) exist. @param {number} end */
  ensure(end) {
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

  /**
   * The whole memory as a `Type` array (Uint8Array, Float32Array …), made again only once the
   * memory has grown (its buffer is then another object): a call's copies would otherwise make
   * two views each, most of a small call's cost.
   * @template {TypedArrayType} T @param {T} Type @returns {InstanceType<T>}
   */
  view(Type) {
    const buffer = this.memory.buffer;
    if (buffer !== this.viewsOf) {
      this.viewsOf = buffer;
      this.views = new Map();
    }
    let view = this.views.get(Type);
    if (view === undefined) {
      view = new Type(buffer);
      this.views.set(Type, view);
    }
    return view;
  }

  /** Copies the bytes of `array` to `offset`. @param {number} offset @param {ArrayBufferView} array */
  write(offset, array) {
    const Type = sameTypeView(array, offset);
    if (Type !== null) this.view(Type).set(/** @type {any} */ (array), offset / Type.BYTES_PER_ELEMENT);
    else this.view(Uint8Array).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
  }

  /** Copies bytes at `offset` into `array` (its byteLength of them). @param {number} offset @param {ArrayBufferView} array */
  read(offset, array) {
    const Type = sameTypeView(array, offset);
    if (Type !== null) {
      const at = offset / Type.BYTES_PER_ELEMENT;
      /** @type {any} */ (array).set(this.view(Type).subarray(at, at + /** @type {any} */ (array).length));
    } else new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(this.view(Uint8Array).subarray(offset, offset + array.byteLength));
  }

  /**
   * Sets `bytes` bytes at `offset` to zero: 8 bytes at a time where it can, because V8 fills a
   * shared memory (threads) element by element — a byte-wise fill of 4 MB took 1.3 ms there, an
   * 8-byte-wise one 0.17 ms (and 0.07 ms unshared). +0.0 is eight zero bytes.
   * @param {number} offset @param {number} bytes
   */
  clear(offset, bytes) {
    const words = offset % 8 === 0 ? Math.floor(bytes / 8) : 0;
    if (words > 0) this.view(Float64Array).fill(0, offset / 8, offset / 8 + words);
    if (bytes > words * 8) this.view(Uint8Array).fill(0, offset + words * 8, offset + bytes);
  }

  /** Allocates room for `array` and copies it in; returns the byte offset. @param {ArrayBufferView} array */
  copyIn(array) {
    const offset = this.alloc(array.byteLength);
    this.write(offset, array);
    return offset;
  }
}

/** A memory of at least `minPages` pages for a module to import as env.memory. @param {number} minPages */
export function createMemory(minPages) {
  try {
    return new WebAssembly.Memory({ initial: minPages });
  } catch {
    throw new Error(`WebAssembly memory could not grow to ${minPages * PAGE_BYTES} bytes`);
  }
}

/** Normalizes a scalar argument as the IR interpreter does, to the i32/f32 the export takes. */
function scalarArgument(type, x) {
  return type === "f32" ? x : type === "bool" ? (x ? 1 : 0) : x | 0;
}

/**
 * Wraps an export in the copy-in / copy-out convention of the JS target. One region per distinct
 * array, so an array passed twice stays aliased as in the JS target.
 * @param {string} name
 * @param {readonly {kind: string, name: string, type?: string, storage?: string, access?: string}[]} params
 * @param {(...args: number[]) => void} raw
 * @param {WasmHeap} heap
 */
export function copyingKernel(name, params, raw, heap) {
  return (...args) => {
    if (args.length !== params.length) throw new Error(`${name} expects ${params.length} arguments (${params.map((p) => p.name).join(", ")}), got ${args.length}`);
    const mark = heap.mark();
    const placed = new Map();
    try {
      const values = params.map((p, i) => {
        const arg = args[i];
        if (p.kind === "scalar") {
          if (typeof arg !== "number") throw new Error(`${name}: ${p.name} must be a number`);
          return scalarArgument(p.type, arg);
        }
        if (typeof arg === "number" || arg === null || typeof arg !== "object") throw new Error(`${name}: ${p.name} must be a typed array`);
        let place = placed.get(arg);
        if (place === undefined) {
          const { staged, exact } = stageArray(p.storage, arg);
          place = { offset: heap.copyIn(staged), staged, exact, written: false };
          placed.set(arg, place);
        }
        place.written ||= p.access !== "read";
        return place.offset;
      });
      raw(...values);
      for (const [arg, place] of placed) {
        if (!place.written) continue;
        heap.read(place.offset, place.staged);
        unstageArray(arg, place);
      }
    } finally {
      heap.release(mark);
    }
  };
}

/** Bytes per element of each storage type. */
const STORAGE_BYTES = { f32: 4, i32: 4, u32: 4, u16: 2, u8: 1, i8: 1 };

/**
 * runPlan (run-plan.js) with every buffer of the plan resident in `heap` from the first step to the
 * last: each bound array is copied in once, the steps call the raw exports on byte offsets, and
 * only the outputs, meta and state are copied out (outputs straight into the caller's arrays where
 * given), where the copying kernels copy every array in and out around each step. The bindings,
 * checks and results are runPlan's (resolveCall), bit for bit; inputs are only read. The heap is
 * released after each call, so repeated calls reuse the same memory and allocate none in it.
 * @param {readonly {name: string, params: readonly {kind: string, name: string, type?: string}[]}[]} signatures
 * @param {Readonly<Record<string, (...args: number[]) => void>>} raw
 * @param {WasmHeap} heap
 * @param {(entry: { step: object, kernel: Function, signature: readonly object[] }, args: number[], scalars: object, offsets: Map<string, number>, buffers: Map<string, object>) => void} [runStep]
 *   runs one step in place of calling its kernel here (wasm-parallel.js splits steps across threads)
 *
 * The runner's fourth argument, `placed` (buffer name → byte offset), names bound buffers that
 * already lie in the heap (a package's resident arrays, kept below the call's mark): the kernels
 * use them where they are, with no copy in (inputs) or out (outputs); their bound arrays are views
 * used only for the call's checks.
 */
export function residentPlanRunner(signatures, raw, heap, runStep) {
  const params = new Map(signatures.map((k) => [k.name, k.params]));
  /**
   * Each plan's steps checked against the kernels' signatures once (a training run calls one plan
   * thousands of times), with where each argument comes from: the offset of the plan's buffer at
   * `buffer` (its index), a call scalar, or a constant (as the export takes it). stepArguments'
   * checks run here, once.
   */
  const checkedSteps = new WeakMap();
  const stepsOf = (/** @type {OpPlan} */ plan) => {
    let steps = checkedSteps.get(plan);
    if (steps === undefined) {
      const bufferIndex = new Map(plan.buffers.map((d, i) => [d.name, i]));
      steps = plan.steps.map((step) => {
        const kernel = raw[step.kernel];
        const signature = params.get(step.kernel);
        if (typeof kernel !== "function" || signature === undefined) throw new TypeError(`runPlan: no kernel ${step.kernel}`);
        if (signature.length !== step.params.length || signature.some((p, i) => p.name !== step.params[i]))
          throw new TypeError(`runPlan: step ${step.kernel} passes (${step.params.join(", ")}), the kernel takes (${signature.map((p) => p.name).join(", ")})`);
        const sources = stepArguments(step, (name) => bufferIndex.get(name), { n: 0, channels: 0, seed: 0, channelLength: 0, blockAxis: 0 }).map((a, i) => {
          const arg = step.args[step.params[i]];
          if ("buffer" in arg) return { buffer: /** @type {number} */ (a) };
          if ("scalar" in arg) return { scalar: arg.scalar, type: signature[i].type };
          return { constant: signature[i].kind === "scalar" ? scalarArgument(signature[i].type, a) : a };
        });
        return { step, kernel, signature, sources };
      });
      checkedSteps.set(plan, steps);
    }
    return steps;
  };
  return (plan, bindings, call = {}, placed = undefined) => {
    const steps = stepsOf(plan);
    const { scalars, buffers } = resolveCall(plan, bindings, call);
    const mark = heap.mark();
    try {
      // Byte offsets by buffer index (resolveCall keeps the plan's order).
      const offsets = new Array(buffers.length);
      for (let b = 0; b < buffers.length; b++) {
        const r = buffers[b];
        const at = placed?.get(r.decl.name);
        if (at !== undefined) {
          offsets[b] = at;
          continue;
        }
        const bytes = r.length * STORAGE_BYTES[r.decl.storage];
        const offset = heap.alloc(bytes);
        // Outputs are written in full by the plan's kernels (every element loop covers [0, n)): no clearing first.
        if (r.init === "zero") {
          if (r.decl.role !== "output") heap.clear(offset, bytes);
        } else heap.write(offset, r.given);
        offsets[b] = offset;
      }
      const named = runStep === undefined ? undefined : { offsets: new Map(buffers.map((r, b) => [r.decl.name, offsets[b]])), buffers: new Map(buffers.map((r) => [r.decl.name, r])) };
      for (const entry of steps) {
        const { sources } = entry;
        const args = new Array(sources.length);
        for (let i = 0; i < sources.length; i++) {
          const source = sources[i];
          args[i] = source.buffer !== undefined ? offsets[source.buffer] : source.scalar !== undefined ? scalarArgument(source.type, scalars[source.scalar]) : source.constant;
        }
        if (named === undefined) entry.kernel(...args);
        else runStep(entry, args, scalars, named.offsets, named.buffers);
      }
      const read = {};
      for (let b = 0; b < buffers.length; b++) {
        const r = buffers[b];
        if (r.decl.role === "input" || r.decl.role === "scratch") continue;
        if (placed?.has(r.decl.name)) {
          read[r.decl.name] = r.into;
          continue;
        }
        const target = r.into ?? (r.init === "bind" ? r.given : allocate(r.decl.storage, r.length));
        heap.read(offsets[b], target);
        read[r.decl.name] = target;
      }
      return resultOf(plan, read);
    } finally {
      heap.release(mark);
    }
  };
}

/**
 * Instantiates a kernel module with a fresh growable memory (synchronous).
 * @param {{ wasm: BufferSource, kernels: readonly {name: string, params: readonly object[]}[], minPages: number }} compiled
 */
export function instantiateWasm(compiled) {
  return instantiateOn(new WebAssembly.Module(compiled.wasm), createMemory(compiled.minPages), compiled.kernels);
}

/**
 * Instantiates a compiled module on a given memory (a shared one for threads: wasm-threads.js).
 * @param {WebAssembly.Module} module
 * @param {WebAssembly.Memory} memory
 * @param {readonly {name: string, params: readonly object[]}[]} signatures
 */
export function instantiateOn(module, memory, signatures) {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports;
  const base = exports[HEAP_BASE];
  if (!(base instanceof WebAssembly.Global)) throw new Error(`the module does not export ${HEAP_BASE}`);
  const heap = new WasmHeap(memory, base.value);
  const raw = {};
  const kernels = {};
  for (const k of signatures) {
    const fn = exports[k.name];
    if (typeof fn !== "function") throw new Error(`the module does not export kernel ${k.name}`);
    raw[k.name] = fn;
    kernels[k.name] = copyingKernel(k.name, k.params, fn, heap);
  }
  return { kernels: Object.freeze(kernels), raw: Object.freeze(raw), heap };
}
