// Types of the WebGPU entry of a numforge kernel package (the same for every format).
import type { CallOptions, CodeArray, GemmParams, Meta, State } from "../index.js";

export { format } from "../index.js";

/**
 * Where the kernels run: a GPUDevice (used as is), a GPUAdapter, or a GPU entry point — navigator.gpu
 * in a browser, `create([])` of the `webgpu` npm package in Node. Typed structurally so this file
 * needs no WebGPU type package.
 */
export type GpuSource =
  | { readonly queue: unknown; createBuffer(descriptor: never): unknown }
  | { requestDevice(descriptor?: never): Promise<unknown> }
  | { requestAdapter(options?: never): Promise<unknown> };

/** The package's kernels on a WebGPU device: the main entry's API, asynchronous. */
export interface GpuKernels {
  readonly format: typeof import("../index.js").format;
  readonly target: "wgsl";
  /** The GPUDevice the kernels run on. */
  readonly device: unknown;
  encode(x: Float32Array, out?: CodeArray, options?: CallOptions): Promise<{ codes: CodeArray; meta: Meta; state: State }>;
  decode(codes: CodeArray, meta?: Meta, out?: Float32Array): Promise<Float32Array>;
  fakeQuantize(x: Float32Array, out?: Float32Array, state?: State, options?: Omit<CallOptions, "state">): Promise<{ values: Float32Array; meta: Meta; state: State }>;
  /** C = α·op(A)·op(B) + β·C (row-major); resolves to c. Present when the package has the WGSL GEMM. */
  readonly gemm?: (params: GemmParams) => Promise<Float32Array>;
  /** Releases what the kernels hold on the device, and the device when createGpuKernels opened it. */
  destroy(): void;
}

/**
 * Compiles the package's WGSL pipelines on a device (default: navigator.gpu's). Rejects, naming
 * what to install, when no WebGPU or no adapter is found.
 */
export declare function createGpuKernels(source?: GpuSource): Promise<GpuKernels>;
