/**
 * Loads rendered wasm kernels in memory. compileWasm: vectorize → render → assemble (wabt) →
 * WebAssembly.validate, falling back to the scalar module on an engine without SIMD.
 * instantiateWasm: synchronous, with a growable imported memory. Two calling conventions:
 * `kernels` takes typed arrays and numbers like the JS target's (arrays are copied in before
 * and copied back out after the call), `raw` takes byte offsets into `heap` for tensors kept
 * resident. Buffers passed to one call must be the same array or not overlap. wabt starts
 * asynchronously, so loadWasm returns a promise; with an assembler in hand (compileWasmWith,
 * loadWasmWith) and for a shipped binary (instantiateWasm) everything is synchronous.
 */
import type { KernelModule, Param, ScalarType, StorageType } from "../../codegen/ir/nodes.ts";
import type { JsKernel } from "../js/load.ts";
import { createWasmAssembler, engineHasRelaxedSimd, type WasmAssembler } from "./assemble.ts";
import { createMemory, WasmHeap, type TypedArray } from "./memory.ts";
import { HEAP_BASE, renderWasm, wasmLayout } from "./render.ts";
import type { SimdModule } from "./simd-ir.ts";
import { vectorizeModule, type LoopReport } from "./vectorize.ts";

/** Same convention as a JS-target kernel: typed arrays (or array-likes) and numbers, positionally. */
export type WasmKernel = JsKernel;
/** A kernel export: buffer parameters are byte offsets into the module's memory. */
export type RawWasmKernel = (...args: number[]) => void;

/** What a kernel package ships for the wasm target: the text, the binary and the signatures. */
export interface CompiledWasm {
  readonly wat: string;
  readonly wasm: Uint8Array<ArrayBuffer>;
  readonly kernels: readonly { readonly name: string; readonly params: readonly Param[] }[];
  /** Pages the imported memory needs at instantiation (the constant tables). */
  readonly minPages: number;
  /** Whether the binary uses SIMD (false: the engine rejected it, or vectorize was off). */
  readonly simd: boolean;
  /** What the vectorizer did with each loop. */
  readonly loops: readonly LoopReport[];
  /** Whether the engine validates relaxed SIMD; kernels use only plain SIMD until the GEMM needs it. */
  readonly relaxedSimd: boolean;
}

export interface WasmOptions {
  /** Vectorize element loops (default true). */
  readonly vectorize?: boolean;
}

/** Renders and assembles a module (synchronous once an assembler exists). */
export function compileWasmWith(assembler: WasmAssembler, module: KernelModule, options: WasmOptions = {}): CompiledWasm {
  const kernels = module.kernels.map((k) => ({ name: k.name, params: k.params }));
  const build = (ir: SimdModule) => {
    const wat = renderWasm(ir);
    return { wat, wasm: assembler.assemble(wat), minPages: wasmLayout(ir).minPages };
  };
  const relaxedSimd = engineHasRelaxedSimd(assembler);
  if (options.vectorize !== false) {
    const vectorized = vectorizeModule(module);
    const built = build(vectorized.module);
    if (WebAssembly.validate(built.wasm)) return { ...built, kernels, simd: true, loops: vectorized.loops, relaxedSimd };
  }
  const built = build(module);
  if (!WebAssembly.validate(built.wasm)) throw new Error("this engine rejects the kernels' WebAssembly module (it needs saturating float-to-int conversions)");
  return { ...built, kernels, simd: false, loops: [], relaxedSimd };
}

/** Renders and assembles a module, starting wabt for it. */
export async function compileWasm(module: KernelModule, options: WasmOptions = {}): Promise<CompiledWasm> {
  return compileWasmWith(await createWasmAssembler(), module, options);
}

/** An instantiated kernel module and its memory. */
export interface WasmKernelSet {
  readonly kernels: Readonly<Record<string, WasmKernel>>;
  readonly raw: Readonly<Record<string, RawWasmKernel>>;
  readonly heap: WasmHeap;
}

const STORAGE_ARRAY: Record<StorageType, { readonly bytes: number; readonly create: (length: number) => TypedArray; readonly accepts: (a: ArrayBufferView) => boolean }> = {
  f32: { bytes: 4, create: (n) => new Float32Array(n), accepts: (a) => a instanceof Float32Array },
  i32: { bytes: 4, create: (n) => new Int32Array(n), accepts: (a) => a instanceof Int32Array || a instanceof Uint32Array },
  u32: { bytes: 4, create: (n) => new Uint32Array(n), accepts: (a) => a instanceof Int32Array || a instanceof Uint32Array },
  u16: { bytes: 2, create: (n) => new Uint16Array(n), accepts: (a) => a instanceof Int16Array || a instanceof Uint16Array },
  u8: { bytes: 1, create: (n) => new Uint8Array(n), accepts: (a) => a instanceof Int8Array || a instanceof Uint8Array },
  i8: { bytes: 1, create: (n) => new Int8Array(n), accepts: (a) => a instanceof Int8Array || a instanceof Uint8Array },
};

/** Normalizes a scalar argument as the interpreter does, to the i32/f32 the export takes. */
function scalarArgument(type: ScalarType, x: number): number {
  return type === "f32" ? x : type === "bool" ? (x ? 1 : 0) : x | 0;
}

interface Placed {
  readonly offset: number;
  readonly staged: ArrayBufferView;
  /** Whether staged is the argument itself (otherwise a typed copy of an array-like). */
  readonly exact: boolean;
  written: boolean;
}

/** Wraps an export in the copy-in / copy-out convention of the JS target. */
function copyingKernel(name: string, params: readonly Param[], raw: RawWasmKernel, heap: WasmHeap): WasmKernel {
  return (...args) => {
    if (args.length !== params.length) throw new Error(`${name} expects ${params.length} arguments (${params.map((p) => p.name).join(", ")}), got ${args.length}`);
    const mark = heap.mark();
    // One region per distinct array, so an array passed twice stays aliased as in the JS target.
    const placed = new Map<ArrayLike<number>, Placed>();
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
          const kind = STORAGE_ARRAY[p.storage];
          const exact = ArrayBuffer.isView(arg) && kind.accepts(arg);
          const staged = exact ? (arg as ArrayBufferView) : kind.create(arg.length);
          if (!exact) for (let k = 0; k < arg.length; k++) (staged as TypedArray)[k] = arg[k];
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
        if (!place.exact) for (let k = 0; k < arg.length; k++) (arg as { [k: number]: number })[k] = (place.staged as TypedArray)[k];
      }
    } finally {
      heap.release(mark);
    }
  };
}

/** Instantiates a compiled module with a fresh growable memory (synchronous). */
export function instantiateWasm(compiled: Pick<CompiledWasm, "wasm" | "kernels" | "minPages">): WasmKernelSet {
  const memory = createMemory(compiled.minPages);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(compiled.wasm), { env: { memory } });
  const exports = instance.exports as Record<string, unknown>;
  const base = exports[HEAP_BASE];
  if (!(base instanceof WebAssembly.Global)) throw new Error(`the module does not export ${HEAP_BASE}`);
  const heap = new WasmHeap(memory, base.value as number);
  const raw: Record<string, RawWasmKernel> = {};
  const kernels: Record<string, WasmKernel> = {};
  for (const k of compiled.kernels) {
    const fn = exports[k.name];
    if (typeof fn !== "function") throw new Error(`the module does not export kernel ${k.name}`);
    raw[k.name] = fn as RawWasmKernel;
    kernels[k.name] = copyingKernel(k.name, k.params, raw[k.name], heap);
  }
  return { kernels: Object.freeze(kernels), raw: Object.freeze(raw), heap };
}

/** Compiles the module's kernels into callable functions by kernel name, as loadJs does. */
export async function loadWasm(module: KernelModule, options: WasmOptions = {}): Promise<Readonly<Record<string, WasmKernel>>> {
  return instantiateWasm(await compileWasm(module, options)).kernels;
}

/** loadWasm with an existing assembler (synchronous). */
export function loadWasmWith(assembler: WasmAssembler, module: KernelModule, options: WasmOptions = {}): Readonly<Record<string, WasmKernel>> {
  return instantiateWasm(compileWasmWith(assembler, module, options)).kernels;
}
