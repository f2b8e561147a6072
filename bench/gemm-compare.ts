/**
 * numforge's GEMM against the peers a user would pick instead, on the same inputs in one
 * round-robin per shape (single thread, CPU time, median of ≥ 5 runs after warm-up):
 * - gemmF32Section: f32 GEMM GFLOP/s, numforge wasm (plain SIMD, relaxed SIMD where the engine
 *   validates it) and js, tfjs-backend-wasm (XNNPACK) and onnxruntime-web MatMul;
 * - gemmLowPrecisionSection: e4m3 × e4m3 → f32 and int8 × int8 → i32 (as f32) against our own
 *   f32 GEMM and onnxruntime-web MatMulInteger (u8 × s8 → i32, MLAS's fast path).
 * Every contender's result is checked once before timing.
 */
import { lowerDecodeElements, lowerEncodeElements } from "../src/codegen/lower/elementwise.ts";
import { WASM_GEMM_SCHEDULE } from "../src/codegen/schedule.ts";
import { loadJs } from "../src/targets/js/load.ts";
import type { WasmAssembler } from "../src/targets/wasm/assemble.ts";
import { format, uniform } from "./formats.ts";
import type { MeasureOptions } from "./measure.ts";
import { jsGemm, wasmGemm, type GemmContender, type GemmShape } from "./numforge-gemm.ts";
import { checkMatmulF32, measureAsync, type AsyncVariant } from "./peers/common.ts";
import * as ortWeb from "./peers/onnxruntime-web.ts";
import * as tfjsWasm from "./peers/tfjs-wasm.ts";
import { fixed, times, type Table } from "./table.ts";

interface NamedShape extends GemmShape {
  readonly label: string;
}

/** m×k×n: batch × inputs × outputs for the training shapes (an MNIST layer, a 512-wide layer). */
export const F32_SHAPES: readonly NamedShape[] = [
  { label: "256³", m: 256, k: 256, n: 256 },
  { label: "512³", m: 512, k: 512, n: 512 },
  { label: "1024³", m: 1024, k: 1024, n: 1024 },
  { label: "256×784×128", m: 256, k: 784, n: 128 },
  { label: "64×512×512", m: 64, k: 512, n: 512 },
];

const LOW_PRECISION_SHAPES: readonly NamedShape[] = F32_SHAPES.slice(0, 3);

/** More runs where a run is short (the machine is shared: medians of more samples are steadier). */
function runsFor(shape: GemmShape): MeasureOptions {
  const flops = 2 * shape.m * shape.n * shape.k;
  return flops >= 1e9 ? { runs: 7, warmupRuns: 1, warmupMs: 0 } : flops >= 2e8 ? { runs: 9 } : { runs: 15 };
}

const sync = (name: string, run: () => void): AsyncVariant => ({ name, run: async () => run() });

function checkF32(label: string, g: GemmContender, a: Float32Array, b: Float32Array, s: GemmShape, copying = false): void {
  (copying ? g.copying : g.run)?.();
  checkMatmulF32(label, g.result(), a, b, s.m, s.n, s.k);
}

export async function gemmF32Section(assembler: WasmAssembler, relaxed: boolean): Promise<Table> {
  const rows: string[][] = [];
  const notes = new Set<string>();
  for (const shape of F32_SHAPES) {
    const { m, n, k } = shape;
    const a = uniform(m * k, 1);
    const b = uniform(k * n, 2);
    const plain = wasmGemm(assembler, "f32", "f32", a, b, shape, false);
    const fused = relaxed ? wasmGemm(assembler, "f32", "f32", a, b, shape, true) : null;
    const js = jsGemm("f32", "f32", a, b, shape);
    checkF32("numforge wasm", plain, a, b, shape);
    checkF32("numforge wasm (copying)", plain, a, b, shape, true);
    if (fused !== null) checkF32("numforge wasm relaxed", fused, a, b, shape);
    checkF32("numforge js", js, a, b, shape);
    const tfjs = await tfjsWasm.prepareMatmul(a, b, m, n, k);
    const ort = await ortWeb.prepareMatmul(a, b, m, n, k);
    try {
      tfjs.notes.forEach((x) => notes.add(`tfjs: ${x}`));
      ort.notes.forEach((x) => notes.add(`ORT: ${x}`));
      // Each ratio's two sides run next to each other in a round, so a change of load between
      // them is as short as it can be; the slow JS kernel runs last.
      const variants: AsyncVariant[] = [
        sync("wasm", plain.run),
        sync("tfjs", tfjs.kernel),
        ...(fused === null ? [] : [sync("relaxed", fused.run)]),
        sync("wasm copy", plain.copying ?? plain.run),
        { name: "ort", run: ort.input },
        ...(fused === null ? [] : [sync("relaxed copy", fused.copying ?? fused.run)]),
        { name: "ort packed", run: ort.prepacked },
        sync("tfjs readback", tfjs.readback),
        sync("js", js.run),
      ];
      const t = await measureAsync(variants, runsFor(shape));
      const g = (key: string) => (t.has(key) ? (2 * m * n * k) / (t.get(key) ?? Number.NaN) / 1e9 : Number.NaN);
      rows.push([
        shape.label,
        fixed(g("wasm")),
        fixed(g("wasm copy")),
        fixed(g("relaxed")),
        fixed(g("relaxed copy")),
        fixed(g("js")),
        fixed(g("tfjs")),
        fixed(g("tfjs readback")),
        fixed(g("ort")),
        fixed(g("ort packed")),
        times(g("wasm") / g("tfjs")),
        times(g("relaxed") / g("tfjs")),
        times(g("wasm copy") / g("ort")),
        times(g("relaxed copy") / g("ort")),
      ]);
    } finally {
      tfjs.dispose();
      await ort.release();
    }
  }
  const s = WASM_GEMM_SCHEDULE;
  return {
    title: `f32 GEMM C = A·B, m×k×n (GFLOP/s, 1 thread, median after warm-up; numforge wasm schedule ${s.mr}×${s.nr} f32x4 tile, kc ${s.kc}, mc ${s.mc}, nc ${s.nc})`,
    header: ["m×k×n", "nf wasm", "nf wasm copy", "nf relaxed", "nf relaxed copy", "nf js", "tfjs-wasm", "tfjs readback", "ORT", "ORT B packed", "wasm/tfjs", "relaxed/tfjs", "wasm copy/ORT", "relaxed copy/ORT"],
    rows,
    notes: [
      "nf wasm: operands resident in wasm memory (raw API), A and B packed on every call; nf wasm copy: A, B copied in and C out per call",
      `nf relaxed: the same kernel with f32x4.relaxed_madd${relaxed ? "" : " (not measured: this engine does not validate relaxed SIMD)"}; nf js: the JS target (f64 accumulator)`,
      "tfjs-wasm: matMul on resident tensors, kernel only (XNNPACK keeps B packed between calls); tfjs readback adds dataSync",
      "ratios: nf wasm (relaxed) / tfjs-wasm kernel (both resident, tfjs with B pre-packed); nf wasm (relaxed) copy / ORT (both copy A, B in and C out and pack B per call)",
      ...notes,
    ],
  };
}

/** Codes of `x` in an 8-bit format (JS element kernel) and their decoded f32 values. */
export function codesOf(name: string, x: Float32Array): { codes: Uint8Array; values: Float32Array } {
  const kernels = loadJs({ kernels: [lowerEncodeElements(format(name)), lowerDecodeElements(format(name))] });
  const codes = new Uint8Array(x.length);
  const values = new Float32Array(x.length);
  kernels.encode_elements(x, codes, x.length, 0);
  kernels.decode_elements(codes, values, x.length);
  return { codes, values };
}

const sameBits = (x: Float32Array, y: Float32Array) => Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;

export async function gemmLowPrecisionSection(assembler: WasmAssembler, relaxed: boolean): Promise<Table> {
  const rows: string[][] = [];
  for (const shape of LOW_PRECISION_SHAPES) {
    const { m, n, k } = shape;
    const a = uniform(m * k, 1);
    const b = uniform(k * n, 2);
    const e4 = { a: codesOf("e4m3", a.map((v) => v * 8)), b: codesOf("e4m3", b.map((v) => v * 8)) };
    // The same bytes: int8 codes (two's complement) for numforge, u8 (A) and s8 (B) for ORT.
    const aBytes = Uint8Array.from(uniform(m * k, 3), (v) => Math.floor((v + 1) * 128) & 0xff);
    const bBytes = Uint8Array.from(uniform(k * n, 4), (v) => Math.floor((v + 1) * 128) & 0xff);
    const f32 = wasmGemm(assembler, "f32", "f32", a, b, shape, false);
    const e4m3 = wasmGemm(assembler, format("e4m3"), format("e4m3"), e4.a.codes, e4.b.codes, shape, false);
    const e4m3Reference = wasmGemm(assembler, "f32", "f32", e4.a.values, e4.b.values, shape, false);
    const int8 = wasmGemm(assembler, format("int8"), format("int8"), aBytes, bBytes, shape, false);
    const f32Relaxed = relaxed ? wasmGemm(assembler, "f32", "f32", a, b, shape, true) : null;
    const e4m3Relaxed = relaxed ? wasmGemm(assembler, format("e4m3"), format("e4m3"), e4.a.codes, e4.b.codes, shape, true) : null;
    checkF32("numforge wasm f32", f32, a, b, shape);
    e4m3.run();
    e4m3Reference.run();
    if (!sameBits(e4m3.result(), e4m3Reference.result())) throw new Error(`e4m3 GEMM ${shape.label} is not the f32 GEMM of the decoded codes`);
    if (e4m3Relaxed !== null) checkF32("numforge wasm e4m3 relaxed", e4m3Relaxed, e4.a.values, e4.b.values, shape);
    if (f32Relaxed !== null) checkF32("numforge wasm f32 relaxed", f32Relaxed, a, b, shape);
    int8.run();
    checkInt8(int8.result(), aBytes, bBytes, shape);
    const ort = await ortWeb.prepareMatmulInteger(aBytes, new Int8Array(bBytes.buffer), m, n, k);
    try {
      const variants: AsyncVariant[] = [
        sync("f32", f32.run),
        sync("e4m3", e4m3.run),
        ...(f32Relaxed === null || e4m3Relaxed === null ? [] : [sync("f32 relaxed", f32Relaxed.run), sync("e4m3 relaxed", e4m3Relaxed.run)]),
        sync("int8", int8.run),
        { name: "ort packed", run: ort.prepacked },
        sync("int8 copy", int8.copying ?? int8.run),
        { name: "ort", run: ort.input },
      ];
      const t = await measureAsync(variants, runsFor(shape));
      const g = (key: string) => (t.has(key) ? (2 * m * n * k) / (t.get(key) ?? Number.NaN) / 1e9 : Number.NaN);
      rows.push([
        shape.label,
        fixed(g("f32")),
        fixed(g("e4m3")),
        fixed(g("f32 relaxed")),
        fixed(g("e4m3 relaxed")),
        fixed(g("int8")),
        fixed(g("int8 copy")),
        fixed(g("ort")),
        fixed(g("ort packed")),
        times(g("e4m3") / g("f32")),
        times(g("e4m3 relaxed") / g("f32 relaxed")),
        times(g("int8") / g("f32")),
        times(g("int8 copy") / g("ort")),
        times(g("int8") / g("ort packed")),
      ]);
    } finally {
      await ort.release();
    }
  }
  return {
    title: "Low-precision GEMM, numforge wasm (GFLOP/s or GOP/s = 2·m·n·k per second, 1 thread, median after warm-up)",
    header: ["m×k×n", "f32", "e4m3", "f32 relaxed", "e4m3 relaxed", "int8", "int8 copy", "ORT MatMulInteger", "ORT B packed", "e4m3/f32", "e4m3/f32 relaxed", "int8/f32", "int8 copy/ORT", "int8/ORT B packed"],
    rows,
    notes: [
      "e4m3: e4m3 × e4m3 codes → f32, decoded while packing (checked: bit-identical to the f32 GEMM of the decoded values); int8: int8 × int8 codes, exact i32 sums, C = f32(sum) (checked: equal to the exact sums)",
      "numforge resident operands except 'int8 copy' (A, B copied in, C out per call); ORT MatMulInteger: u8 × s8 → i32 on the same bytes, session.run copies A (and B) in and C out; 'B packed': B an initializer",
      relaxed ? "relaxed: f32x4.relaxed_madd in the micro-kernel (int8 uses no relaxed instruction)" : "relaxed: not measured (this engine does not validate relaxed SIMD)",
    ],
  };
}

function checkInt8(c: Float32Array, a: Uint8Array, b: Uint8Array, s: GemmShape): void {
  const sx = (v: number) => (v << 24) >> 24;
  for (let i = 0; i < s.m; i += Math.max(1, s.m >> 4)) {
    for (let j = 0; j < s.n; j++) {
      let sum = 0;
      for (let p = 0; p < s.k; p++) sum += sx(a[i * s.k + p]) * sx(b[p * s.n + j]);
      if (c[i * s.n + j] !== sum) throw new Error(`int8 GEMM ${s.m}×${s.k}×${s.n}: C[${i},${j}] = ${c[i * s.n + j]}, expected ${sum}`);
    }
  }
}
