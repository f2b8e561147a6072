/**
 * The JS GEMM (lowerGemm with JS_GEMM_SCHEDULE, rendered by the JS target) for f32 and e4m3
 * operands next to naive i-j-k triple loops, on the same inputs in one run.
 *
 * Two naive baselines: "naive f64" is the loop one writes in JS (float64 accumulator, no
 * rounding per step); "naive f32" rounds each product and sum to f32 with Math.fround, the
 * arithmetic of an f32 accumulator. The JS schedule accumulates in f64 (exact products, f64
 * sums, one rounding to f32 per k block); "gemm f32, f32 acc" is the same loop nest with the f32
 * accumulator, whose exact f32 steps cost V8 four float64↔float32 conversions per multiply-add
 * (2 cvtsd2ss, 2 cvtss2sd, all on one port) — the gap between the two columns.
 */
import { describeGemm, gemmScratchLength, lowerGemm, type GemmOptions } from "../src/codegen/lower/gemm/gemm.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../src/codegen/lower/elementwise.ts";
import { JS_GEMM_SCHEDULE } from "../src/codegen/schedule.ts";
import { loadJs } from "../src/targets/js/load.ts";
import { format, uniform } from "./formats.ts";
import { measure } from "./measure.ts";
import { fixed, times, type Table } from "./table.ts";

type Data = Float32Array | Uint8Array;

/** C = A·B with a float64 accumulator: the plain JS triple loop. */
function naiveF64(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
}

/** C = A·B rounding every product and sum to f32, as the kernel does. */
function naiveF32(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void {
  const f = Math.fround;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s = f(s + f(a[i * k + p] * b[p * n + j]));
      c[i * n + j] = s;
    }
  }
}

/** A no-argument call of the lowered kernel: C = A·B (α = 1, β = 0) with scratch allocated once. */
function gemmCall(options: GemmOptions, a: Data, b: Data, c: Float32Array, size: number): () => void {
  const desc = describeGemm(options);
  const fn = loadJs({ kernels: lowerGemm(options) })[desc.kernel];
  const shape = { m: size, n: size, k: size };
  const args: Record<string, Data | Int32Array | number> = { a, b, c, ...shape, transA: 0, transB: 0, alpha: 1, beta: 0 };
  for (const s of desc.scratch) {
    const length = gemmScratchLength(s, shape, desc.schedule.kc);
    args[s.name] = s.storage === "f32" ? new Float32Array(length) : new Int32Array(length);
  }
  const list = desc.params.map((p) => args[p.name]);
  return () => fn(...list);
}

const sameBits = (x: Float32Array, y: Float32Array) => Buffer.compare(Buffer.from(x.buffer), Buffer.from(y.buffer)) === 0;

export function gemmSection(sizes: readonly number[] = [128, 256, 512]): Table {
  const e4m3 = format("e4m3");
  const elements = loadJs({ kernels: [lowerEncodeElements(e4m3), lowerDecodeElements(e4m3)] });
  const rows: string[][] = [];
  for (const size of sizes) {
    const a = uniform(size * size, 1);
    const b = uniform(size * size, 2);
    const aCodes = new Uint8Array(a.length);
    const bCodes = new Uint8Array(b.length);
    elements.encode_elements(a, aCodes, a.length, 0);
    elements.encode_elements(b, bCodes, b.length, 0);
    const c = {
      f64: new Float32Array(size * size),
      f32: new Float32Array(size * size),
      kernel: new Float32Array(size * size),
      f32Acc: new Float32Array(size * size),
      e4m3: new Float32Array(size * size),
    };
    const f32Kernel = gemmCall({ a: "f32", b: "f32", schedule: JS_GEMM_SCHEDULE }, a, b, c.kernel, size);
    const f32AccKernel = gemmCall({ a: "f32", b: "f32", schedule: { ...JS_GEMM_SCHEDULE, accumulator: "f32" } }, a, b, c.f32Acc, size);
    const e4m3Kernel = gemmCall({ a: e4m3, b: e4m3, schedule: JS_GEMM_SCHEDULE }, aCodes, bCodes, c.e4m3, size);
    const slow = size >= 512 ? { warmupRuns: 1, warmupMs: 0 } : {};
    const t = measure(
      [
        { name: "naive f64", run: () => naiveF64(a, b, c.f64, size, size, size) },
        { name: "naive f32", run: () => naiveF32(a, b, c.f32, size, size, size) },
        { name: "f32, f32 acc", run: f32AccKernel },
        { name: "f32", run: f32Kernel },
        { name: "e4m3", run: e4m3Kernel },
      ],
      slow,
    );
    checkResults(size, c, aCodes, bCodes, elements);
    const gflops = (key: string) => (2 * size ** 3) / (t.get(key) ?? Number.NaN) / 1e9;
    rows.push([
      `${size}³`,
      fixed(gflops("naive f64")),
      fixed(gflops("naive f32")),
      fixed(gflops("f32, f32 acc")),
      fixed(gflops("f32")),
      fixed(gflops("e4m3")),
      times(gflops("f32") / gflops("naive f64")),
      times(gflops("f32") / gflops("naive f32")),
      times(gflops("e4m3") / gflops("f32")),
    ]);
  }
  const s = JS_GEMM_SCHEDULE;
  return {
    title: `JS GEMM, C = A·B (GFLOP/s, median of 5 after warm-up; schedule mr×nr ${s.mr}×${s.nr}, kc ${s.kc}, mc ${s.mc}, nc ${s.nc}, ${s.accumulator} accumulator)`,
    header: ["size", "naive f64", "naive f32", "gemm f32, f32 acc", "gemm f32", "gemm e4m3", "f32/naive f64", "f32/naive f32", "e4m3/f32"],
    rows,
    notes: [
      "naive f64: plain JS loop, float64 accumulator; naive f32: same loop rounding each step to f32",
      "gemm f32, f32 acc: the JS schedule with accumulator \"f32\"; gemm f32 / e4m3: the JS schedule itself",
    ],
  };
}

/** Guards the numbers: the kernels must compute the product (e4m3 bit-identical to f32 on decoded codes). */
function checkResults(
  size: number,
  c: { f64: Float32Array; f32: Float32Array; kernel: Float32Array; f32Acc: Float32Array; e4m3: Float32Array },
  aCodes: Uint8Array,
  bCodes: Uint8Array,
  elements: Readonly<Record<string, (...args: (ArrayLike<number> | number)[]) => void>>,
): void {
  for (const [name, out] of [["gemm f32", c.kernel], ["gemm f32, f32 acc", c.f32Acc]] as const) {
    let worst = 0;
    for (let i = 0; i < c.f64.length; i++) worst = Math.max(worst, Math.abs(out[i] - c.f64[i]));
    if (!(worst <= 1e-4 * size)) throw new Error(`${name} ${size}³ differs from the naive loop by ${worst}`);
  }
  const aDecoded = new Float32Array(aCodes.length);
  const bDecoded = new Float32Array(bCodes.length);
  elements.decode_elements(aCodes, aDecoded, aCodes.length);
  elements.decode_elements(bCodes, bDecoded, bCodes.length);
  const reference = new Float32Array(size * size);
  gemmCall({ a: "f32", b: "f32", schedule: JS_GEMM_SCHEDULE }, aDecoded, bDecoded, reference, size)();
  if (!sameBits(reference, c.e4m3)) throw new Error(`gemm e4m3 ${size}³ is not the f32 GEMM of the decoded codes`);
}
