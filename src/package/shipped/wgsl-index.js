// The WebGPU entry of a numforge kernel package (generated packages ship this file unchanged):
// the same encode / decode / fakeQuantize (and gemm, when the package has the WGSL GEMM) as the
// package's main entry, with the same checks, results and metadata, but asynchronous and on a
// device you provide.
//
//   import { createGpuKernels } from "numforge-kernels-e4m3/wgsl";
//   // In a browser: navigator.gpu (the default), a GPUAdapter or a GPUDevice.
//   // In Node: the `webgpu` npm package — import { create } from "webgpu"; createGpuKernels(create([]));
//   // on Linux without a GPU, with Mesa's lavapipe Vulkan driver (Mesa >= 25) installed.
//   const gpu = await createGpuKernels(navigator.gpu);
//   const { codes, meta } = await gpu.encode(new Float32Array([1.5, -3, 1e-3]));
//   const values = await gpu.decode(codes, meta);
//   gpu.destroy(); // releases the tables, and the device when createGpuKernels opened it
//
// Each call is one command buffer: the tensor is uploaded once, every step of the operation runs
// on the GPU, and only the results are read back. Kernels: ./kernels.js (WGSL and launch rules as
// data), ./launch.js (their launch bounds as code).
import { format } from "../format.js";
import { decodeCall, encodeCall, fakeQuantizeCall, gemmCall } from "../calls.js";
import { GpuPipelines, kernelFromData, openGpuDevice, runGpuCalls, runPlanOnGpu, warmPipelines } from "../wgsl-runtime.js";
import { gemmVariants, kernels as shipped } from "./kernels.js";
import bounds from "./launch.js";

export { format };

/**
 * The package's kernels on a WebGPU device. `source`: a GPUDevice (used as is, never destroyed
 * here), a GPUAdapter or a GPU entry point (a device is opened with the adapter's largest buffer
 * limits); default navigator.gpu. Every pipeline is compiled before this resolves.
 */
export async function createGpuKernels(source) {
  const opened = await openGpuDevice(source);
  const device = opened.device;
  // Dawn stops processing events once its GPU object is garbage-collected: hold it as long as the kernels.
  let held = opened.gpu;
  const pipelines = new GpuPipelines(device);
  const kernels = Object.fromEntries(shipped.map((k) => [k.name, kernelFromData(k, bounds)]));
  let live = true;
  const destroy = () => {
    if (!live) return;
    live = false;
    pipelines.release();
    if (opened.owned) device.destroy();
    held = null;
  };
  try {
    await warmPipelines(pipelines, kernels);
  } catch (error) {
    destroy();
    throw error;
  }
  const alive = () => {
    if (!live) throw new Error(`the GPU kernels of ${format.name} were destroyed`);
  };
  const run = async (op) => {
    alive();
    if (op.residents.length > 0) throw new TypeError(`${op.name}: resident arrays live in the wasm or JS kernels' memory; pass Float32Arrays or code arrays to the GPU kernels`);
    return op.finish(await runPlanOnGpu(pipelines, kernels, op.plan, op.bindings, op.call));
  };
  const decode = async (codes, meta, out) => run(decodeCall(codes, meta, out));
  const api = {
    format,
    target: "wgsl",
    device,
    /** Encodes a float32 tensor: `{ codes, meta, state }`. */
    encode: async (x, out, options) => run(encodeCall(x, out, options)),
    /** Decodes codes with the meta encode returned: a Float32Array. */
    decode,
    /** The values x takes when stored in the format: `{ values, meta, state }`. */
    fakeQuantize: async (x, out, state, options) => run(fakeQuantizeCall(x, out, state, options)),
    /** Releases what these kernels hold on the device (and the device, when opened here). */
    destroy,
  };
  if (Object.keys(gemmVariants).length > 0) {
    /** C = α·op(A)·op(B) + β·C as the main entry's gemm; scaled code operands are decoded on the GPU first. */
    api.gemm = async (params) => {
      alive();
      const g = gemmCall(params, gemmVariants);
      const a = g.decodeA ? await decode(g.a, g.metaA) : g.a;
      const b = g.decodeB ? await decode(g.b, g.metaB) : g.b;
      const kernel = kernels[g.variant.kernel];
      const values = { a, b, c: g.c, m: g.m, n: g.n, k: g.k, transA: g.transA, transB: g.transB, alpha: g.alpha, beta: g.beta };
      await runGpuCalls(pipelines, [{ kernel, args: kernel.params.map((p) => values[p.name]) }]);
      return g.c;
    };
  }
  return Object.freeze(api);
}
