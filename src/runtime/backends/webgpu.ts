/**
 * The `webgpu` backend: float32 GEMMs run numforge's tiled WGSL GEMM (src/targets/wgsl/gemm.ts)
 * on a WebGPU device — a real GPU where there is one, Mesa's lavapipe on a machine without.
 *
 * The runtime is synchronous (an op calls backend.gemm and reads C at once) and WebGPU reads
 * results back only asynchronously, so the device lives in a worker thread (gpu-thread.ts): gemm
 * posts the operands, blocks on a shared flag with Atomics.wait, and takes the reply off its port
 * with receiveMessageOnPort. Every round trip is a submission and a read-back (about 3 ms for a
 * tiny GEMM on lavapipe here), so this backend pays off on large GEMMs; a batch of GEMMs of one
 * shape, as attention runs, is one round trip. The kernels recipes quantize with stay the wasm
 * ones (elementwise work is cheap next to a round trip). Float64 GEMMs stay on the reference backend.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { checkBatchedGemm, gemmBatched, type BatchedGemmParams } from "../backend.ts";
import { checkDeclaredDepth } from "./accumulators.ts";
import type { FloatArray } from "../tensor.ts";
import type { GpuReply, GpuRequest, GpuThreadData } from "./gpu-protocol.ts";
import type { KernelBackend } from "./js.ts";
import type { KernelSource } from "./kernel-source.ts";
import { createReferenceBackend } from "./reference.ts";

/** A kernel backend holding a GPU thread: close() stops it. */
export interface GpuBackend extends KernelBackend {
  /** One line naming the WebGPU adapter. */
  readonly adapter: string;
  close(): Promise<void>;
}

/** How long one reply may take before the backend gives up (lavapipe runs a 2048³ GEMM in about 30 s). */
const REPLY_TIMEOUT_MS = 10 * 60 * 1000;
/** Slices of the blocking wait, between which the backend checks that the thread is still alive. */
const WAIT_SLICE_MS = 1000;

/** Creates the webgpu backend; `kernels` (wasm or js) are the ones recipes quantize with. */
export async function createWebGpuBackend(kernels: KernelSource): Promise<GpuBackend> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1: replies, port2: threadReplies } = new MessageChannel();
  const data: GpuThreadData = { module: new URL("./gpu-thread.ts", import.meta.url).href, flag, replies: threadReplies };
  const worker = new Worker(new URL("../worker-entry.mjs", import.meta.url), { workerData: data, transferList: [threadReplies] });
  let stopped: string | null = null;
  worker.on("error", (error) => (stopped = error.message));
  worker.on("exit", (code) => (stopped ??= `it exited with code ${code}`));

  const ready = await firstReply(worker, replies);
  if (ready.kind !== "ready") {
    await worker.terminate();
    throw new Error(`webgpu backend: ${ready.kind === "failed" ? ready.message : "unexpected first reply"}`);
  }
  // The thread must not keep the process alive, nor the reply port a listener.
  worker.unref();
  replies.unref();
  const reference = createReferenceBackend();

  /** Posts one request and blocks until its reply. */
  function call(request: GpuRequest): GpuReply {
    if (stopped !== null) throw new Error(`webgpu backend: the GPU thread has stopped (${stopped})`);
    Atomics.store(flag, 0, 0);
    worker.postMessage(request);
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (Atomics.wait(flag, 0, 0, WAIT_SLICE_MS) === "timed-out") {
      // Events do not run while blocked; a thread that died reports threadId −1.
      if (worker.threadId === -1) throw new Error("webgpu backend: the GPU thread stopped during a GEMM");
      if (Date.now() > deadline) throw new Error(`webgpu backend: no reply to a ${request.m}×${request.n}×${request.k} GEMM in ${REPLY_TIMEOUT_MS / 60000} min`);
    }
    const received = receiveMessageOnPort(replies);
    if (received === undefined) throw new Error("webgpu backend: the GPU thread raised its flag without a reply");
    return received.message as GpuReply;
  }

  /** `batch` GEMMs in one round trip (a plain gemm is a batch of one). */
  function gemmBatch<T extends FloatArray>(p: BatchedGemmParams<T>): void {
    if (p.c instanceof Float64Array) {
      gemmBatched(reference, p);
      return;
    }
    checkBatchedGemm(p);
    // A declared accumulator runs the GPU thread's WGSL GEMM for it (the same bits on every target: backends/accumulators.ts).
    if (p.accumulator !== undefined) checkDeclaredDepth(p.k);
    const { m, n, k, batch } = p;
    if (batch === 0) return;
    const cView = (p.c as Float32Array).subarray(0, batch * m * n);
    const reply = call({
      batch,
      a: (p.a as Float32Array).subarray(0, batch * m * k),
      b: (p.b as Float32Array).subarray(0, batch * k * n),
      c: p.beta === 0 ? null : cView,
      m,
      n,
      k,
      transA: p.transA,
      transB: p.transB,
      alpha: p.alpha,
      beta: p.beta,
      ...(p.accumulator !== undefined ? { accumulator: p.accumulator } : {}),
    });
    if (reply.kind !== "done") throw new Error(`webgpu backend: ${reply.kind === "failed" ? reply.message : "unexpected reply"}`);
    cView.set(reply.c);
  }

  return {
    name: "webgpu",
    adapter: ready.adapter,
    kernels,
    gemm: (p) => gemmBatch({ ...p, batch: 1 }),
    gemmBatch,
    async close() {
      stopped = "the backend was closed";
      replies.close();
      await worker.terminate();
    },
  };
}

/** The thread's first reply, or its failure to start (an error or exit before replying). */
function firstReply(worker: Worker, replies: MessagePort): Promise<GpuReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: GpuReply) => finish(() => resolve(message));
    const onError = (error: Error) => finish(() => reject(new Error(`webgpu backend: the GPU thread failed to start: ${error.message}`)));
    const onExit = (code: number) => finish(() => reject(new Error(`webgpu backend: the GPU thread exited (code ${code}) before it was ready`)));
    const finish = (settle: () => void) => {
      replies.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      settle();
    };
    replies.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}
