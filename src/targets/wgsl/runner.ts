/**
 * Runs WGSL kernels on a WebGPU device with the JS target's calling convention: typed arrays
 * (or array-likes) and numbers, positionally; arrays are copied into GPU buffers (narrow codes as
 * their bytes, padded to whole u32 words) and the ones a kernel writes are copied back. Calls
 * are async. A sequence of calls — a plan — runs in one command buffer: every array is uploaded
 * once, stays on the GPU between the steps, and only the results are read back.
 *
 * The running itself is the shipped runtime's (src/package-runtime/wgsl-runtime.js), the one
 * kernel packages use: here a compiled kernel gets its dispatches from launch.ts (bounds by the
 * IR interpreter, geometry by the runtime) and its pipelines and tables from the WgslDevice
 * (the runtime's GpuPipelines).
 */
import type { KernelModule } from "../../codegen/ir/nodes.ts";
import type { BufferArray, OpPlan, RunCall, RunResult } from "../../package-runtime/run-plan.js";
import { MAX_WORKGROUPS_PER_DIMENSION, runGpuCalls, runPlanOnGpu, warmPipelines, type GpuKernel, type GpuPass } from "../../package-runtime/wgsl-runtime.js";
import { compileWgsl, type CompiledWgsl, type CompiledWgslKernel, type CompiledWgslPass } from "./compile.ts";
import { openWgslDevice, type WgslDevice } from "./device.ts";
import { dispatches, scratchLength } from "./launch.ts";
import { uniformParams } from "./render.ts";

export type WgslArg = ArrayLike<number> | number;
/** A kernel: resolves once its outputs are copied back into the arrays passed. */
export type WgslKernel = (...args: WgslArg[]) => Promise<void>;

/** One kernel call to run. */
export interface WgslCall {
  readonly kernel: CompiledWgslKernel;
  readonly args: readonly WgslArg[];
}

/** A compiled pass as the runtime runs it (still a CompiledWgslPass for the WgslDevice). */
type RunnablePass = CompiledWgslPass & GpuPass;

const runnables = new WeakMap<CompiledWgslKernel, GpuKernel<RunnablePass>>();

/**
 * The runtime's view of a compiled kernel; made once per kernel object (so the device's per-pass
 * caches hit) unless `maxWorkgroups` is lowered, which tests do to exercise the grid-stride rounds.
 */
function runnable(kernel: CompiledWgslKernel, maxWorkgroups = MAX_WORKGROUPS_PER_DIMENSION): GpuKernel<RunnablePass> {
  const cache = maxWorkgroups === MAX_WORKGROUPS_PER_DIMENSION;
  const known = cache ? runnables.get(kernel) : undefined;
  if (known !== undefined) return known;
  const first = kernel.passes[0];
  const r: GpuKernel<RunnablePass> = {
    name: kernel.name,
    params: kernel.params,
    scratch: kernel.scratch,
    scratchLength: (scalars) => scratchLength(first.launch, kernel.params, first.kernel.tables, scalars),
    passes: kernel.passes.map((pass) => ({
      ...pass,
      uniforms: uniformParams(pass),
      dispatches: (scalars: Readonly<Record<string, number>>) => dispatches(pass.launch, kernel.params, pass.kernel.tables, scalars, maxWorkgroups),
    })),
  };
  if (cache) runnables.set(kernel, r);
  return r;
}

/**
 * Runs the calls in order in one command buffer. Arrays are uploaded once; those written by a
 * call and accepted by `readBack` (default: all) are copied back when the returned promise
 * resolves. An array passed to a writable parameter must not be passed to another parameter of
 * the same call (WebGPU forbids aliasing a writable binding). `maxWorkgroups` caps the
 * workgroups per dimension (tests lower it; the kernels stride over what is not dispatched).
 */
export function runWgslCalls(
  dev: WgslDevice,
  calls: readonly WgslCall[],
  readBack?: (array: ArrayLike<number>) => boolean,
  maxWorkgroups = MAX_WORKGROUPS_PER_DIMENSION,
): Promise<void> {
  return runGpuCalls<RunnablePass>(dev, calls.map((c) => ({ kernel: runnable(c.kernel, maxWorkgroups), args: c.args })), readBack);
}

/** Compiled kernels on a device. */
export interface WgslKernelSet {
  readonly device: WgslDevice;
  readonly compiled: CompiledWgsl;
  /** The kernels by name, with the JS target's positional calling convention. */
  readonly kernels: Readonly<Record<string, WgslKernel>>;
}

/** Binds compiled kernels to a device and compiles their pipelines (resolves when all are ready). */
export async function instantiateWgsl(compiled: CompiledWgsl, device: WgslDevice): Promise<WgslKernelSet> {
  await warmPipelines<RunnablePass>(device, Object.fromEntries(compiled.kernels.map((k) => [k.name, runnable(k)] as const)));
  const kernels = Object.fromEntries(compiled.kernels.map((kernel) => [kernel.name, (...args: WgslArg[]) => runWgslCalls(device, [{ kernel, args }])] as const));
  return { device, compiled, kernels: Object.freeze(kernels) };
}

/**
 * Compiles the module's kernels for WebGPU, by name, as loadJs does (but async). Without a
 * device, one is opened for these kernels: pass one to share pipelines and close it when done.
 */
export async function loadWgsl(module: KernelModule, device?: WgslDevice): Promise<Readonly<Record<string, WgslKernel>>> {
  return (await instantiateWgsl(compileWgsl(module), device ?? (await openWgslDevice()))).kernels;
}

/**
 * runPlan (src/package-runtime/run-plan.js) on the GPU: the same bindings, validation and
 * results, with every step recorded first and then run in one command buffer, buffers resident
 * on the GPU between steps; only outputs, metadata and state are read back.
 */
export function runPlanWgsl(plan: OpPlan, set: WgslKernelSet, bindings: Readonly<Record<string, BufferArray>>, call: RunCall = {}): Promise<RunResult> {
  const kernels = Object.fromEntries(set.compiled.kernels.map((k) => [k.name, runnable(k)] as const));
  return runPlanOnGpu<RunnablePass>(set.device, kernels, plan, bindings, call);
}
