// The WebAssembly backend of a numforge kernel package: the first module the engine validates,
// in the order shipped (relaxed SIMD, SIMD, scalar); null (the entry falls back to JS) without WebAssembly.
// Compiled synchronously (the modules are small), so the package entry needs no top-level await.
import { modules, kernels } from "./binary.js";
import { instantiateWasm } from "../wasm-runtime.js";

function bytesOf(base64) {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(base64, "base64"));
  const text = atob(base64);
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

export function create() {
  if (typeof WebAssembly !== "object") return null;
  for (const [name, module] of Object.entries(modules)) {
    const wasm = bytesOf(module.wasm);
    if (!WebAssembly.validate(wasm)) continue;
    const instance = instantiateWasm({ wasm, kernels, minPages: module.minPages });
    return { name: "wasm", variant: name, kernels: instance.kernels, raw: instance.raw, heap: instance.heap };
  }
  return null;
}
