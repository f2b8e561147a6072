/**
 * Runs WGSL kernels on a WebGPU device with the JS target's calling convention: typed arrays
 * (or array-likes) and numbers, positionally; arrays are copied into GPU buffers (narrow codes as
 * their bytes, padded to whole u32 words) and the ones a kernel writes are copied back. Calls
 * are async. A sequence of calls — a plan — runs in one command buffer: every array is uploaded
 * once, stays on the GPU between the steps, and only the results are read back.
 */
import type { KernelModule, Param, ScalarType } from "../../codegen/ir/nodes.ts";
import { runPlan, type BufferArray, type OpPlan, type RunCall, type RunResult } from "../../package-runtime/run-plan.js";
import { compileWgsl, type CompiledWgsl, type CompiledWgslKernel, type CompiledWgslPass } from "./compile.ts";
import { openWgslDevice, USAGE, type WgslDevice } from "./device.ts";
import { dispatches, scratchLength } from "./launch.ts";
import { uniformParams } from "./render.ts";
import { padded, Residency } from "./residency.ts";

export type WgslArg = ArrayLike<number> | number;
/** A kernel: resolves once its outputs are copied back into the arrays passed. */
export type WgslKernel = (...args: WgslArg[]) => Promise<void>;

/** One kernel call to run. */
export interface WgslCall {
  readonly kernel: CompiledWgslKernel;
  readonly args: readonly WgslArg[];
}

/** The uniform bytes of one dispatch: the call's scalars, the launch scalars, then the opaque zero. */
function uniformBytes(pass: CompiledWgslPass, values: Readonly<Record<string, number>>): Uint8Array<ArrayBuffer> {
  const fields = uniformParams(pass);
  const view = new DataView(new ArrayBuffer(Math.ceil(((fields.length + 1) * 4) / 16) * 16));
  fields.forEach((p, k) => {
    const x = values[p.name];
    if (typeof x !== "number") throw new Error(`${pass.name}: no value for ${p.name}`);
    const type: ScalarType = p.type;
    if (type === "f32") view.setFloat32(4 * k, x, true);
    else if (type === "bool") view.setUint32(4 * k, x ? 1 : 0, true);
    else if (type === "i32") view.setInt32(4 * k, x | 0, true);
    else view.setUint32(4 * k, x >>> 0, true);
  });
  return new Uint8Array(view.buffer);
}

/** The call's scalar arguments by name (after checking the arity). */
function scalarArgs(call: WgslCall): Record<string, number> {
  const { kernel, args } = call;
  const params = kernel.params;
  if (args.length !== params.length) throw new Error(`${kernel.name} expects ${params.length} arguments (${params.map((p) => p.name).join(", ")}), got ${args.length}`);
  const scalars: Record<string, number> = {};
  params.forEach((p, k) => {
    if (p.kind !== "scalar") return;
    if (typeof args[k] !== "number") throw new Error(`${kernel.name}: ${p.name} must be a number`);
    scalars[p.name] = args[k] as number;
  });
  return scalars;
}

type Pipelines = Map<CompiledWgslPass, Map<string, GPUComputePipeline>>;

/** Every pipeline the calls need: one per pass and workgroup shape of its dispatches. */
async function pipelinesFor(dev: WgslDevice, calls: readonly WgslCall[]): Promise<Pipelines> {
  const pipelines: Pipelines = new Map();
  const pending = calls.flatMap((call) => {
    const scalars = scalarArgs(call);
    return call.kernel.passes.flatMap((pass) =>
      dispatches(pass.launch, call.kernel.params, pass.kernel.tables, scalars).map(async (d) => {
        const shapes = pipelines.get(pass) ?? new Map<string, GPUComputePipeline>();
        pipelines.set(pass, shapes);
        shapes.set(`${d.workgroupSize}`, await dev.pipeline(pass, d.workgroupSize));
      }),
    );
  });
  await Promise.all(pending);
  return pipelines;
}

/** Encodes one call: binds its arrays (and scratch buffers), then every dispatch of every pass. */
function encodeCall(dev: WgslDevice, call: WgslCall, pipelines: Pipelines, residency: Residency, pass: GPUComputePassEncoder): void {
  const { kernel, args } = call;
  const scalars = scalarArgs(call);
  const entries: GPUBindGroupEntry[] = [];
  const bound = new Map<ArrayLike<number>, Param & { kind: "buffer" }>();
  kernel.params.forEach((p, k) => {
    if (p.kind !== "buffer") return;
    const arg = args[k];
    if (typeof arg !== "object" || arg === null) throw new Error(`${kernel.name}: ${p.name} must be a typed array`);
    const other = bound.get(arg);
    if (other !== undefined && (p.access !== "read" || other.access !== "read"))
      throw new Error(`${kernel.name}: the same array is passed as ${other.name} and ${p.name}, and one of them is written (WebGPU cannot alias a writable buffer)`);
    bound.set(arg, p);
    entries.push({ binding: entries.length, resource: { buffer: residency.buffer(arg, p, kernel.name) } });
  });
  const first = kernel.passes[0];
  const scratch = scratchLength(first.launch, kernel.params, first.kernel.tables, scalars);
  for (const s of kernel.scratch) entries.push({ binding: entries.length, resource: { buffer: residency.temporaryBuffer(padded(4 * scratch), USAGE.STORAGE, s.name) } });
  for (const p of kernel.passes) {
    for (const d of dispatches(p.launch, kernel.params, p.kernel.tables, scalars)) {
      const pipeline = pipelines.get(p)?.get(`${d.workgroupSize}`);
      if (pipeline === undefined) throw new Error(`${kernel.name}: no pipeline for workgroups of ${d.workgroupSize.join("×")}`);
      const uniform = uniformBytes(p, { ...scalars, ...d.scalars });
      const uniforms = residency.temporaryBuffer(uniform.byteLength, USAGE.UNIFORM | USAGE.COPY_DST);
      dev.device.queue.writeBuffer(uniforms, 0, uniform);
      const tables = dev.tables(p).map((buffer, t): GPUBindGroupEntry => ({ binding: entries.length + t, resource: { buffer } }));
      const all = [...entries, ...tables, { binding: entries.length + tables.length, resource: { buffer: uniforms } }];
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, dev.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: all }));
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
    }
  }
}

/**
 * Runs the calls in order in one command buffer. Arrays are uploaded once; those written by a
 * call and accepted by `readBack` (default: all) are copied back when the returned promise
 * resolves. An array passed to a writable parameter must not be passed to another parameter of
 * the same call (WebGPU forbids aliasing a writable binding).
 */
export async function runWgslCalls(dev: WgslDevice, calls: readonly WgslCall[], readBack: (array: ArrayLike<number>) => boolean = () => true): Promise<void> {
  dev.check();
  const pipelines = await pipelinesFor(dev, calls);
  const device = dev.device;
  const residency = new Residency(device);
  try {
    // Error scopes are a per-device stack: push, encode, submit and pop without awaiting in between.
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    let read: () => Promise<void>;
    let validation: Promise<GPUError | null>;
    let memory: Promise<GPUError | null>;
    try {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      for (const call of calls) encodeCall(dev, call, pipelines, residency, pass);
      pass.end();
      read = residency.copyBack(encoder, readBack);
      device.queue.submit([encoder.finish()]);
    } finally {
      validation = device.popErrorScope();
      memory = device.popErrorScope();
    }
    const [invalid, oom] = await Promise.all([validation, memory]);
    if (invalid !== null) throw new Error(`WebGPU rejected a call of ${calls.map((c) => c.kernel.name).join(", ")}: ${invalid.message}`);
    if (oom !== null) throw new Error(`WebGPU is out of memory: ${oom.message}`);
    await read();
  } finally {
    residency.release();
  }
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
  await Promise.all(compiled.kernels.flatMap((k) => k.passes.map((pass) => device.pipeline(pass))));
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
export async function runPlanWgsl(plan: OpPlan, set: WgslKernelSet, bindings: Readonly<Record<string, BufferArray>>, call: RunCall = {}): Promise<RunResult> {
  const recorded: WgslCall[] = [];
  const recorders = Object.fromEntries(
    set.compiled.kernels.map((kernel) => [kernel.name, (...args: (BufferArray | number)[]) => void recorded.push({ kernel, args })] as const),
  );
  const result = runPlan(plan, recorders, bindings, call);
  const kept = new Set<ArrayLike<number>>([...Object.values(result.outputs), ...Object.values(result.meta), ...Object.values(result.state)]);
  await runWgslCalls(set.device, recorded, (array) => kept.has(array));
  return result;
}
