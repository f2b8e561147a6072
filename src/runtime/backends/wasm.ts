/**
 * The `wasm` backend: float32 GEMMs run numforge's generated f32×f32 GEMM kernel compiled to
 * WebAssembly (SIMD where the engine validates it). Operands are copied into the module's heap
 * for each call and C is copied back. On a kernel source with threads, each GEMM is split by rows
 * of C across them, or by columns where C has few rows (bit-identical to one thread). Float64 GEMMs stay on the reference backend.
 */
import { checkGemm, type GemmParams } from "../backend.ts";
import type { FloatArray } from "../tensor.ts";
import { ffVariant, fp32Format, type KernelBackend } from "./js.ts";
import { gemmRunner } from "../../package-runtime/wasm-parallel.js";
import type { KernelSource } from "./kernel-source.ts";
import { createReferenceBackend } from "./reference.ts";
import { declaredAccumulator, declaredGemmRunner } from "./accumulators.ts";

/** Creates the wasm backend over a wasm kernel source (its GEMMs on the source's threads). */
export function createWasmBackend(kernels: KernelSource): KernelBackend {
  if (kernels.target !== "wasm") throw new Error(`wasm backend: the kernel source is for ${kernels.target}`);
  const loaded = kernels.load(fp32Format());
  const description = ffVariant(loaded);
  const wasm = loaded.wasm;
  if (wasm === undefined) throw new Error("wasm backend: the kernel source gave no WebAssembly instance");
  const heap = wasm.heap;
  const reference = createReferenceBackend();
  const runDeclared = declaredGemmRunner(kernels);
  const runGemm = gemmRunner({ heap, raw: wasm.raw, pool: loaded.pool });
  const variant = { kernel: description.kernel, params: description.params.map((p) => p.name), scratch: description.scratch, kc: description.schedule.kc };

  function gemm<T extends FloatArray>(p: GemmParams<T>): void {
    if (p.c instanceof Float64Array) {
      reference.gemm(p);
      return;
    }
    checkGemm(p);
    const declared = declaredAccumulator(p);
    if (declared !== null) {
      // One thread: the declared kernel is its own module (backends/accumulators.ts).
      runDeclared(p as unknown as GemmParams<Float32Array>, declared);
      return;
    }
    const { m, n, k } = p;
    const mark = heap.mark();
    try {
      const a = heap.copyIn(p.a.subarray(0, m * k));
      const b = heap.copyIn(p.b.subarray(0, k * n));
      const cView = p.c.subarray(0, m * n);
      const c = p.beta === 0 ? heap.alloc(cView.byteLength) : heap.copyIn(cView);
      runGemm(variant, { a, b, c, aBytes: 4, bBytes: 4, m, n, k, transA: p.transA ? 1 : 0, transB: p.transB ? 1 : 0, alpha: p.alpha, beta: p.beta });
      heap.read(c, cView);
    } finally {
      heap.release(mark);
    }
  }

  return { name: "wasm", gemm, kernels, close: () => kernels.close() };
}
