/**
 * `gemm-declared` section: GEMMs under a declared accumulator (docs/accumulators.md) next to the
 * float32 GEMM of the same shape, on the training runtime's wasm backend — what a recipe that
 * declares one (fp8-deepseek: acc14 promoted every 128 products) pays per GEMM. Shapes are a
 * width-16 ResNet's: a convolution's forward (F × N·OH·OW × C·KH·KW), its weight gradient (B
 * transposed, depth N·OH·OW) and a deeper layer. Each declared result is checked equal to the JS
 * target's, bit for bit, before it is timed.
 */
import { isFloat32Accumulator, type Accumulator } from "../src/dsl/semantics/accumulate.ts";
import { loadFormat } from "../src/dsl/registry.ts";
import { createBackend } from "../src/runtime/backends/select.ts";
import type { GemmParams } from "../src/runtime/backend.ts";
import { uniform } from "./formats.ts";
import { measure } from "./measure.ts";
import { fixed, times, type Table } from "./table.ts";

const SHAPES: readonly { name: string; m: number; n: number; k: number; transB: boolean }[] = [
  { name: "conv forward", m: 16, n: 6272, k: 144, transB: false },
  { name: "conv weight gradient", m: 16, n: 144, k: 6272, transB: true },
  { name: "deeper conv forward", m: 64, n: 512, k: 576, transB: false },
];

function accumulators(): { label: string; acc: Accumulator }[] {
  const acc14 = loadFormat("recipes/formats/acc14.json");
  return [
    { label: "acc14, promoted every 128 (fp8-deepseek)", acc: { format: acc14, promoteEvery: 128, compensated: false } },
    { label: "bf16", acc: { format: loadFormat("bf16"), promoteEvery: null, compensated: false } },
    { label: "fp16, Kahan", acc: { format: loadFormat("fp16"), promoteEvery: null, compensated: true } },
  ];
}

export async function gemmDeclaredSection(): Promise<Table> {
  const wasm = await createBackend("wasm");
  const js = await createBackend("js");
  const rows: string[][] = [];
  try {
    for (const shape of SHAPES) {
      const { m, n, k, transB } = shape;
      const base: GemmParams<Float32Array> = { a: uniform(m * k, 1), b: uniform(k * n, 2), c: new Float32Array(m * n), m, n, k, transA: false, transB, alpha: 1, beta: 0 };
      for (const { label, acc } of accumulators()) {
        if (isFloat32Accumulator(acc.format)) continue;
        const declared = { ...base, c: new Float32Array(m * n), accumulator: acc };
        const reference = { ...declared, c: new Float32Array(m * n) };
        wasm.gemm(declared);
        js.gemm(reference);
        if (!sameBits(declared.c, reference.c)) throw new Error(`gemm-declared: ${label} ${shape.name} differs between wasm and JS`);
        const t = measure([{ name: "fp32", run: () => wasm.gemm(base) }, { name: "declared", run: () => wasm.gemm(declared) }], { runs: 5, warmupRuns: 1, warmupMs: 0 });
        const rate = (key: string) => (m * n * k) / (t.get(key) ?? Number.NaN) / 1e6;
        rows.push([`${shape.name} ${m}×${n}×${k}`, label, fixed(rate("fp32"), 0), fixed(rate("declared"), 0), times(rate("fp32") / rate("declared"))]);
      }
    }
  } finally {
    await Promise.all([wasm.close?.(), js.close?.()]);
  }
  return {
    title: "GEMM under a declared accumulator vs float32, wasm backend, one thread (M multiply-adds/s, median of 5 after warm-up)",
    header: ["shape (m×n×k)", "accumulator", "fp32", "declared", "fp32/declared"],
    rows,
    notes: [
      "declared: declared-rows.ts (a row of C at a time, 4 outputs per SIMD step, the sum's round-to-odd from its Fast2Sum error); Kahan takes four such sums per product",
      "every declared result checked equal to the JS target's, bit for bit, before timing; semantics: dsl/semantics/accumulate.ts",
    ],
  };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])));
}
