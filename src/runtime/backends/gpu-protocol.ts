/** Messages between the webgpu backend (webgpu.ts) and its GPU thread (gpu-thread.ts). */
import type { MessagePort } from "node:worker_threads";
import type { BatchedGemmParams } from "../backend.ts";

/** What the GPU thread is started with. */
export interface GpuThreadData {
  /** The module the worker bootstrap imports (gpu-thread.ts). */
  readonly module: string;
  /** One Int32 the thread sets to 1 (and notifies) after posting each reply. */
  readonly flag: Int32Array;
  /** The port replies are posted on; the backend reads it synchronously (receiveMessageOnPort). */
  readonly replies: MessagePort;
}

/** `batch` float32 GEMMs of one shape over consecutive blocks (backend.ts BatchedGemmParams): the operands trimmed to the blocks, C only when β ≠ 0. */
export type GpuRequest = Readonly<Omit<BatchedGemmParams<Float32Array>, "c"> & { c: Float32Array | null }>;

/** The thread's first reply (ready or failed), then one per request (done or failed). */
export type GpuReply =
  | { readonly kind: "ready"; readonly adapter: string }
  | { readonly kind: "done"; readonly c: Float32Array }
  | { readonly kind: "failed"; readonly message: string };
