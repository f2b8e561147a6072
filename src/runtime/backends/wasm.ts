/**
 * The `wasm` backend: float32 GEMMs run numforge's generated f32×f32 GEMM kernel compiled to
 * WebAssembly (SIMD where the engine validates it). Operands are copied into the module's heap
 * for each call and C is copied back; the packing scratch stays resident and grows only when a
 * larger shape needs more. Float64 GEMMs stay on the reference backend.
 */
import { checkGemm, type GemmParams } from "../backend.ts";
import type { FloatArray } from "../tensor.ts";
import { ffVariant, fp32Format, scratchLength, type KernelBackend } from "./js.ts";
import type { KernelSource } from "./kernel-source.ts";
import { createReferenceBackend } from "./reference.ts";

/** Creates the wasm backend over a wasm kernel source. */
export function createWasmBackend(kernels: KernelSource): KernelBackend {
  if (kernels.target !== "wasm") throw new Error(`wasm backend: the kernel source is for ${kernels.target}`);
  const loaded = kernels.load(fp32Format());
  const description = ffVariant(loaded);
  const wasm = loaded.wasm;
  if (wasm === undefined) throw new Error("wasm backend: the kernel source gave no WebAssembly instance");
  const raw = wasm.raw[description.kernel];
  const heap = wasm.heap;
  const reference = createReferenceBackend();
  // The scratch panels sit at the bottom of the arena; operands are pushed above them per call.
  const scratchBase = heap.mark();
  const scratchOffsets = new Map<string, number>();
  const scratchBytes = new Map<string, number>();

  const placeScratch = (shape: { m: number; n: number; k: number }) => {
    const needs = description.scratch.map((s) => scratchLength(s, shape, description.schedule.kc) * 4);
    if (description.scratch.every((s, i) => (scratchBytes.get(s.name) ?? -1) >= needs[i])) return;
    heap.release(scratchBase);
    description.scratch.forEach((s, i) => {
      const bytes = Math.max(needs[i], scratchBytes.get(s.name) ?? 0);
      scratchBytes.set(s.name, bytes);
      scratchOffsets.set(s.name, heap.alloc(bytes));
    });
  };

  function gemm<T extends FloatArray>(p: GemmParams<T>): void {
    if (p.c instanceof Float64Array) {
      reference.gemm(p);
      return;
    }
    checkGemm(p);
    const { m, n, k } = p;
    placeScratch({ m, n, k });
    const mark = heap.mark();
    try {
      const a = heap.copyIn(p.a.subarray(0, m * k));
      const b = heap.copyIn(p.b.subarray(0, k * n));
      const cView = p.c.subarray(0, m * n);
      const c = p.beta === 0 ? heap.alloc(cView.byteLength) : heap.copyIn(cView);
      const args = description.params.map((param) => argument(param.name, p, a, b, c, scratchOffsets));
      raw(...args);
      heap.read(c, cView);
    } finally {
      heap.release(mark);
    }
  }

  return { name: "wasm", gemm, kernels };
}

function argument(name: string, p: GemmParams, a: number, b: number, c: number, scratch: ReadonlyMap<string, number>): number {
  switch (name) {
    case "a": return a;
    case "b": return b;
    case "c": return c;
    case "m": return p.m;
    case "n": return p.n;
    case "k": return p.k;
    case "transA": return p.transA ? 1 : 0;
    case "transB": return p.transB ? 1 : 0;
    case "alpha": return p.alpha;
    case "beta": return p.beta;
  }
  const offset = scratch.get(name);
  if (offset === undefined) throw new Error(`wasm backend: no value for GEMM parameter ${name}`);
  return offset;
}
