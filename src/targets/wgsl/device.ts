/**
 * A WebGPU device for the WGSL target: `navigator.gpu` in a browser, the `webgpu` npm package
 * (Dawn) in Node. Opening the device, compiling and caching pipelines and binding constant tables
 * are the shipped runtime's (src/package-runtime/wgsl-runtime.js: openGpuDevice, GpuPipelines),
 * the same code kernel packages run; this file adds what numforge needs around them: the Node
 * entry point, the adapter's name, and a view of its compiled passes as the runtime reads them.
 */
import { GpuPipelines, openGpuDevice, WEBGPU_HINT, type GpuPass, type PipelinePass, type PipelineSource } from "../../package-runtime/wgsl-runtime.js";
import { pipelinePass, type CompiledWgslPass } from "./compile.ts";

/** How this repository installs what WEBGPU_HINT names, on a machine without a GPU (Debian bookworm's own Mesa 22 lavapipe is too old for Dawn). */
const SETUP_SCRIPT = "in this repository, run (as root) `bash scripts/setup-webgpu.sh`, which installs Mesa >= 25 lavapipe from bookworm-backports";

/** An open device with its pipeline cache. Call close() when done (Dawn keeps Node alive while a device lives). */
export class WgslDevice implements PipelineSource<CompiledWgslPass & GpuPass> {
  private readonly pipelines: GpuPipelines;
  /** Each compiled pass's view, made once (its table words are laid out on the first use). */
  private readonly views = new WeakMap<CompiledWgslPass, PipelinePass>();

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
    this.pipelines = new GpuPipelines(device);
  }

  /** Pipelines compiled so far (cache misses), for tests and progress reports. */
  get compiled(): number {
    return this.pipelines.compiled;
  }

  /** Throws if the device was lost. */
  check(): void {
    this.pipelines.check();
  }

  /** The compute pipeline of a pass for a workgroup shape (grids; x·y = 64), compiled once per distinct WGSL source and shape. */
  pipeline(pass: CompiledWgslPass, shape?: readonly [number, number]): Promise<GPUComputePipeline> {
    return this.pipelines.pipeline(this.view(pass), shape);
  }

  /** The storage buffer of a pass's constant tables (none without tables), uploaded once per distinct contents. */
  tables(pass: CompiledWgslPass): readonly GPUBuffer[] {
    return this.pipelines.tables(this.view(pass));
  }

  /** Releases the device (its buffers and pipelines); the object is unusable afterwards. */
  close(): void {
    this.pipelines.release();
    this.device.destroy();
  }

  private view(pass: CompiledWgslPass): PipelinePass {
    let view = this.views.get(pass);
    if (view === undefined) {
      view = pipelinePass(pass);
      this.views.set(pass, view);
    }
    return view;
  }
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

/** Opens a device on the first adapter, with the adapter's largest storage limits (openGpuDevice's). */
export async function openWgslDevice(): Promise<WgslDevice> {
  const gpu = await gpuEntry();
  // The adapter is requested here, not by openGpuDevice, for its name and for a message that points at this repository's setup script.
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error(`WGSL target: no WebGPU adapter found; ${WEBGPU_HINT}; ${SETUP_SCRIPT}`);
  const { device } = await openGpuDevice(adapter);
  const info = adapter.info;
  return new WgslDevice(device, `${info.vendor} ${info.architecture} ${info.description}`.trim(), gpu);
}
