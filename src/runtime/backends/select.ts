/**
 * Backend selection: `--backend wasm|js|webgpu|reference`, and the default, the fastest one this
 * engine runs (wasm when WebAssembly SIMD validates, else js). webgpu is never the default: the
 * runtime's models are small enough that a GPU round trip per GEMM costs more than the GEMM
 * (`npm run bench -- --section training`), so it is there for larger models and for GPUs. Each
 * backend carries the kernel source recipes quantize with; the reference backend quantizes with
 * the JS kernels, the webgpu one with the wasm kernels (JS where SIMD does not validate).
 */
import { createReferenceBackend } from "./reference.ts";
import { createJsBackend, type KernelBackend } from "./js.ts";
import { jsKernelSource, wasmKernelSource } from "./kernel-source.ts";
import { createWasmBackend } from "./wasm.ts";
import { createWebGpuBackend } from "./webgpu.ts";

/** The names `--backend` accepts. */
export const BACKEND_NAMES = ["wasm", "js", "webgpu", "reference"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Whether `name` is a backend name. */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** (module (func (result v128) (v128.const i32x4 0 0 0 0))): validates only where SIMD exists. */
const SIMD_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
]);

/** Whether this engine validates WebAssembly SIMD. */
export function engineHasWasmSimd(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
}

/**
 * The threads the wasm backend runs on: NUMFORGE_THREADS (an integer from 1 to 256; default 1).
 * Results are bit-identical whatever the count (GEMMs split by rows of C, element steps by ranges).
 */
export function threadsFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const text = env.NUMFORGE_THREADS;
  if (text === undefined || text === "") return 1;
  const threads = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(threads) || threads < 1 || threads > 256)
    throw new Error(`NUMFORGE_THREADS = ${JSON.stringify(text)}: give an integer from 1 to 256 (the threads the wasm kernels run on)`);
  return threads;
}

/** The fastest backend available here. */
export function defaultBackendName(): BackendName {
  return engineHasWasmSimd() ? "wasm" : "js";
}

/**
 * Creates a backend by name (the wasm one starts its assembler, the webgpu one its GPU thread,
 * hence async). Call close() on it when done where it has one.
 */
export async function createBackend(name: BackendName = defaultBackendName(), threads = threadsFromEnvironment()): Promise<KernelBackend> {
  switch (name) {
    case "wasm":
      return createWasmBackend(await wasmKernelSource(threads));
    case "js":
      return createJsBackend();
    case "webgpu":
      return createWebGpuBackend(engineHasWasmSimd() ? await wasmKernelSource() : jsKernelSource());
    case "reference":
      return { ...createReferenceBackend(), name: "reference", kernels: jsKernelSource() };
  }
}
