/**
 * TensorFlow.js with the WebAssembly backend (@tensorflow/tfjs-backend-wasm), the peer a user
 * would pick for f32 GEMM in JS without a GPU.
 *
 * Loading offline in Node: setWasmPaths(<package dist folder>/) with a plain file path (trailing
 * slash: it is a prefix the binary name is appended to); in Node the backend's Emscripten loader
 * reads the .wasm with fs. tfjs-core's WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node, so
 * the backend always loads tfjs-backend-wasm-simd.wasm (SIMD, no pthreads) and
 * setThreadsCount(1) just makes the single thread explicit. XNNPACK has no switch: a 2-D
 * matMul without transposes goes to xnn_create/setup_fully_connected_nc_f32 (the other cases
 * fall back to a blocked C++ loop).
 *
 * Gotcha for timing: the backend caches the XNNPACK operator, packed B included, keyed on B's
 * tensor id (it assumes B is a weight). Reusing one B tensor thus measures GEMM with B packed
 * once; a fresh B tensor per call pays the upload and the packing again ("fresh B" variant).
 */
import * as tf from "@tensorflow/tfjs-core";
import { getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { measure, type MeasureOptions } from "../measure.ts";
import { checkMatmulF32, type PeerFigure } from "./common.ts";

export interface TfjsWasmInfo {
  readonly version: string;
  readonly backend: string;
  readonly threads: number;
  readonly simd: boolean;
  readonly multithreadBinary: boolean;
}

let ready: Promise<TfjsWasmInfo> | undefined;

/** Sets up the wasm backend once (1 thread, binaries from node_modules); later calls share it. */
export function initTfjsWasm(): Promise<TfjsWasmInfo> {
  ready ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"));
    setWasmPaths(`${dist}/`);
    setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend did not initialize");
    await tf.ready();
    return {
      version: tf.version_core,
      backend: tf.getBackend(),
      threads: getThreadsCount(),
      simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
      multithreadBinary: Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")),
    };
  })();
  return ready;
}

/** A verified tf.matMul of fixed A and B, ready to be timed next to other contenders. */
export interface PreparedMatmul {
  readonly label: string;
  /** The verification done once on the result. */
  readonly check: string;
  /** matMul + dataSync (C copied back to JS) + dispose: the call a user makes. */
  readonly readback: () => void;
  /** matMul + dispose, no readback (the wasm backend runs the kernel synchronously at the call). */
  readonly kernel: () => void;
  /** A new B tensor per run: upload + XNNPACK re-packing B + matMul + dataSync. */
  readonly freshB: () => void;
  readonly notes: readonly string[];
  /** Frees the tensors. */
  dispose(): void;
}

/**
 * Sets up tf.matMul of A (m×k) by B (k×n), row-major f32, on the wasm backend with one thread:
 * A and B tensors created once, the result checked once against a float64 naive product.
 */
export async function prepareMatmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Promise<PreparedMatmul> {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`tfjs matMul: A has ${a.length} elements, B ${b.length}; expected ${m * k} and ${k * n}`);
  const info = await initTfjsWasm();
  const ta = tf.tensor2d(a, [m, k], "float32");
  const tb = tf.tensor2d(b, [k, n], "float32");
  const first = tf.matMul(ta, tb);
  const check = checkMatmulF32(`tfjs-wasm matMul ${m}×${n}×${k}`, first.dataSync(), a, b, m, n, k);
  first.dispose();
  let sink = 0;
  return {
    label: `tfjs-wasm ${info.version} matMul f32 (${info.threads} thread, ${info.simd ? "SIMD" : "no SIMD"}, XNNPACK)`,
    check,
    readback: () => {
      const c = tf.matMul(ta, tb);
      sink += c.dataSync()[0];
      c.dispose();
    },
    kernel: () => tf.matMul(ta, tb).dispose(),
    freshB: () => {
      const fresh = tf.tensor2d(b, [k, n], "float32");
      const c = tf.matMul(ta, fresh);
      sink += c.dataSync()[0];
      c.dispose();
      fresh.dispose(); // also drops the operator cached on it
    },
    notes: [
      "tensors created once; timed: matMul + dataSync + dispose",
      "B packed once: tfjs-wasm caches the XNNPACK operator (packed B) on B's tensor id; 'fresh B' re-uploads and re-packs B each run",
    ],
    dispose: () => {
      if (Number.isNaN(sink)) throw new Error("tfjs matMul produced NaN");
      ta.dispose();
      tb.dispose();
    },
  };
}

/**
 * GFLOP/s (2·m·n·k per run) of tf.matMul of A (m×k) by B (k×n), row-major f32, on the wasm
 * backend with one thread (see prepareMatmul); the figure is the readback variant.
 *
 * Variants measured in the same round-robin: "kernel only" (matMul + dispose, no readback) and
 * "fresh B" (a new B tensor per run: B upload + XNNPACK re-packing B + matMul + dataSync).
 */
export async function matmulGflops(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  options: MeasureOptions = {},
): Promise<PeerFigure> {
  const prepared = await prepareMatmul(a, b, m, n, k);
  try {
    const t = measure(
      [
        { name: "readback", run: prepared.readback },
        { name: "kernel", run: prepared.kernel },
        { name: "freshB", run: prepared.freshB },
      ],
      options,
    );
    const gflops = (key: string) => (2 * m * n * k) / (t.get(key) ?? Number.NaN) / 1e9;
    return {
      label: prepared.label.replace("matMul f32", `matMul f32 ${m}×${n}×${k}`),
      value: gflops("readback"),
      unit: "GFLOP/s",
      seconds: t.get("readback") ?? Number.NaN,
      check: prepared.check,
      variants: { "kernel only": gflops("kernel"), "fresh B": gflops("freshB") },
      notes: prepared.notes,
    };
  } finally {
    prepared.dispose();
  }
}
