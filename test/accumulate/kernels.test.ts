/**
 * Declared accumulators on the JS and wasm targets: for every accumulator format (fp32, bf16, fp16,
 * a declared 14-bit one, e5m2) × {plain, Kahan} × {no promotion, every 4 products}, the IR GEMM
 * under the targets' own schedules (and a small one with several tiles and panels) gives bit for
 * bit what dsl/semantics/accumulate.ts defines, on operands spread over 25 binades and on
 * bf16-valued ones. The default (no declared accumulator) keeps its kernel unchanged.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { describeGemm, lowerGemm, type GemmOptions } from "../../src/codegen/lower/gemm/gemm.ts";
import { JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE, type GemmSchedule } from "../../src/codegen/schedule.ts";
import { gemmAccumulate, type Accumulator } from "../../src/dsl/semantics/accumulate.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { compileWasmWith, loadWasm } from "../../src/targets/wasm/load.ts";
import { createWasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { gemmScratchLength } from "../../src/codegen/lower/gemm/gemm.ts";
import { builtin } from "../support/formats.ts";
import { accumulatorLabel, accumulators, canonicalBits, describeProblem, problems, type Problem } from "./support.ts";

type Kernel = (...args: unknown[]) => void;

const SMALL: GemmSchedule = { mr: 3, nr: 2, kc: 8, mc: 6, nc: 4, pack: true, accumulator: "f32" };
const UNPACKED: GemmSchedule = { ...SMALL, pack: false };

function run(fn: Kernel, options: GemmOptions, p: Problem): Float32Array {
  const desc = describeGemm(options);
  const c = p.c.slice();
  const values: Record<string, unknown> = { a: p.a, b: p.b, c, m: p.m, n: p.n, k: p.k, transA: +p.transA, transB: +p.transB, alpha: p.alpha, beta: p.beta };
  for (const s of desc.scratch) {
    const length = gemmScratchLength(s, p, desc.schedule.kc);
    values[s.name] = s.storage === "f32" ? new Float32Array(length) : new Int32Array(length);
  }
  fn(...desc.params.map((param) => values[param.name]));
  return c;
}

const PROBLEMS = [...problems(1, "spread"), ...problems(2, "bf16")];

/** The semantics' results per accumulator, computed once and shared by every schedule and target. */
const wanted = new Map<string, number[][]>();
function want(accumulator: Accumulator): number[][] {
  const label = accumulatorLabel(accumulator);
  if (!wanted.has(label)) wanted.set(label, PROBLEMS.map((p) => canonicalBits(gemmAccumulate(accumulator, p))));
  return wanted.get(label)!;
}

function check(label: string, fn: Kernel, options: GemmOptions, accumulator: Accumulator): void {
  const wants = want(accumulator);
  for (const [i, p] of PROBLEMS.entries()) {
    const want = wants[i];
    const got = canonicalBits(run(fn, options, p));
    expect(got, `${label} ${accumulatorLabel(accumulator)} ${describeProblem(p)}`).toEqual(want);
  }
}

describe("declared accumulators: kernels = semantics bit for bit", () => {
  const schedules: Record<string, GemmSchedule> = { js: JS_GEMM_SCHEDULE, small: SMALL, unpacked: UNPACKED };
  for (const acc of accumulators()) {
    it(`js: ${accumulatorLabel(acc)}`, () => {
      for (const [name, schedule] of Object.entries(schedules)) {
        const options: GemmOptions = { a: "f32", b: "f32", schedule, accumulator: acc };
        const fn = loadJs({ kernels: lowerGemm(options) })[describeGemm(options).kernel] as Kernel;
        check(name, fn, options, acc);
      }
    });
  }

  const wasm: { options: GemmOptions; acc: Accumulator }[] = accumulators().map((acc) => ({ acc, options: { a: "f32", b: "f32", schedule: WASM_GEMM_SCHEDULE, accumulator: acc, name: `gemm_${accumulators().indexOf(acc)}` } }));
  wasm.forEach((w, i) => (w.options = { ...w.options, name: `gemm_${i}` }));
  let kernels: Readonly<Record<string, Kernel>> = {};
  beforeAll(async () => {
    kernels = (await loadWasm({ kernels: wasm.flatMap((w) => lowerGemm(w.options)) })) as unknown as Record<string, Kernel>;
  });
  for (const w of wasm) {
    it(`wasm: ${accumulatorLabel(w.acc)}`, () => check("wasm", kernels[w.options.name!], w.options, w.acc));
  }

  it("an e4m3 × e4m3 GEMM decodes its codes and sums them in the declared accumulator", () => {
    const e4m3 = builtin("e4m3");
    const acc: Accumulator = { format: builtin("bf16"), compensated: false, promoteEvery: 8 };
    const options: GemmOptions = { a: e4m3, b: e4m3, schedule: SMALL, accumulator: acc };
    const fn = loadJs({ kernels: lowerGemm(options) })[describeGemm(options).kernel] as Kernel;
    const [m, n, k] = [4, 5, 30];
    const codes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => ((i * 37 + seed) % 0x7e) | ((i * 7) % 2 ? 0x80 : 0));
    const a = codes(m * k, 3);
    const b = codes(k * n, 11);
    const decode = (table: Uint8Array) => Float32Array.from(table, (c) => decodeE4m3(c));
    const c = new Float32Array(m * n).fill(Number.NaN);
    const got = run(fn, options, { m, n, k, transA: false, transB: false, alpha: 1, beta: 0, a: a as unknown as Float32Array, b: b as unknown as Float32Array, c });
    const want = gemmAccumulate(acc, { a: decode(a), b: decode(b), c, m, n, k, transA: false, transB: false, alpha: 1, beta: 0 });
    expect(canonicalBits(got)).toEqual(canonicalBits(want));
  });

  it("on f32 operands the wasm kernel is the row kernel, its sums loop 4 outputs at a time", async () => {
    const assembler = await createWasmAssembler();
    for (const acc of accumulators()) {
      const options: GemmOptions = { a: "f32", b: "f32", schedule: WASM_GEMM_SCHEDULE, accumulator: acc };
      const compiled = compileWasmWith(assembler, { kernels: lowerGemm(options) });
      expect(describeGemm(options).scratch.map((s) => s.name), accumulatorLabel(acc)).toContain("sums");
      // The row kernel's loops over j: zeroing, the sums, (promotion,) the merge into C — every one vectorized.
      const loops = compiled.loops.filter((l) => /^(j|cj)_/.test(l.index));
      expect(loops.length, accumulatorLabel(acc)).toBeGreaterThanOrEqual(3);
      expect(loops.filter((l) => !l.vectorized), accumulatorLabel(acc)).toEqual([]);
    }
  });
});

/** E4M3 (OCP, no infinities, NaN only at S.1111.111) decoded from its code: the codes used here are all finite. */
function decodeE4m3(code: number): number {
  const sign = code & 0x80 ? -1 : 1;
  const e = (code >> 3) & 0xf;
  const m = code & 7;
  return sign * (e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7));
}
