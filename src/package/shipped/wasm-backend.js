// The WebAssembly backend of a numforge kernel package: the first module the engine validates,
// in the order shipped (relaxed SIMD, SIMD, scalar); null (the entry falls back to JS) without WebAssembly.
// Compiled synchronously (the modules are small), so the package entry needs no top-level await.
// Plans run with their buffers resident in the module's heap; the GEMM runs on resident operands
// (B may stay resident across calls: prepareB). createThreaded: the same kernels on several
// threads over one shared memory (see ../wasm-threads.js).
import { modules, kernels } from "./binary.js";
import { instantiateOn, instantiateWasm, residentPlanRunner } from "../wasm-runtime.js";
import { sharedModule, startThreadPool, threadsUnavailable } from "../wasm-threads.js";
import { gemmRunner, parallelStepRunner } from "../wasm-parallel.js";

function bytesOf(base64) {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(base64, "base64"));
  const text = atob(base64);
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

/** The first shipped module this engine validates, or null. */
function firstModule() {
  if (typeof WebAssembly !== "object") return null;
  for (const [name, module] of Object.entries(modules)) {
    const wasm = bytesOf(module.wasm);
    if (WebAssembly.validate(wasm)) return { name, wasm, minPages: module.minPages };
  }
  return null;
}

export function create() {
  const module = firstModule();
  if (module === null) return null;
  const instance = instantiateWasm({ wasm: module.wasm, kernels, minPages: module.minPages });
  return backendOf(module.name, instance, undefined, false);
}

/**
 * The kernels on `threads` threads (this one and threads − 1 workers) over one shared memory:
 * `{ backend, note }`, with one thread and a note saying why where the engine cannot share memory.
 * @param {number} threads
 * @param {boolean} stochastic whether the format rounds stochastically (its element steps keep one thread)
 */
export async function createThreaded(threads, stochastic) {
  const why = threadsUnavailable();
  if (threads <= 1 || why !== null) return { backend: create(), note: threads <= 1 ? null : `one thread: ${why}` };
  const chosen = firstModule();
  if (chosen === null) return { backend: null, note: "one thread: no WebAssembly" };
  const { memory, module } = sharedModule(chosen.wasm, chosen.minPages);
  const instance = instantiateOn(module, memory, kernels);
  const pool = await startThreadPool({ module, memory, names: kernels.map((k) => k.name), threads, raw: instance.raw });
  return { backend: backendOf(chosen.name, instance, pool, stochastic), note: null };
}

function backendOf(variant, instance, pool, stochastic) {
  const { raw, heap } = instance;
  const steps = pool === undefined ? undefined : parallelStepRunner({ pool, stochastic });
  const runGemm = gemmRunner({ heap, raw, pool });
  /** Operands kept resident across calls (prepareB), newest last; the heap above them is the calls' scratch. */
  const kept = [];

  /** C = op(A)·op(B) on resident copies: A, C (and B unless `residentB`) copied in for this call. */
  function gemm(g, a, b, residentB, extra) {
    const mark = heap.mark();
    try {
      const mk = g.m * g.k;
      const aOffset = heap.copyIn(a.subarray(0, mk));
      const bOffset = residentB ?? heap.copyIn(b.subarray(0, g.k * g.n));
      // A resident B is float32 where the call decodes B, else kept as the call's B is (float32 or codes).
      const bBytes = (b ?? (g.decodeB ? Float32Array : g.b)).BYTES_PER_ELEMENT;
      const cView = g.c.subarray(0, g.m * g.n);
      const cOffset = g.beta === 0 ? heap.alloc(cView.byteLength) : heap.copyIn(cView);
      const extraOffsets = Object.fromEntries(Object.entries(extra).map(([name, array]) => [name, heap.copyIn(array)]));
      runGemm(g.variant, { a: aOffset, b: bOffset, c: cOffset, aBytes: a.BYTES_PER_ELEMENT, bBytes, m: g.m, n: g.n, k: g.k, transA: g.transA, transB: g.transB, alpha: g.alpha, beta: g.beta, extra: extraOffsets });
      heap.read(cOffset, cView);
    } finally {
      heap.release(mark);
    }
  }

  /** Copies `array` into the heap until release(); returns its offset. */
  function keep(array) {
    const offset = heap.copyIn(array);
    const entry = { offset, live: true };
    kept.push(entry);
    return {
      offset,
      release() {
        entry.live = false;
        while (kept.length > 0 && !kept[kept.length - 1].live) heap.release(kept.pop().offset);
      },
    };
  }

  /** A resident array's memory (calls.js Resident): a kept copy of `array`, used in place by the plans. */
  function residentSlot(array) {
    const held = keep(array);
    const Type = array.constructor;
    const { length } = array;
    return {
      offset: held.offset,
      // A fresh view per call: a memory that grew since has a new buffer.
      view: () => new Type(heap.memory.buffer, held.offset, length),
      read: (out) => heap.read(held.offset, out),
      write: (source) => heap.write(held.offset, source),
      release: held.release,
    };
  }

  return {
    name: "wasm",
    variant,
    kernels: instance.kernels,
    raw,
    heap,
    threads: pool?.threads ?? 1,
    splitCalls: () => pool?.splitCalls ?? 0,
    runPlan: residentPlanRunner(kernels, raw, heap, steps),
    gemm,
    keep,
    residentSlot,
    close: () => pool?.close(),
  };
}
