/**
 * The WGSL target's pipeline, pure and device-free: schedule (which loop runs across
 * invocations) → pack (narrow codes into u32 words) → fold (no const-expression reaches WGSL)
 * → render, one compute shader per kernel, with a content hash for pipeline caches.
 */
import { checkCapabilities, type Kernel, type KernelModule } from "../../codegen/ir/nodes.ts";
import type { PipelinePass } from "../../package-runtime/wgsl-runtime.js";
import { foldKernel } from "./fold.ts";
import { WORKGROUP_SIZE, type PassLaunch, type WgslKernelIR, type WgslPass } from "./kernel.ts";
import { packKernel } from "./pack.ts";
import { renderWgsl, tableLayout, WORKGROUP_X, WORKGROUP_Y } from "./render.ts";
import { scheduleKernel } from "./schedule.ts";

/** What the WGSL target supports beyond the core IR. */
export const WGSL_CAPABILITIES = { f64: false } as const;

/** One pass of a kernel compiled to a WGSL compute shader. */
export interface CompiledWgslPass extends WgslPass<PassLaunch> {
  /** The kernel's name (labels and messages). */
  readonly name: string;
  readonly wgsl: string;
  /** A hash of `wgsl` (hex), the pipeline cache key. */
  readonly hash: string;
}

/** One kernel compiled to WGSL: its passes run in order on the same buffers. */
export interface CompiledWgslKernel extends Omit<WgslKernelIR, "passes"> {
  readonly passes: readonly CompiledWgslPass[];
}

export interface CompiledWgsl {
  readonly kernels: readonly CompiledWgslKernel[];
}

/**
 * What the runtime's GpuPipelines reads of a compiled pass: its storage bindings, its table words,
 * and for a grid the names of its workgroup-shape constants (render.ts) and their default. The
 * WgslDevice binds passes through it; kernel packages ship it as data (index.ts).
 */
export function pipelinePass(pass: CompiledWgslPass): PipelinePass {
  const launch = pass.launch;
  return {
    name: pass.name,
    wgsl: pass.wgsl,
    hash: pass.hash,
    bindings: pass.kernel.params.flatMap((p) => (p.kind === "buffer" ? [p.access] : [])),
    tables: pass.kernel.tables.length > 0 ? tableLayout(pass.kernel).words : null,
    launch: launch.kind === "grid" ? { kind: "grid", workgroupSize: WORKGROUP_SIZE, workgroup: { x: WORKGROUP_X, y: WORKGROUP_Y } } : launch,
  };
}

/** cyrb53: a fast 53-bit string hash (collisions are checked against the source on a cache hit). */
export function hashText(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/** The IR passes applied to one kernel, before rendering (exposed for tests and the interpreter). */
export function lowerForWgsl(kernel: Kernel): WgslKernelIR {
  const scheduled = scheduleKernel(kernel);
  let packed: Readonly<Record<string, number>> = {};
  const passes = scheduled.passes.map((pass) => {
    const p = packKernel(pass.kernel);
    packed = p.packed;
    return { kernel: foldKernel(p.kernel), launch: pass.launch };
  });
  return { name: kernel.name, params: kernel.params, passes, scratch: scheduled.scratch, packed };
}

/** Compiles one kernel to WGSL compute shaders, one per pass. */
export function compileWgslKernel(kernel: Kernel): CompiledWgslKernel {
  const ir = lowerForWgsl(kernel);
  const passes = ir.passes.map((pass) => {
    const wgsl = renderWgsl(ir.name, pass);
    return { ...pass, name: ir.name, wgsl, hash: hashText(wgsl) };
  });
  return { ...ir, passes };
}

/** Compiles every kernel of a module (names must be unique). */
export function compileWgsl(module: KernelModule): CompiledWgsl {
  checkCapabilities(module, "WGSL", WGSL_CAPABILITIES);
  const names = new Set<string>();
  for (const k of module.kernels) {
    if (names.has(k.name)) throw new Error(`two kernels named ${k.name}`);
    names.add(k.name);
  }
  return { kernels: module.kernels.map(compileWgslKernel) };
}
