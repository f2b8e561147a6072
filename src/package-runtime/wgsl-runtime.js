/**
 * Runs numforge's WGSL kernels on a WebGPU device, with the JS target's positional calling
 * convention (typed arrays or array-likes and numbers) but asynchronously. A sequence of calls —
 * a plan — runs in one command buffer: each array is uploaded once (narrow codes as their bytes,
 * which is how the kernels read them: packed little-endian in u32 words, padded to a whole word),
 * stays on the GPU between the steps, and only the written arrays that are asked for are read back.
 *
 * Shipped verbatim in generated kernel packages (beside run-plan.js and wgsl-launch.js, its only
 * imports) and used by numforge's own WGSL runner: plain ES2022. Types: wgsl-runtime.d.ts.
 *
 * A kernel is data plus launch functions, so any launch rule plugs in (see GpuKernel in the .d.ts):
 * its parameters, its scratch buffers and their length for a call, and its passes, each with the
 * uniform fields its shader reads and the dispatches a call needs — from shipped data through
 * kernelFromData (wgsl-launch.js), or from numforge's launch.ts. A pipeline source compiles a
 * pass for a workgroup shape and binds its constant tables: GpuPipelines (for kernels compiled
 * in memory, numforge's WgslDevice wraps it with a view of each compiled pass).
 */
import { runPlan, stageArray, unstageArray } from "./run-plan.js";

export { gridDispatches, gridSize, kernelFromData, launchDispatches, MAX_WORKGROUPS_PER_DIMENSION, scratchLengthOf, tileDispatches } from "./wgsl-launch.js";

/** Buffer usage flags (fixed by the WebGPU spec; no GPUBufferUsage global needed in Node). */
export const USAGE = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080 };
const MAP_MODE_READ = 0x0001;
const COMPUTE_STAGE = 0x4;

/** What a WebGPU program needs where none is found (one sentence, for error messages). */
export const WEBGPU_HINT =
  "run in a browser with WebGPU, or in Node pass the GPU of the `webgpu` npm package (import { create } from \"webgpu\"; create([])); " +
  "on Linux without a GPU, also install Mesa's lavapipe Vulkan driver (Mesa >= 25: mesa-vulkan-drivers and libvulkan1)";

const isDevice = (x) => typeof x?.createBuffer === "function" && typeof x?.queue === "object";

/**
 * A device from a GPUDevice (used as is), a GPUAdapter or a GPU entry point (navigator.gpu, the
 * `webgpu` package's create([])); without an argument, navigator.gpu. A device opened here asks
 * for the adapter's largest buffers and workgroup storage (the defaults are smaller); `owned`
 * says the caller should destroy it. `gpu` must stay referenced while the device lives (Dawn
 * stops its event processing once its instance is garbage-collected).
 */
export async function openGpuDevice(source) {
  const given = source ?? globalThis.navigator?.gpu;
  if (given === undefined || given === null) throw new Error(`WebGPU: no GPU given and no navigator.gpu here; ${WEBGPU_HINT}`);
  if (isDevice(given)) return { device: given, owned: false, gpu: null };
  let adapter = given;
  if (typeof given.requestAdapter === "function") {
    adapter = await given.requestAdapter();
    if (adapter === null || adapter === undefined) throw new Error(`WebGPU: no adapter found; ${WEBGPU_HINT}`);
  }
  if (typeof adapter?.requestDevice !== "function")
    throw new TypeError(`WebGPU: expected a GPUDevice, a GPUAdapter or a GPU (navigator.gpu, or create([]) of the \`webgpu\` npm package), got ${typeof given}`);
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  return { device, owned: true, gpu: given };
}

/** Bytes rounded up to whole u32 words (at least one: WebGPU bindings are never empty). */
export const padded = (bytes) => Math.max(4, Math.ceil(bytes / 4) * 4);

/** A hash of table words (collisions are checked against the words on a cache hit). */
function hashWords(words) {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9;
  for (const w of words) {
    h1 = Math.imul(h1 ^ w, 16777619);
    h2 = Math.imul(h2 ^ (w >>> 7), 2246822507);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}:${words.length}`;
}
const sameWords = (a, b) => a.length === b.length && a.every((w, k) => w === b[k]);

/**
 * A pipeline source (for shipped kernel data, and inside numforge's WgslDevice): pipelines
 * compiled once per WGSL source (keyed by its hash, checked against the source) and workgroup
 * shape, constant tables uploaded once per distinct contents.
 */
export class GpuPipelines {
  /** @param {GPUDevice} device */
  constructor(device) {
    this.device = device;
    this.pipelines = new Map();
    /** Table buffers by a hash of their words: the WGSL indexes tables by offset, so passes of equal source may differ here. */
    this.tableBuffers = new Map();
    this.passTables = new WeakMap();
    this.lostReason = null;
    /** Pipelines compiled so far (cache misses). */
    this.compiled = 0;
    void device.lost?.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** Throws if the device was lost. */
  check() {
    if (this.lostReason !== null) throw new Error(`the WebGPU device was lost (${this.lostReason})`);
  }

  /** The compute pipeline of a pass for a workgroup shape (a grid's; single and tiled shaders fix their own). */
  pipeline(pass, shape = [pass.launch.kind === "grid" ? pass.launch.workgroupSize : 1, 1]) {
    this.check();
    const key = pass.launch.kind === "grid" ? `${pass.hash}:${shape[0]}x${shape[1]}` : pass.hash;
    const cached = this.pipelines.get(key);
    if (cached !== undefined) {
      if (cached.source !== pass.wgsl) throw new Error(`WGSL pipeline cache: hash collision on ${pass.hash}`);
      return cached.pipeline;
    }
    const pipeline = this.createPipeline(pass, shape);
    this.pipelines.set(key, { source: pass.wgsl, pipeline });
    this.compiled++;
    pipeline.catch(() => this.pipelines.delete(key));
    return pipeline;
  }

  /** The storage buffer of a pass's constant tables (none without tables), uploaded once per distinct words. */
  tables(pass) {
    if (pass.tables === null) return [];
    const known = this.passTables.get(pass);
    if (known !== undefined) return known;
    const words = Uint32Array.from(pass.tables);
    const key = hashWords(words);
    let cached = this.tableBuffers.get(key);
    if (cached !== undefined && !sameWords(cached.words, words)) throw new Error(`WGSL table cache: hash collision on ${key}`);
    if (cached === undefined) {
      const buffer = this.device.createBuffer({ size: words.byteLength, usage: USAGE.STORAGE | USAGE.COPY_DST, label: `${pass.name} tables` });
      this.device.queue.writeBuffer(buffer, 0, words);
      cached = { words, buffer };
      this.tableBuffers.set(key, cached);
    }
    const buffers = [cached.buffer];
    this.passTables.set(pass, buffers);
    return buffers;
  }

  async createPipeline(pass, shape) {
    const device = this.device;
    const entries = pass.bindings.map((access, binding) => ({
      binding,
      visibility: COMPUTE_STAGE,
      buffer: { type: access === "read" ? "read-only-storage" : "storage" },
    }));
    if (pass.tables !== null) entries.push({ binding: entries.length, visibility: COMPUTE_STAGE, buffer: { type: "read-only-storage" } });
    entries.push({ binding: entries.length, visibility: COMPUTE_STAGE, buffer: { type: "uniform" } });
    // Error scopes are a per-device stack: push and pop around synchronous calls only.
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: pass.wgsl, label: pass.name });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [device.createBindGroupLayout({ entries })] });
    const scope = device.popErrorScope();
    const info = await module.getCompilationInfo();
    const scopeError = await scope;
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || scopeError !== null) {
      const lines = pass.wgsl.split("\n");
      const where = errors.map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ""}`).join("\n");
      throw new Error(`WGSL of kernel ${pass.name} does not compile:\n${where || scopeError?.message}`);
    }
    const w = pass.launch.workgroup;
    const constants = pass.launch.kind === "grid" ? { [w.x]: shape[0], [w.y]: shape[1] } : undefined;
    try {
      return await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: "main", constants }, label: pass.name });
    } catch (error) {
      throw new Error(`WebGPU rejected the pipeline of kernel ${pass.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Destroys the table buffers and forgets the pipelines (the device stays the caller's). */
  release() {
    for (const t of this.tableBuffers.values()) t.buffer.destroy();
    this.tableBuffers.clear();
    this.passTables = new WeakMap();
    this.pipelines.clear();
  }
}

/**
 * Host arrays on the GPU for one submission: one storage buffer per distinct array. An array
 * that is not a typed array of the parameter's width is staged through one that is.
 */
class Residency {
  constructor(device) {
    this.device = device;
    this.residents = new Map();
    this.temporary = [];
  }

  /** The storage buffer holding `array` (uploaded on first use) for a buffer parameter. */
  buffer(array, param, kernel) {
    let r = this.residents.get(array);
    if (r === undefined) {
      const { staged, exact } = stageArray(param.storage, array);
      const bytes = padded(staged.byteLength);
      const buffer = this.device.createBuffer({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST, label: param.name });
      const words = new Uint8Array(bytes);
      words.set(new Uint8Array(staged.buffer, staged.byteOffset, staged.byteLength));
      this.device.queue.writeBuffer(buffer, 0, words);
      r = { storage: param.storage, staged, exact, buffer, bytes, written: false };
      this.residents.set(array, r);
    } else if (r.storage !== param.storage) throw new Error(`${kernel}: the same array is passed as ${r.storage} and as ${param.storage}`);
    r.written ||= param.access !== "read";
    return r.buffer;
  }

  /** A buffer that lives until release() (scratch, uniforms, staging). */
  temporaryBuffer(size, usage, label) {
    const buffer = this.device.createBuffer({ size, usage, label });
    this.temporary.push(buffer);
    return buffer;
  }

  /** Encodes the copies of the written arrays `readBack` accepts; call the result after submitting. */
  copyBack(encoder, readBack) {
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
      await staging.mapAsync(MAP_MODE_READ);
      const mapped = new Uint8Array(staging.getMappedRange());
      back.forEach(([array, r], k) => {
        new Uint8Array(r.staged.buffer, r.staged.byteOffset, r.staged.byteLength).set(mapped.subarray(offsets[k], offsets[k] + r.staged.byteLength));
        unstageArray(array, r);
      });
      staging.unmap();
    };
  }

  release() {
    for (const r of this.residents.values()) r.buffer.destroy();
    for (const b of this.temporary) b.destroy();
    this.residents.clear();
    this.temporary.length = 0;
  }
}

/** The call's scalar arguments by name, after checking the arity. */
function scalarArgs(kernel, args) {
  const params = kernel.params;
  if (args.length !== params.length) throw new Error(`${kernel.name} expects ${params.length} arguments (${params.map((p) => p.name).join(", ")}), got ${args.length}`);
  const scalars = {};
  params.forEach((p, k) => {
    if (p.kind !== "scalar") return;
    if (typeof args[k] !== "number") throw new Error(`${kernel.name}: ${p.name} must be a number`);
    scalars[p.name] = args[k];
  });
  return scalars;
}

/** The uniform bytes of one dispatch: the pass's scalar fields in order, then the opaque zero word. */
function uniformBytes(pass, values) {
  const fields = pass.uniforms;
  const view = new DataView(new ArrayBuffer(Math.ceil(((fields.length + 1) * 4) / 16) * 16));
  fields.forEach((p, k) => {
    const x = values[p.name];
    if (typeof x !== "number") throw new Error(`${pass.name}: no value for ${p.name}`);
    if (p.type === "f32") view.setFloat32(4 * k, x, true);
    else if (p.type === "bool") view.setUint32(4 * k, x ? 1 : 0, true);
    else if (p.type === "i32") view.setInt32(4 * k, x | 0, true);
    else view.setUint32(4 * k, x >>> 0, true);
  });
  return new Uint8Array(view.buffer);
}

/** Binds one call's arrays (and scratch buffers), then records every dispatch of every pass. */
function encodeCall(source, prepared, residency, computePass) {
  const { kernel, args, scalars, dispatches, pipelines } = prepared;
  const device = source.device;
  const entries = [];
  const bound = new Map();
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
  const scratchBytes = padded(4 * kernel.scratchLength(scalars));
  for (const s of kernel.scratch) entries.push({ binding: entries.length, resource: { buffer: residency.temporaryBuffer(scratchBytes, USAGE.STORAGE, s.name) } });
  kernel.passes.forEach((pass, p) => {
    dispatches[p].forEach((d, k) => {
      const uniform = uniformBytes(pass, { ...scalars, ...d.scalars });
      const uniforms = residency.temporaryBuffer(uniform.byteLength, USAGE.UNIFORM | USAGE.COPY_DST);
      device.queue.writeBuffer(uniforms, 0, uniform);
      const tables = source.tables(pass).map((buffer, t) => ({ binding: entries.length + t, resource: { buffer } }));
      const all = [...entries, ...tables, { binding: entries.length + tables.length, resource: { buffer: uniforms } }];
      const pipeline = pipelines[p][k];
      computePass.setPipeline(pipeline);
      computePass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: all }));
      computePass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
    });
  });
}

/** A call with its scalars, its dispatches per pass and their pipelines (compiled or cached). */
async function prepare(source, call) {
  const scalars = scalarArgs(call.kernel, call.args);
  const dispatches = call.kernel.passes.map((pass) => pass.dispatches(scalars));
  const pipelines = await Promise.all(call.kernel.passes.map((pass, p) => Promise.all(dispatches[p].map((d) => source.pipeline(pass, d.workgroupSize)))));
  return { ...call, scalars, dispatches, pipelines };
}

/**
 * Runs the calls (`{ kernel, args }`) in order in one command buffer. Arrays are uploaded once;
 * those written by a call and accepted by `readBack` (default: all) are copied back into the
 * arrays passed when the returned promise resolves. An array passed to a writable parameter must
 * not be passed to another parameter of the same call (WebGPU forbids aliasing a writable binding).
 */
export async function runGpuCalls(source, calls, readBack = () => true) {
  source.check();
  const prepared = await Promise.all(calls.map((call) => prepare(source, call)));
  const device = source.device;
  const residency = new Residency(device);
  try {
    // Error scopes are a per-device stack: push, encode, submit and pop without awaiting in between.
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    let read;
    let validation;
    let memory;
    try {
      const encoder = device.createCommandEncoder();
      const computePass = encoder.beginComputePass();
      for (const call of prepared) encodeCall(source, call, residency, computePass);
      computePass.end();
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

/**
 * runPlan (run-plan.js) on the GPU: the same bindings, checks and results, with every step
 * recorded first and then run in one command buffer; only outputs, metadata and state are read back.
 * `kernels`: the runnable kernels by name.
 */
export async function runPlanOnGpu(source, kernels, plan, bindings, call = {}) {
  const recorded = [];
  const recorders = {};
  for (const [name, kernel] of Object.entries(kernels)) recorders[name] = (...args) => void recorded.push({ kernel, args });
  const result = runPlan(plan, recorders, bindings, call);
  const kept = new Set([...Object.values(result.outputs), ...Object.values(result.meta), ...Object.values(result.state)]);
  await runGpuCalls(source, recorded, (array) => kept.has(array));
  return result;
}

/** Compiles every pass's pipeline for its default workgroup shape, so shader errors surface now. */
export async function warmPipelines(source, kernels) {
  await Promise.all(Object.values(kernels).flatMap((k) => k.passes.map((pass) => source.pipeline(pass))));
}
