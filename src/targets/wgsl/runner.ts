/**
 * Runs WGSL kernels on a WebGPU device with the JS target's calling convention: typed arrays
 * (or array-likes) and numbers, positionally; arrays are copied into GPU buffers (narrow codes as
 * their bytes, padded to whole u32 words) and the ones a kernel writes are copied back. Calls
 * are async. A sequence of calls — a plan — runs in one command buffer: every array is uploaded
 * once, stays on the GPU between the steps, and only the results are read back.
 */
import type { KernelModule, Param, ScalarType, StorageType } from "../../codegen/ir/nodes.ts";
import { runPlan, type BufferArray, type OpPlan, type RunCall, type RunResult } from "../../package-runtime/run-plan.js";
import { compileWgsl, type CompiledWgsl, type CompiledWgslKernel } from "./compile.ts";
import { MAP_READ, openWgslDevice, uniformFields, USAGE, type WgslDevice } from "./device.ts";
import { dispatches } from "./launch.ts";

export type WgslArg = ArrayLike<number> | number;
/** A kernel: resolves once its outputs are copied back into the arrays passed. */
export type WgslKernel = (...args: WgslArg[]) => Promise<void>;

type TypedArray = Float32Array | Int32Array | Uint32Array | Uint16Array | Int16Array | Uint8Array | Int8Array;

const STORAGE_ARRAY: Record<StorageType, { readonly create: (n: number) => TypedArray; readonly accepts: (a: ArrayBufferView) => boolean }> = {
  f32: { create: (n) => new Float32Array(n), accepts: (a) => a instanceof Float32Array },
  i32: { create: (n) => new Int32Array(n), accepts: (a) => a instanceof Int32Array || a instanceof Uint32Array },
  u32: { create: (n) => new Uint32Array(n), accepts: (a) => a instanceof Int32Array || a instanceof Uint32Array },
  u16: { create: (n) => new Uint16Array(n), accepts: (a) => a instanceof Int16Array || a instanceof Uint16Array },
  u8: { create: (n) => new Uint8Array(n), accepts: (a) => a instanceof Int8Array || a instanceof Uint8Array },
  i8: { create: (n) => new Int8Array(n), accepts: (a) => a instanceof Int8Array || a instanceof Uint8Array },
};

/** One kernel call to run. */
export interface WgslCall {
  readonly kernel: CompiledWgslKernel;
  readonly args: readonly WgslArg[];
}

interface Resident {
  readonly storage: StorageType;
  /** The argument itself when it is a typed array of the storage's width, else a typed copy. */
  readonly staged: TypedArray;
  readonly exact: boolean;
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  written: boolean;
}

const padded = (bytes: number) => Math.max(4, Math.ceil(bytes / 4) * 4);

/** Bytes of a typed array, padded with zeros to whole u32 words. */
function wordBytes(array: TypedArray): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(padded(array.byteLength));
  bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return bytes;
}

/** The uniform bytes of one dispatch: the call's scalars, then the launch scalars. */
function uniformBytes(kernel: CompiledWgslKernel, values: Readonly<Record<string, number>>): Uint8Array<ArrayBuffer> | null {
  const fields = uniformFields(kernel);
  if (fields.length === 0) return null;
  const view = new DataView(new ArrayBuffer(Math.ceil((fields.length * 4) / 16) * 16));
  fields.forEach((p, k) => {
    const x = values[p.name];
    if (typeof x !== "number") throw new Error(`${kernel.name}: no value for ${p.name}`);
    const type: ScalarType = p.type;
    if (type === "f32") view.setFloat32(4 * k, x, true);
    else if (type === "bool") view.setUint32(4 * k, x ? 1 : 0, true);
    else if (type === "i32") view.setInt32(4 * k, x | 0, true);
    else view.setUint32(4 * k, x >>> 0, true);
  });
  return new Uint8Array(view.buffer);
}

/**
 * Runs the calls in order in one command buffer. Arrays are uploaded once; those written by a
 * call and accepted by `readBack` (default: all) are copied back when the returned promise
 * resolves. An array passed to a writable parameter must not be passed to another parameter of
 * the same call (WebGPU forbids aliasing a writable binding).
 */
export async function runWgslCalls(dev: WgslDevice, calls: readonly WgslCall[], readBack: (array: ArrayLike<number>) => boolean = () => true): Promise<void> {
  dev.check();
  const pipelines = await Promise.all(calls.map((c) => dev.pipeline(c.kernel)));
  const device = dev.device;
  const residents = new Map<ArrayLike<number>, Resident>();
  const temporary: GPUBuffer[] = [];
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  try {
    const resident = (array: ArrayLike<number>, p: Param & { kind: "buffer" }, where: string): Resident => {
      let r = residents.get(array);
      if (r !== undefined) {
        if (r.storage !== p.storage) throw new Error(`${where}: the same array is passed as ${r.storage} and as ${p.storage}`);
        return r;
      }
      const kind = STORAGE_ARRAY[p.storage];
      const exact = ArrayBuffer.isView(array) && kind.accepts(array);
      const staged = exact ? (array as unknown as TypedArray) : kind.create(array.length);
      if (!exact) for (let k = 0; k < array.length; k++) staged[k] = array[k];
      const bytes = padded(staged.byteLength);
      const buffer = device.createBuffer({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST, label: p.name });
      device.queue.writeBuffer(buffer, 0, wordBytes(staged));
      r = { storage: p.storage, staged, exact, buffer, bytes, written: false };
      residents.set(array, r);
      return r;
    };

    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    calls.forEach((call, c) => {
      const { kernel, args } = call;
      const params = kernel.params;
      if (args.length !== params.length) throw new Error(`${kernel.name} expects ${params.length} arguments (${params.map((p) => p.name).join(", ")}), got ${args.length}`);
      const scalars: Record<string, number> = {};
      const entries: GPUBindGroupEntry[] = [];
      const bound = new Map<ArrayLike<number>, Param>();
      params.forEach((p, k) => {
        const arg = args[k];
        if (p.kind === "scalar") {
          if (typeof arg !== "number") throw new Error(`${kernel.name}: ${p.name} must be a number`);
          scalars[p.name] = arg;
          return;
        }
        if (typeof arg !== "object" || arg === null) throw new Error(`${kernel.name}: ${p.name} must be a typed array`);
        const other = bound.get(arg);
        if (other !== undefined && (p.access !== "read" || (other.kind === "buffer" && other.access !== "read")))
          throw new Error(`${kernel.name}: the same array is passed as ${other.name} and ${p.name}, and one of them is written (WebGPU cannot alias a writable buffer)`);
        bound.set(arg, p);
        const r = resident(arg, p, kernel.name);
        r.written ||= p.access !== "read";
        entries.push({ binding: entries.length, resource: { buffer: r.buffer } });
      });
      const layout = pipelines[c].getBindGroupLayout(0);
      for (const d of dispatches(kernel.launch, params, kernel.kernel.tables, scalars)) {
        const all = [...entries];
        const uniform = uniformBytes(kernel, { ...scalars, ...d.scalars });
        if (uniform !== null) {
          const buffer = device.createBuffer({ size: uniform.byteLength, usage: USAGE.UNIFORM | USAGE.COPY_DST });
          temporary.push(buffer);
          device.queue.writeBuffer(buffer, 0, uniform);
          all.push({ binding: all.length, resource: { buffer } });
        }
        pass.setPipeline(pipelines[c]);
        pass.setBindGroup(0, device.createBindGroup({ layout, entries: all }));
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
      }
    });
    pass.end();

    const back = [...residents].filter(([array, r]) => r.written && readBack(array));
    let size = 0;
    const offsets = back.map(([, r]) => {
      const at = size;
      size += r.bytes;
      return at;
    });
    const staging = size > 0 ? device.createBuffer({ size, usage: USAGE.MAP_READ | USAGE.COPY_DST }) : null;
    if (staging !== null) temporary.push(staging);
    back.forEach(([, r], k) => encoder.copyBufferToBuffer(r.buffer, 0, staging as GPUBuffer, offsets[k], r.bytes));
    device.queue.submit([encoder.finish()]);
    const validation = await device.popErrorScope();
    const memory = await device.popErrorScope();
    if (validation !== null) throw new Error(`WebGPU rejected a call of ${calls.map((c) => c.kernel.name).join(", ")}: ${validation.message}`);
    if (memory !== null) throw new Error(`WebGPU is out of memory: ${memory.message}`);
    if (staging === null) return;
    await staging.mapAsync(MAP_READ);
    const mapped = new Uint8Array(staging.getMappedRange());
    back.forEach(([array, r], k) => {
      new Uint8Array(r.staged.buffer, r.staged.byteOffset, r.staged.byteLength).set(mapped.subarray(offsets[k], offsets[k] + r.staged.byteLength));
      if (!r.exact) for (let i = 0; i < array.length; i++) (array as { [i: number]: number })[i] = r.staged[i];
    });
    staging.unmap();
  } finally {
    for (const r of residents.values()) r.buffer.destroy();
    for (const b of temporary) b.destroy();
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
  await Promise.all(compiled.kernels.map((k) => device.pipeline(k)));
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
