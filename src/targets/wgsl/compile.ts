/**
 * The WGSL target's pipeline, pure and device-free: schedule (which loop runs across
 * invocations) → pack (narrow codes into u32 words) → fold (no const-expression reaches WGSL)
 * → render, one compute shader per kernel, with a content hash for pipeline caches.
 */
import { checkCapabilities, type Kernel, type KernelModule } from "../../codegen/ir/nodes.ts";
import { foldKernel } from "./fold.ts";
import type { WgslKernelIR } from "./kernel.ts";
import { packKernel } from "./pack.ts";
import { renderWgsl } from "./render.ts";
import { scheduleKernel } from "./schedule.ts";

/** What the WGSL target supports beyond the core IR. */
export const WGSL_CAPABILITIES = { f64: false } as const;

/** One kernel compiled to WGSL. */
export interface CompiledWgslKernel extends WgslKernelIR {
  readonly wgsl: string;
  /** A hash of `wgsl` (hex), the pipeline cache key. */
  readonly hash: string;
}

export interface CompiledWgsl {
  readonly kernels: readonly CompiledWgslKernel[];
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

/** The passes applied to one kernel, before rendering (exposed for tests and the interpreter). */
export function lowerForWgsl(kernel: Kernel): WgslKernelIR {
  const scheduled = scheduleKernel(kernel);
  const packed = packKernel(scheduled.kernel);
  return { name: kernel.name, params: kernel.params, kernel: foldKernel(packed.kernel), launch: scheduled.launch, packed: packed.packed };
}

/** Compiles one kernel to a WGSL compute shader. */
export function compileWgslKernel(kernel: Kernel): CompiledWgslKernel {
  const ir = lowerForWgsl(kernel);
  const wgsl = renderWgsl(ir);
  return { ...ir, wgsl, hash: hashText(wgsl) };
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
