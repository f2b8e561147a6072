/**
 * A WebGPU device for the WGSL target: `navigator.gpu` in a browser, the `webgpu` npm package
 * (Dawn) in Node. Without an adapter it fails with what to install: on a machine without a GPU,
 * Mesa ≥ 25 lavapipe (scripts/setup-webgpu.sh). The device asks for the adapter's largest
 * buffers and workgroup storage (the defaults are smaller), and compiled pipelines are cached on
 * it by a hash of their WGSL.
 */
import type { CompiledWgslKernel } from "./compile.ts";

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

/** An open device with its pipeline cache. Call close() when done (Dawn keeps Node alive while a device lives). */
export class WgslDevice {
  private readonly pipelines = new Map<string, CachedPipeline>();
  private lostReason: string | null = null;
  /** Pipelines compiled so far (cache misses), for tests and progress reports. */
  compiled = 0;

  constructor(
    readonly device: GPUDevice,
    /** One line naming the adapter (vendor, architecture, description). */
    readonly adapter: string,
  ) {
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** Throws if the device was lost. */
  check(): void {
    if (this.lostReason !== null) throw new Error(`the WebGPU device was lost (${this.lostReason})`);
  }

  /** The compute pipeline of a kernel, compiled once per distinct WGSL source. */
  pipeline(kernel: CompiledWgslKernel): Promise<GPUComputePipeline> {
    this.check();
    const cached = this.pipelines.get(kernel.hash);
    if (cached !== undefined) {
      if (cached.source !== kernel.wgsl) throw new Error(`WGSL pipeline cache: hash collision on ${kernel.hash}`);
      return cached.pipeline;
    }
    const pipeline = this.createPipeline(kernel);
    this.pipelines.set(kernel.hash, { source: kernel.wgsl, pipeline });
    this.compiled++;
    pipeline.catch(() => this.pipelines.delete(kernel.hash));
    return pipeline;
  }

  private async createPipeline(kernel: CompiledWgslKernel): Promise<GPUComputePipeline> {
    const device = this.device;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: kernel.wgsl, label: kernel.name });
    const info = await module.getCompilationInfo();
    const scopeError = await device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || scopeError !== null) {
      const lines = kernel.wgsl.split("\n");
      const where = errors.map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ""}`).join("\n");
      throw new Error(`WGSL of kernel ${kernel.name} does not compile:\n${where || scopeError?.message}`);
    }
    const entries: GPUBindGroupLayoutEntry[] = [];
    let binding = 0;
    for (const p of kernel.kernel.params) {
      if (p.kind === "buffer") entries.push({ binding: binding++, visibility: 4 /* COMPUTE */, buffer: { type: p.access === "read" ? "read-only-storage" : "storage" } });
    }
    if (uniformFields(kernel).length > 0) entries.push({ binding, visibility: 4, buffer: { type: "uniform" } });
    device.pushErrorScope("validation");
    const layout = device.createPipelineLayout({ bindGroupLayouts: [device.createBindGroupLayout({ entries })] });
    const pipeline = await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: "main" }, label: kernel.name });
    const error = await device.popErrorScope();
    if (error !== null) throw new Error(`WebGPU rejected the pipeline of kernel ${kernel.name}: ${error.message}`);
    return pipeline;
  }

  /** Releases the device (its buffers and pipelines); the object is unusable afterwards. */
  close(): void {
    this.pipelines.clear();
    this.device.destroy();
  }
}

/** The scalar parameters a kernel's uniform struct holds, in order (invocation ids are builtins). */
export function uniformFields(kernel: CompiledWgslKernel): readonly (CompiledWgslKernel["kernel"]["params"][number] & { kind: "scalar" })[] {
  const builtins = kernel.launch.kind === "grid" ? new Set([kernel.launch.scalars.invocationX, kernel.launch.scalars.invocationY]) : new Set<string>();
  return kernel.kernel.params.filter((p): p is typeof p & { kind: "scalar" } => p.kind === "scalar" && !builtins.has(p.name));
}

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
  return new WgslDevice(device, `${info.vendor} ${info.architecture} ${info.description}`.trim());
}
