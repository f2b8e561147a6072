/**
 * The `js` backend: every float32 GEMM runs numforge's generated f32×f32 GEMM kernel (the "ff"
 * variant of the fp32 format, JS target); float64 GEMMs (gradient checks) stay on the reference
 * backend. Scratch panels are allocated once and grown only when a larger shape needs more. A GEMM
 * with a declared accumulator runs that accumulator's kernel (backends/accumulators.ts).
 */
import { gemmScratchLength, type GemmDescription } from "../../codegen/lower/gemm/gemm.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { loadFormat } from "../../dsl/registry.ts";
import { checkGemm, type Backend, type GemmParams } from "../backend.ts";
import type { FloatArray } from "../tensor.ts";
import { jsKernelSource, type KernelSource, type LoadedFormat } from "./kernel-source.ts";
import { createReferenceBackend } from "./reference.ts";
import { declaredAccumulator, declaredGemmRunner } from "./accumulators.ts";

/** A GEMM backend that also provides the kernels recipes quantize with. */
export interface KernelBackend extends Backend {
  readonly kernels: KernelSource;
  /** Releases what the backend holds beyond memory (the webgpu backend's GPU thread). */
  close?(): Promise<void>;
}

/** The ff GEMM variant of a loaded format (every format has one). */
export function ffVariant(loaded: LoadedFormat): GemmDescription {
  const variant = loaded.compiled.gemm.find((v) => v.key === "ff");
  if (variant === undefined) throw new Error(`${loaded.compiled.format.name}: no f32×f32 GEMM variant`);
  return variant.description;
}

/** Scratch panels of GEMM kernels by name: allocated once, grown (or retyped) only when a call needs more. */
export function scratchPanels(): (buffer: GemmDescription["scratch"][number], shape: { m: number; n: number; k: number }, kc: number) => Float32Array | Int32Array {
  const panels = new Map<string, Float32Array | Int32Array>();
  return (buffer, shape, kc) => {
    const need = gemmScratchLength(buffer, shape, kc);
    let have = panels.get(buffer.name);
    if (have === undefined || have.length < need || have instanceof Float32Array !== (buffer.storage === "f32")) {
      have = buffer.storage === "f32" ? new Float32Array(need) : new Int32Array(need);
      panels.set(buffer.name, have);
    }
    return have;
  };
}

/** The float32 format whose ff GEMM the kernel backends run. */
export function fp32Format(): ResolvedFormat {
  return loadFormat("fp32");
}

/** Creates the js backend over `kernels` (a fresh JS kernel source by default). */
export function createJsBackend(kernels: KernelSource = jsKernelSource()): KernelBackend {
  const loaded = kernels.load(fp32Format());
  const gemmDescription = ffVariant(loaded);
  const kernel = loaded.kernels[gemmDescription.kernel];
  const reference = createReferenceBackend();
  const runDeclared = declaredGemmRunner(kernels);
  const scratchFor = scratchPanels();

  function gemm<T extends FloatArray>(params: GemmParams<T>): void {
    if (params.c instanceof Float64Array) {
      reference.gemm(params);
      return;
    }
    checkGemm(params);
    const p = params as unknown as GemmParams<Float32Array>;
    const declared = declaredAccumulator(p);
    if (declared !== null) {
      runDeclared(p, declared);
      return;
    }
    const shape = { m: p.m, n: p.n, k: p.k };
    const args = gemmDescription.params.map((param) => {
      switch (param.name) {
        case "a": return p.a;
        case "b": return p.b;
        case "c": return p.c;
        case "m": return p.m;
        case "n": return p.n;
        case "k": return p.k;
        case "transA": return p.transA ? 1 : 0;
        case "transB": return p.transB ? 1 : 0;
        case "alpha": return p.alpha;
        case "beta": return p.beta;
      }
      const buffer = gemmDescription.scratch.find((s) => s.name === param.name);
      if (buffer === undefined) throw new Error(`js backend: no value for GEMM parameter ${param.name}`);
      return scratchFor(buffer, shape, gemmDescription.schedule.kc);
    });
    kernel(...args);
  }

  return { name: "js", gemm, kernels };
}
