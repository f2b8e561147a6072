/**
 * The body of the webgpu backend's GPU thread (see webgpu.ts): it opens a WebGPU device, compiles
 * the f32×f32 WGSL GEMM once (and each declared accumulator's GEMM on first use), and then runs one request at a time — a batch of GEMMs of one
 * shape, all in one command buffer. WebGPU reads results back only asynchronously, which is why
 * this runs in its own thread: the training thread posts a request and blocks on a shared flag,
 * this thread awaits the read-back, posts the reply on the reply port and raises the flag. Every
 * request gets exactly one reply, failures included, so the waiting thread is never left blocked
 * by an error here.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { GpuReply, GpuRequest, GpuThreadData } from "./gpu-protocol.ts";

const { flag, replies } = workerData as GpuThreadData;

function reply(message: GpuReply, transfer: Transferable[] = []): void {
  (replies as MessagePort).postMessage(message, transfer as never);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

try {
  // Imported here rather than at the top so that a failure to load them is a reply, not a silent exit.
  const { openWgslDevice } = await import("../../targets/wgsl/device.ts");
  const { compileWgslGemm } = await import("../../targets/wgsl/gemm.ts");
  const { instantiateWgslGemm, wgslGemmCall } = await import("../../targets/wgsl/gemm-run.ts");
  const { runWgslCalls } = await import("../../targets/wgsl/runner.ts");
  const device = await openWgslDevice();
  const compiled = compileWgslGemm({ a: "f32", b: "f32", name: "gemm_ff" });
  await instantiateWgslGemm(compiled, device); // compiles the pipeline now, so a shader error is the first reply
  // A request with a declared accumulator runs that accumulator's GEMM, compiled on first use.
  const declared = new Map<string, typeof compiled>();
  const kernelFor = (request: GpuRequest) => {
    if (request.accumulator === undefined) return compiled;
    const key = JSON.stringify(request.accumulator);
    let hit = declared.get(key);
    if (hit === undefined) {
      hit = compileWgslGemm({ a: "f32", b: "f32", name: "gemm_declared", accumulator: request.accumulator });
      declared.set(key, hit);
    }
    return hit;
  };

  /** The kernel's positional arguments for block g of a request. */
  const argumentsOf = (request: GpuRequest, names: readonly string[], c: Float32Array, g: number) => {
    const { m, n, k } = request;
    const values: Record<string, Float32Array | number> = {
      a: request.a.subarray(g * m * k, (g + 1) * m * k),
      b: request.b.subarray(g * k * n, (g + 1) * k * n),
      c: c.subarray(g * m * n, (g + 1) * m * n),
      m,
      n,
      k,
      transA: request.transA ? 1 : 0,
      transB: request.transB ? 1 : 0,
      alpha: request.alpha,
      beta: request.beta,
    };
    return names.map((name) => {
      const v = values[name];
      if (v === undefined) throw new Error(`the WGSL GEMM has a parameter ${name} this backend does not fill`);
      return v;
    });
  };

  parentPort!.on("message", (request: GpuRequest) => {
    const c = request.c ?? new Float32Array(request.batch * request.m * request.n);
    let run: Promise<void>;
    try {
      const kernel = kernelFor(request);
      const names = kernel.params.map((p) => p.name);
      run = runWgslCalls(device, Array.from({ length: request.batch }, (_, g) => wgslGemmCall(kernel, argumentsOf(request, names, c, g))));
    } catch (error) {
      reply({ kind: "failed", message: errorText(error) });
      return;
    }
    run.then(
      () => reply({ kind: "done", c }, [c.buffer as ArrayBuffer]),
      (error: unknown) => reply({ kind: "failed", message: errorText(error) }),
    );
  });
  reply({ kind: "ready", adapter: device.adapter });
} catch (error) {
  reply({ kind: "failed", message: errorText(error) });
}
