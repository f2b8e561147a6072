/**
 * A WebGPU device for the WGSL target: `navigator.gpu` in a browser, the `webgpu` npm package
 * (Dawn) in Node. Without an adapter it fails with what to install: on a machine without a GPU,
 * Mesa ≥ 25 lavapipe (scripts/setup-webgpu.sh). The device asks for the adapter's largest
 * buffers and workgroup storage (the defaults are smaller), and compiled pipelines are cached on
 * it by a hash of their WGSL.
 */
import type { CompiledWgslPass } from "./compile.ts";
import { WORKGROUP_SIZE } from "./kernel.ts";
import { tableLayout, WORKGROUP_X, WORKGROUP_Y } from "./render.ts";

/** What to do when no adapter exists (Linux without a GPU: a software Vulkan driver). */
export const INSTALL_HINT =
  "install a Vulkan driver Dawn can use: on a machine without a GPU, Mesa >= 25 lavapipe — run (as root) `bash scripts/setup-webgpu.sh`, " +
  "which installs mesa-vulkan-drivers and libvulkan1 from bookworm-backports (Debian bookworm's own Mesa 22 lavapipe is too old for Dawn)";

/** Buffer usage and map mode flags (fixed by the WebGPU spec; no globals needed in Node). */
export const USAGE = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080 } as const;
export const MAP_READ = 0x0001;

interface CachedPipeline {
  readonly source: string;
  readonly pipeline: Promise<GPUComputePipeline>;
}

interface CachedTables {
  readonly words: Uint32Array;
  readonly buffer: GPUBuffer;
}

/** An open device with its pipeline cache. Call close() when done (Dawn keeps Node alive while a device lives). */
export class WgslDevice {
  private readonly pipelines = new Map<string, CachedPipeline>();
  /** Table buffers by a hash of their words: the WGSL indexes tables by offset, so kernels of equal source may differ here. */
  private readonly tableBuffers = new Map<string, CachedTables>();
  private readonly passTables = new WeakMap<CompiledWgslPass, readonly GPUBuffer[]>();
  private lostReason: string | null = null;
  /** Pipelines compiled so far (cache misses), for tests and progress reports. */
  compiled = 0;

  constructor(
    readonly device: GPUDevice,
    /** One line naming the adapter (vendor, architecture, description). */
    readonly adapter: string,
    /**
     * The GPU entry point the device came from. Held for the device's lifetime: when Dawn's
     * instance is garbage-collected its event processing stops (pending promises never settle,
     * or the process aborts).
     */
    readonly gpu: GPU,
  ) {
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** Throws if the device was lost. */
  check(): void {
    if (this.lostReason !== null) throw new Error(`the WebGPU device was lost (${this.lostReason})`);
  }

  /**
   * The compute pipeline of a kernel's pass for a workgroup shape (grids; x·y = 64), compiled
   * once per distinct WGSL source and shape.
   */
  pipeline(kernel: CompiledWgslPass, shape: readonly [number, number] = [WORKGROUP_SIZE, 1]): Promise<GPUComputePipeline> {
    this.check();
    const key = kernel.launch.kind === "grid" ? `${kernel.hash}:${shape[0]}x${shape[1]}` : kernel.hash;
    const cached = this.pipelines.get(key);
    if (cached !== undefined) {
      if (cached.source !== kernel.wgsl) throw new Error(`WGSL pipeline cache: hash collision on ${kernel.hash}`);
      return cached.pipeline;
    }
    const pipeline = this.createPipeline(kernel, shape);
    this.pipelines.set(key, { source: kernel.wgsl, pipeline });
    this.compiled++;
    pipeline.catch(() => this.pipelines.delete(key));
    return pipeline;
  }

  /** The storage buffer of a pass's constant tables (none without tables), uploaded once per distinct contents. */
  tables(kernel: CompiledWgslPass): readonly GPUBuffer[] {
    if (kernel.kernel.tables.length === 0) return [];
    const known = this.passTables.get(kernel);
    if (known !== undefined) return known;
    const { words } = tableLayout(kernel.kernel);
    const key = hashWords(words);
    let cached = this.tableBuffers.get(key);
    if (cached !== undefined && !sameWords(cached.words, words)) throw new Error(`WGSL table cache: hash collision on ${key}`);
    if (cached === undefined) {
      const buffer = this.device.createBuffer({ size: words.byteLength, usage: USAGE.STORAGE | USAGE.COPY_DST, label: `${kernel.name} tables` });
      this.device.queue.writeBuffer(buffer, 0, words);
      cached = { words, buffer };
      this.tableBuffers.set(key, cached);
    }
    this.passTables.set(kernel, [cached.buffer]);
    return [cached.buffer];
  }

  private async createPipeline(kernel: CompiledWgslPass, shape: readonly [number, number]): Promise<GPUComputePipeline> {
    const device = this.device;
    const entries: GPUBindGroupLayoutEntry[] = [];
    const COMPUTE = 4;
    for (const p of kernel.kernel.params)
      if (p.kind === "buffer") entries.push({ binding: entries.length, visibility: COMPUTE, buffer: { type: p.access === "read" ? "read-only-storage" : "storage" } });
    if (kernel.kernel.tables.length > 0) entries.push({ binding: entries.length, visibility: COMPUTE, buffer: { type: "read-only-storage" } });
    entries.push({ binding: entries.length, visibility: COMPUTE, buffer: { type: "uniform" } });
    // Error scopes are a per-device stack: push and pop around synchronous calls only.
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: kernel.wgsl, label: kernel.name });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [device.createBindGroupLayout({ entries })] });
    const scope = device.popErrorScope();
    const info = await module.getCompilationInfo();
    const scopeError = await scope;
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || scopeError !== null) {
      const lines = kernel.wgsl.split("\n");
      const where = errors.map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ""}`).join("\n");
      throw new Error(`WGSL of kernel ${kernel.name} does not compile:\n${where || scopeError?.message}`);
    }
    const constants = kernel.launch.kind === "grid" ? { [WORKGROUP_X]: shape[0], [WORKGROUP_Y]: shape[1] } : undefined;
    try {
      return await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: "main", constants }, label: kernel.name });
    } catch (error) {
      throw new Error(`WebGPU rejected the pipeline of kernel ${kernel.name}: ${(error as Error).message}`);
    }
  }

  /** Releases the device (its buffers and pipelines); the object is unusable afterwards. */
  close(): void {
    for (const t of this.tableBuffers.values()) t.buffer.destroy();
    this.tableBuffers.clear();
    this.pipelines.clear();
    this.device.destroy();
  }
}

/** A hash of table words (collisions are checked against the words on a cache hit). */
function hashWords(words: Uint32Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9;
  for (const w of words) {
    h1 = Math.imul(h1 ^ w, 16777619);
    h2 = Math.imul(h2 ^ (w >>> 7), 2246822507);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}:${words.length}`;
}
const sameWords = (a: Uint32Array, b: Uint32Array) => a.length === b.length && a.every((w, k) => w === b[k]);

type NodeWebGpu = { create(options: string[]): GPU };

/** The GPU entry point: navigator.gpu, else the `webgpu` package's (Dawn). */
async function gpuEntry(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu !== undefined) return nav.gpu;
  let webgpu: NodeWebGpu;
  try {
    webgpu = (await import("webgpu")) as unknown as NodeWebGpu;
  } catch (error) {
    throw new Error(`WGSL target: cannot load the 'webgpu' npm package (Dawn for Node): ${(error as Error).message.split("\n")[0]}; install it with npm ci (it is a dev dependency)`);
  }
  return webgpu.create([]);
}

/** Opens a device on the first adapter, with the adapter's largest storage limits. */
export async function openWgslDevice(): Promise<WgslDevice> {
  const gpu = await gpuEntry();
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error(`WGSL target: no WebGPU adapter found; ${INSTALL_HINT}`);
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  const info = adapter.info;
  return new WgslDevice(device, `${info.vendor} ${info.architecture} ${info.description}`.trim(), gpu);
}
