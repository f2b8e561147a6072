/**
 * Where the runtime's generated kernels come from: a KernelSource compiles a format once
 * (compileFormat with the target's GEMM schedule) for one target and hands out its kernels, callable
 * positionally as the plans (run-plan.js) and the GEMM description expect.
 */
import { compileFormat, type CompiledFormat } from "../../codegen/compile.ts";
import { JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE } from "../../codegen/schedule.ts";
import type { KernelModule } from "../../codegen/ir/nodes.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { runPlan, type BufferArray, type OpPlan, type PlanKernel, type RunCall, type RunResult } from "../../package-runtime/run-plan.js";
import { residentPlanRunner } from "../../package-runtime/wasm-runtime.js";
import { loadJs } from "../../targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm, type WasmKernelSet } from "../../targets/wasm/load.ts";

/** Kernels by name, called with typed arrays and numbers in parameter order. */
export type Kernels = Readonly<Record<string, PlanKernel>>;

/** runPlan's contract (run-plan.js) for one target's kernels: same bindings, checks and results. */
export type PlanRunner = (plan: OpPlan, bindings: Readonly<Record<string, BufferArray>>, call?: RunCall) => RunResult;

/** A compiled format and its kernels on one target. */
export interface LoadedFormat {
  readonly compiled: CompiledFormat;
  readonly kernels: Kernels;
  /** Runs one of the format's plans on these kernels (wasm: with the buffers resident in the module's heap). */
  readonly runPlan: PlanRunner;
  /** Only for the wasm target: the instance's raw exports and heap, for callers that keep data resident. */
  readonly wasm?: WasmKernelSet;
}

/** Compiles and loads formats for one target; `load` caches by the format's content. */
export interface KernelSource {
  readonly target: "js" | "wasm";
  load(format: ResolvedFormat): LoadedFormat;
  /** Compiles a module that belongs to no format (e.g. the rotations) once per `name`, on this target. */
  loadModule(name: string, module: () => KernelModule): Kernels;
}

/** Caches `build` by the JSON text of the format (formats are plain frozen data). */
function cached(target: KernelSource["target"], build: (format: ResolvedFormat) => LoadedFormat, buildModule: (module: KernelModule) => Kernels): KernelSource {
  const cache = new Map<string, LoadedFormat>();
  const modules = new Map<string, Kernels>();
  return {
    target,
    loadModule(name, module) {
      let hit = modules.get(name);
      if (hit === undefined) {
        hit = buildModule(module());
        modules.set(name, hit);
      }
      return hit;
    },
    load(format) {
      const key = JSON.stringify(format);
      let hit = cache.get(key);
      if (hit === undefined) {
        hit = build(format);
        cache.set(key, hit);
      }
      return hit;
    },
  };
}

/** The JS target: kernels rendered to JS source and compiled by the engine. */
export function jsKernelSource(): KernelSource {
  return cached("js", (format) => {
    const compiled = compileFormat(format, JS_GEMM_SCHEDULE);
    const kernels = loadJs(compiled.module) as unknown as Kernels;
    return { compiled, kernels, runPlan: (plan, bindings, call) => runPlan(plan, kernels, bindings, call) };
  }, (module) => loadJs(module) as unknown as Kernels);
}

/** The wasm target (SIMD where the engine validates it, else scalar), synchronous once wabt is up. */
export function wasmKernelSourceWith(assembler: WasmAssembler): KernelSource {
  return cached("wasm", (format) => {
    const compiled = compileFormat(format, WASM_GEMM_SCHEDULE);
    const binary = compileWasmWith(assembler, compiled.module);
    const wasm = instantiateWasm(binary);
    return { compiled, kernels: wasm.kernels as unknown as Kernels, runPlan: residentPlanRunner(binary.kernels, wasm.raw, wasm.heap), wasm };
  }, (module) => instantiateWasm(compileWasmWith(assembler, module)).kernels as unknown as Kernels);
}

/** Starts the WebAssembly assembler (wabt) and returns a wasm kernel source. */
export async function wasmKernelSource(): Promise<KernelSource> {
  return wasmKernelSourceWith(await createWasmAssembler());
}
