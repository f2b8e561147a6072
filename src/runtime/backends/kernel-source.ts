/**
 * Where the runtime's generated kernels come from: a KernelSource compiles a format once
 * (compileFormat with the target's GEMM schedule) for one target and hands out its kernels, callable
 * positionally as the plans (run-plan.js) and the GEMM description expect.
 */
import { compileFormat, type CompiledFormat } from "../../codegen/compile.ts";
import { JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE, type GemmSchedule } from "../../codegen/schedule.ts";
import type { Kernel, KernelModule } from "../../codegen/ir/nodes.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { runPlan, type BufferArray, type OpPlan, type PlanKernel, type RunCall, type RunResult } from "../../package-runtime/run-plan.js";
import { instantiateOn, residentPlanRunner } from "../../package-runtime/wasm-runtime.js";
import { parallelStepRunner } from "../../package-runtime/wasm-parallel.js";
import { loadNodeWorkers, sharedModule, startThreadPoolSync, type ThreadPool } from "../../package-runtime/wasm-threads.js";
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
  /** Only for the wasm target on several threads: the workers sharing the instance's memory. */
  readonly pool?: ThreadPool;
}

/**
 * Kernels compiled into a format's own module, beside its kernels (so a plan can run them between
 * the format's steps on the same memory): `key` names them in the cache; their names must not be
 * the format's.
 */
export interface ExtraKernels {
  readonly key: string;
  readonly kernels: () => readonly Kernel[];
}

/** Compiles and loads formats for one target; `load` caches by the format's content (and the extra kernels' key). */
export interface KernelSource {
  readonly target: "js" | "wasm";
  /** Threads each format's kernels run on (wasm on a shared memory; 1 elsewhere). */
  readonly threads: number;
  load(format: ResolvedFormat, extra?: ExtraKernels): LoadedFormat;
  /** Stops the worker threads of every format loaded (a source on one thread has none). */
  close(): Promise<void>;
  /** Compiles a module that belongs to no format (e.g. the rotations) once per `name`, on this target. */
  loadModule(name: string, module: () => KernelModule): Kernels;
}

/** The format's compiled kernels and plans, with the extra kernels in its module. */
function compileWith(format: ResolvedFormat, schedule: GemmSchedule, extra: ExtraKernels | undefined): CompiledFormat {
  const compiled = compileFormat(format, schedule);
  return extra === undefined ? compiled : { ...compiled, module: { kernels: [...compiled.module.kernels, ...extra.kernels()] } };
}

/** Caches `build` by the JSON text of the format (formats are plain frozen data) and the extra kernels' key. */
function cached(target: KernelSource["target"], build: (format: ResolvedFormat, extra?: ExtraKernels) => LoadedFormat, buildModule: (module: KernelModule) => Kernels, threads = 1): KernelSource {
  const cache = new Map<string, LoadedFormat>();
  const modules = new Map<string, Kernels>();
  return {
    target,
    threads,
    async close() {
      await Promise.all([...cache.values()].map((loaded) => loaded.pool?.close()));
    },
    loadModule(name, module) {
      let hit = modules.get(name);
      if (hit === undefined) {
        hit = buildModule(module());
        modules.set(name, hit);
      }
      return hit;
    },
    load(format, extra) {
      const key = extra === undefined ? JSON.stringify(format) : `${JSON.stringify(format)} with ${extra.key}`;
      let hit = cache.get(key);
      if (hit === undefined) {
        hit = build(format, extra);
        cache.set(key, hit);
      }
      return hit;
    },
  };
}

/** The JS target: kernels rendered to JS source and compiled by the engine. */
export function jsKernelSource(): KernelSource {
  return cached("js", (format, extra) => {
    const compiled = compileWith(format, JS_GEMM_SCHEDULE, extra);
    const kernels = loadJs(compiled.module) as unknown as Kernels;
    return { compiled, kernels, runPlan: (plan, bindings, call) => runPlan(plan, kernels, bindings, call) };
  }, (module) => loadJs(module) as unknown as Kernels);
}

/** The wasm target (SIMD where the engine validates it, else scalar), synchronous once wabt is up. */
/**
 * The wasm target (SIMD where the engine validates it, else scalar), synchronous once wabt is up.
 * With `threads` > 1 (Node, after loadNodeWorkers) each format's module runs on a shared memory
 * with threads − 1 workers: its GEMMs split by rows of C, its plans' element steps by ranges,
 * bit-identical to one thread (wasm-parallel.js).
 */
export function wasmKernelSourceWith(assembler: WasmAssembler, threads = 1): KernelSource {
  return cached("wasm", (format, extra) => {
    const compiled = compileWith(format, WASM_GEMM_SCHEDULE, extra);
    const binary = compileWasmWith(assembler, compiled.module);
    if (threads <= 1) {
      const wasm = instantiateWasm(binary);
      return { compiled, kernels: wasm.kernels as unknown as Kernels, runPlan: residentPlanRunner(binary.kernels, wasm.raw, wasm.heap), wasm };
    }
    const { memory, module } = sharedModule(binary.wasm, binary.minPages);
    const wasm = instantiateOn(module, memory, binary.kernels) as WasmKernelSet;
    const pool = startThreadPoolSync({ module, memory, names: binary.kernels.map((k) => k.name), threads, raw: wasm.raw });
    const steps = parallelStepRunner({ pool, stochastic: format.rounding.mode === "stochastic" });
    return { compiled, kernels: wasm.kernels as unknown as Kernels, runPlan: residentPlanRunner(binary.kernels, wasm.raw, wasm.heap, steps), wasm, pool };
  }, (module) => instantiateWasm(compileWasmWith(assembler, module)).kernels as unknown as Kernels, threads);
}

/** Starts the WebAssembly assembler (wabt) and returns a wasm kernel source (on `threads` threads: see wasmKernelSourceWith). */
export async function wasmKernelSource(threads = 1): Promise<KernelSource> {
  if (threads > 1 && !(await loadNodeWorkers())) throw new Error("threads: the training runtime runs several threads only in Node");
  return wasmKernelSourceWith(await createWasmAssembler(), threads);
}
