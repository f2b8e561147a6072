/**
 * The body of the webgpu backend's GPU thread (see webgpu.ts): it opens a WebGPU device, compiles
 * the f32×f32 WGSL GEMM once, and then runs one GEMM per request. WebGPU only reads results back
 * asynchronously, which is why this runs in its own thread: the training thread posts a request
 * and blocks on a shared flag, this thread awaits the read-back, posts the reply on the reply
 * port and raises the flag. Every request gets exactly one reply, failures included, so the
 * waiting thread is never left blocked by an error here.
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
  const { instantiateWgslGemm } = await import("../../targets/wgsl/gemm-run.ts");
  const device = await openWgslDevice();
  const compiled = compileWgslGemm({ a: "f32", b: "f32", name: "gemm_ff" });
  const gemm = await instantiateWgslGemm(compiled, device);
  const names = compiled.params.map((p) => p.name);

  parentPort!.on("message", (request: GpuRequest) => {
    const c = request.c ?? new Float32Array(request.m * request.n);
    const values: Record<string, Float32Array | number> = {
      a: request.a,
      b: request.b,
      c,
      m: request.m,
      n: request.n,
      k: request.k,
      transA: request.transA ? 1 : 0,
      transB: request.transB ? 1 : 0,
      alpha: request.alpha,
      beta: request.beta,
    };
    let args: Array<Float32Array | number>;
    try {
      args = names.map((name) => {
        const v = values[name];
        if (v === undefined) throw new Error(`the WGSL GEMM has a parameter ${name} this backend does not fill`);
        return v;
      });
    } catch (error) {
      reply({ kind: "failed", message: errorText(error) });
      return;
    }
    gemm(...args).then(
      () => reply({ kind: "done", c }, [c.buffer as ArrayBuffer]),
      (error: unknown) => reply({ kind: "failed", message: errorText(error) }),
    );
  });
  reply({ kind: "ready", adapter: device.adapter });
} catch (error) {
  reply({ kind: "failed", message: errorText(error) });
}
