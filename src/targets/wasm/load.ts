/**
 * Loads rendered wasm kernels in memory. compileWasm: vectorize (element loops) → superword
 * (GEMM tiles, packing, merges; relaxed madd where the engine has it) → widen-stores (narrow
 * codes 16 bytes per store) → render → assemble (wabt)
 * → WebAssembly.validate, falling back to the scalar module on an engine without SIMD.
 * instantiateWasm: synchronous, with a growable imported memory. Two calling conventions:
 * `kernels` takes typed arrays and numbers like the JS target's (arrays are copied in before
 * and copied back out after the call), `raw` takes byte offsets into `heap` for tensors kept
 * resident. Buffers passed to one call must be the same array or not overlap. wabt starts
 * asynchronously, so loadWasm returns a promise; with an assembler in hand (compileWasmWith,
 * loadWasmWith) and for a shipped binary (instantiateWasm) everything is synchronous.
 */
import type { KernelModule, Param } from "../../codegen/ir/nodes.ts";
import type { JsKernel } from "../js/load.ts";
import { carrierDifferenceModule } from "./carrier-difference.ts";
import { createWasmAssembler, engineHasRelaxedSimd, type WasmAssembler } from "./assemble.ts";
import { instantiateWasm as instantiateShipped, type WasmHeap } from "../../package-runtime/wasm-runtime.js";
import { renderWasm, wasmLayout } from "./render.ts";
import type { SimdModule } from "./simd-ir.ts";
import { superwordModule, type SuperwordReport } from "./superword.ts";
import { vectorizeModule, type LoopReport } from "./vectorize.ts";
import { widenStoresModule } from "./widen-stores.ts";

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
  /** Whether the engine validates relaxed SIMD. */
  readonly relaxedSimd: boolean;
  /** Whether this binary uses relaxed SIMD (the GEMM's f32x4.relaxed_madd). */
  readonly relaxed: boolean;
  /** What the superword pass packed in each kernel (empty without SIMD). */
  readonly superword: readonly SuperwordReport[];
}

export interface WasmOptions {
  /** Vectorize element loops and pack superword groups (default true). */
  readonly vectorize?: boolean;
  /**
   * Relaxed SIMD in the GEMM micro-kernel (f32x4.relaxed_madd): "auto" (default) where the
   * engine validates it, true to build it regardless (for a package: the loader checks), false
   * for the plain-SIMD kernel, which is bit-identical to the interpreter.
   */
  readonly relaxed?: boolean | "auto";
}

/** Renders and assembles a module (synchronous once an assembler exists). */
export function compileWasmWith(assembler: WasmAssembler, module: KernelModule, options: WasmOptions = {}): CompiledWasm {
  const kernels = module.kernels.map((k) => ({ name: k.name, params: k.params }));
  const relaxedSimd = engineHasRelaxedSimd(assembler);
  const relaxed = options.relaxed === undefined || options.relaxed === "auto" ? relaxedSimd : options.relaxed;
  const build = (ir: SimdModule, relaxedInstructions: boolean) => {
    const wat = renderWasm(ir);
    return { wat, wasm: assembler.assemble(wat, { relaxedSimd: relaxedInstructions }), minPages: wasmLayout(ir).minPages };
  };
  if (options.vectorize !== false) {
    const vectorized = vectorizeModule(module);
    const packed = superwordModule(vectorized.module, { relaxedMadd: relaxed });
    const fused = packed.reports.some((r) => r.fused > 0);
    const built = build(widenStoresModule(carrierDifferenceModule(packed.module)).module, fused);
    // A relaxed build asked for explicitly is returned as is: its loader validates it.
    if ((fused && options.relaxed === true) || WebAssembly.validate(built.wasm))
      return { ...built, kernels, simd: true, loops: vectorized.loops, relaxedSimd, relaxed: fused, superword: packed.reports };
  }
  const built = build(module, false);
  if (!WebAssembly.validate(built.wasm)) throw new Error("this engine rejects the kernels' WebAssembly module (it needs saturating float-to-int conversions)");
  return { ...built, kernels, simd: false, loops: [], relaxedSimd, relaxed: false, superword: [] };
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

/** Instantiates a compiled module with a fresh growable memory (synchronous; shipped runtime). */
export function instantiateWasm(compiled: Pick<CompiledWasm, "wasm" | "kernels" | "minPages">): WasmKernelSet {
  return instantiateShipped(compiled) as WasmKernelSet;
}

/** Compiles the module's kernels into callable functions by kernel name, as loadJs does. */
export async function loadWasm(module: KernelModule, options: WasmOptions = {}): Promise<Readonly<Record<string, WasmKernel>>> {
  return instantiateWasm(await compileWasm(module, options)).kernels;
}

/** loadWasm with an existing assembler (synchronous). */
export function loadWasmWith(assembler: WasmAssembler, module: KernelModule, options: WasmOptions = {}): Readonly<Record<string, WasmKernel>> {
  return instantiateWasm(compileWasmWith(assembler, module, options)).kernels;
}
