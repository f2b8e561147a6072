/**
 * GEMM lowering: C ← α·op(A)·op(B) + β·C for f32 and format operands, rendered by the JS target
 * (and, for the f64 accumulator, by the wasm target) and run by the IR interpreter.
 *
 * Error bounds, with u = 2^−24, u' = 2^−53, γ_n = n·u/(1 − n·u), γ'_n the same with u', and
 * nb = ⌈k/kc⌉ k blocks; C_ref is computed in float64 on the DECODED operands (its own error,
 * k·2^−53·Σ|a||b|, is added to each bound), S = |α|·Σ_p |a_ip||b_pj| + |β||c_ij|:
 * - f32 accumulator: every product a·b goes through at most k + 2 roundings (its own multiply —
 *   exact for the ≤ 16-bit formats —, at most k − 1 additions across the k blocks, α, and the
 *   merge with β·C): |C − C_ref| ≤ γ_{k+2}·S + (k + 3)·2^−149·max(1, |α|) (products that underflow).
 * - f64 accumulator: products exact, at most k + 1 f64 roundings (sums, α, the merge) and one f32
 *   rounding per k block: |C − C_ref| ≤ ((1 + γ_nb)(1 + γ'_{k+1}) − 1)·S + nb·2^−150 (f32
 *   underflow). Where every f64 sum is exact (e4m3 operands: products are multiples of 2^−18
 *   below 2^18), C is bit for bit the exact merge of each k block rounded once to f32.
 *
 * Integer operands (both int formats) accumulate exactly in i32, so C equals, bit for bit,
 * the same epilogue applied to the exact integer sum: v = f32(Σ a·b)·2^scale, C = f32(α·v) + f32(β·c).
 */
import { describe, expect, it } from "vitest";
import { describeGemm, lowerGemm } from "../../src/codegen/lower/gemm/gemm.ts";
import { GemmUnsupportedError } from "../../src/codegen/lower/gemm/operand.ts";
import { checkGemmSchedule, JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE, type GemmSchedule } from "../../src/codegen/schedule.ts";
import { createWasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { builtin } from "../support/formats.ts";
import {
  aAt, argumentsFor, bAt, bits, boundViolation, describeProblem, generator, inputs, integerReference, label, normal, op, problems as problemsOf,
  runInterpreter, runJs, type Buffer, type Inputs, type Problem,
} from "./gemm-support.ts";

const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [7, 13, 5],
  [64, 3, 129],
  [33, 65, 17],
];
/** Small blocks so k blocks, m/n blocks and ragged edges all occur on the test shapes. */
const SMALL: GemmSchedule = { mr: 3, nr: 5, kc: 4, mc: 6, nc: 10, pack: true, accumulator: "f32" };
const withF32 = (s: GemmSchedule): GemmSchedule => ({ ...s, accumulator: "f32" });
const withF64 = (s: GemmSchedule): GemmSchedule => ({ ...s, accumulator: "f64" });
/** Both accumulators on each loop nest (the JS schedule itself accumulates in f64). */
const SCHEDULES: Readonly<Record<string, GemmSchedule>> = {
  js: JS_GEMM_SCHEDULE,
  "js, f32 accumulator": withF32(JS_GEMM_SCHEDULE),
  small: SMALL,
  "small, f64 accumulator": withF64(SMALL),
  "small unpacked": { ...SMALL, pack: false },
  "small unpacked, f64 accumulator": withF64({ ...SMALL, pack: false }),
};
const problems = (shapes: readonly (readonly [number, number, number])[] = SHAPES) => problemsOf(shapes);

const FLOAT_FORMATS = ["e4m3", "e5m2", "posit8", "fp16", "bf16"];
const INT_FORMATS = ["int8", "int4"];

/** Operand pairs: each format with itself, plus mixed pairs (f32 with codes, int with float). */
const PAIRS: readonly (readonly [string, string])[] = [
  ["f32", "f32"],
  ...FLOAT_FORMATS.map((f) => [f, f] as const),
  ["e4m3", "f32"],
  ["f32", "bf16"],
  ["int8", "e5m2"],
  ["e4m3", "e5m2"],
  ["posit8", "e4m3"],
  ["fp16", "int4"],
];
const INT_PAIRS: readonly (readonly [string, string])[] = [
  ["int8", "int8"],
  ["int4", "int4"],
  ["int8", "int4"],
];

describe("GEMM, f32 and f64 accumulators: within the stated bound of the float64 reference on decoded operands", () => {
  for (const [an, bn] of PAIRS) {
    for (const [scheduleName, schedule] of Object.entries(SCHEDULES)) {
      it(`${an} × ${bn}, ${scheduleName} schedule`, () => {
        const a = op(an);
        const b = op(bn);
        const options = { a, b, schedule };
        const desc = describeGemm(options);
        expect(desc.accumulation).toBe(schedule.accumulator);
        const kernels = lowerGemm(options);
        let seed = 1;
        for (const p of problems()) {
          const x = inputs(a, b, p, seed++);
          const c = runJs(kernels, desc, p, x);
          expect(boundViolation(p, x, c, schedule), `${label(a)} × ${label(b)} ${describeProblem(p)}`).toBeNull();
        }
      });
    }
  }
});

/**
 * The f64 accumulator's rounding, exactly: the merge of each k block, exact, rounded once to
 * f32. Valid where every f64 value along the way is exact: products of e4m3 (and int8) values
 * are multiples of 2^−18 below 2^18, C holds multiples of 2^−8, α and β are powers of two.
 */
function roundedPerBlock(p: Problem, x: Inputs, kc: number): Float32Array {
  const out = new Float32Array(p.m * p.n);
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      let c = x.c[i * p.n + j];
      for (let q0 = 0; q0 < p.k; q0 += kc) {
        let sum = 0;
        for (let q = q0; q < Math.min(p.k, q0 + kc); q++) sum += aAt(x, p, i, q) * bAt(x, p, q, j);
        const v = p.alpha * sum;
        c = Math.fround(q0 > 0 ? c + v : p.beta === 0 ? v : v + p.beta * c);
      }
      out[i * p.n + j] = c;
    }
  }
  return out;
}

describe("GEMM, f64 accumulator: one rounding to f32 per k block", () => {
  for (const [an, bn] of [["e4m3", "e4m3"], ["int8", "e4m3"]] as const) {
    it(`${an} × ${bn}: C is the exact merge of each k block rounded once (f32 accumulation is not)`, () => {
      const a = op(an);
      const b = op(bn);
      let f32Differs = 0;
      for (const schedule of [JS_GEMM_SCHEDULE, withF64(SMALL), withF64({ ...SMALL, pack: false })]) {
        const options = { a, b, schedule };
        const kernels = lowerGemm(options);
        const desc = describeGemm(options);
        const f32Options = { a, b, schedule: withF32(schedule) };
        const f32Kernels = lowerGemm(f32Options);
        let seed = 3000;
        for (const p of problems([[7, 13, 5], [64, 3, 129], [33, 65, 17]])) {
          const base = inputs(a, b, p, seed++);
          const random = generator(seed);
          const c = p.beta === 0 ? base.c : Float32Array.from(base.c, () => Math.round(normal(random) * 256) / 256);
          const x = { ...base, c };
          const expected = bits(roundedPerBlock(p, x, schedule.kc));
          expect(bits(runJs(kernels, desc, p, x)), `${an} × ${bn} ${describeProblem(p)} ${JSON.stringify(schedule)}`).toEqual(expected);
          const viaF32 = bits(runJs(f32Kernels, describeGemm(f32Options), p, x));
          f32Differs += viaF32.filter((v, i) => v !== expected[i]).length;
        }
      }
      expect(f32Differs).toBeGreaterThan(0);
    });
  }
});

describe("GEMM, integer operands: exact i32 accumulation", () => {
  for (const [an, bn] of INT_PAIRS) {
    for (const [scheduleName, schedule] of Object.entries(SCHEDULES)) {
      it(`${an} × ${bn}, ${scheduleName} schedule, bit-identical to the exact integer reference`, () => {
        const a = op(an);
        const b = op(bn);
        const options = { a, b, schedule };
        const desc = describeGemm(options);
        expect(desc.accumulation).toBe("i32");
        const kernels = lowerGemm(options);
        let seed = 100;
        for (const p of problems()) {
          const x = inputs(a, b, p, seed++);
          const c = runJs(kernels, desc, p, x);
          expect(bits(c), `${an} × ${bn} ${describeProblem(p)}`).toEqual(bits(integerReference(p, x)));
        }
      });
    }
  }

  it("states the exactness bound: int8 × int8 is exact for k < 2^17 (|a·b| ≤ 2^14, |Σ| < 2^31)", () => {
    expect(describeGemm({ a: builtin("int8"), b: builtin("int8"), schedule: JS_GEMM_SCHEDULE }).maxK).toBe(2 ** 17 - 1);
    expect(describeGemm({ a: builtin("int4"), b: builtin("int4"), schedule: JS_GEMM_SCHEDULE }).maxK).toBe(Math.floor((2 ** 31 - 1) / 64));
  });

  it("is exact where f32 accumulation is not: sums beyond 2^24 with a k-block carry", () => {
    const int8 = builtin("int8");
    const p: Problem = { m: 2, n: 3, k: 1100, transA: 0, transB: 1, alpha: 1, beta: 0 };
    // Every product is 127·127 or −128·−128 except a few of 1, so the sum is odd and above 2^24.
    const a = new Uint8Array(p.m * p.k).fill(127);
    const b = new Uint8Array(p.n * p.k).fill(127);
    a[0] = 1;
    b[0] = 1;
    const values = (codes: Uint8Array) => Float64Array.from(codes, (code) => decode(int8, code));
    const x: Inputs = { a: { data: a, values: values(a) }, b: { data: b, values: values(b) }, c: new Float32Array(p.m * p.n) };
    for (const schedule of [JS_GEMM_SCHEDULE, SMALL]) {
      const options = { a: int8, b: int8, schedule };
      const c = runJs(lowerGemm(options), describeGemm(options), p, x);
      expect(bits(c)).toEqual(bits(integerReference(p, x)));
      expect(c[0]).toBe(Math.fround(1 + 1099 * 127 * 127));
    }
  });
});

describe("GEMM: the IR interpreter and the rendered JS agree bit for bit", () => {
  const pairs = [...PAIRS, ...INT_PAIRS];
  for (const [an, bn] of pairs) {
    it(`${an} × ${bn}`, () => {
      const a = op(an);
      const b = op(bn);
      for (const schedule of Object.values(SCHEDULES)) {
        const options = { a, b, schedule };
        const desc = describeGemm(options);
        const kernels = lowerGemm(options);
        let seed = 1000;
        for (const p of problems([[1, 1, 1], [7, 13, 5]])) {
          const x = inputs(a, b, p, seed++);
          expect(bits(runInterpreter(kernels, desc, p, x)), `${an} × ${bn} ${describeProblem(p)} ${JSON.stringify(schedule)}`).toEqual(bits(runJs(kernels, desc, p, x)));
        }
      }
    });
  }
});

describe("GEMM: the schedule changes the loop nest, not the result", () => {
  it("tile sizes, m/n blocks and packing give bit-identical C for the same kc and accumulator", () => {
    const nests = [
      { mr: 1, nr: 1, kc: 8, mc: 1, nc: 1, pack: true },
      { mr: 4, nr: 4, kc: 8, mc: 64, nc: 512, pack: true },
      { mr: 2, nr: 8, kc: 8, mc: 6, nc: 16, pack: true },
      { mr: 3, nr: 5, kc: 8, mc: 9, nc: 25, pack: false },
      // The vector layout and an unrolled k loop (depth padded with zeros) compute the same C.
      { mr: 4, nr: 8, kc: 8, mc: 8, nc: 16, pack: true, vector: 4 },
      { mr: 3, nr: 4, kc: 8, mc: 6, nc: 12, pack: true, vector: 4, unroll: 4 },
    ] as const;
    for (const accumulator of ["f32", "f64"] as const) {
      const variants: GemmSchedule[] = nests.map((nest) => ({ ...nest, accumulator }));
      for (const [an, bn] of [["f32", "f32"], ["e4m3", "bf16"], ["int8", "int8"]] as const) {
        const a = op(an);
        const b = op(bn);
        let seed = 5000;
        for (const p of problems([[33, 65, 17], [5, 2, 30]])) {
          const x = inputs(a, b, p, seed++);
          const results = variants.map((schedule) => bits(runJs(lowerGemm({ a, b, schedule }), describeGemm({ a, b, schedule }), p, x)));
          for (const r of results.slice(1)) expect(r, `${an} × ${bn} ${accumulator} ${describeProblem(p)}`).toEqual(results[0]);
        }
      }
    }
  });

  it("NaN and infinite codes reach exactly their row of C (zero padding at the edges does not leak)", () => {
    for (const [name, special, expected] of [["e4m3", 0x7f, Number.NaN], ["e5m2", 0x7c, Number.POSITIVE_INFINITY]] as const) {
      const f = builtin(name);
      const one = encode(f, 1);
      for (const schedule of Object.values(SCHEDULES)) {
        const p: Problem = { m: 5, n: 7, k: 3, transA: 0, transB: 0, alpha: 1, beta: 0 };
        const a = new Uint8Array(p.m * p.k).fill(one);
        a[4 * p.k + 1] = special; // row 4, the last (edge) row of every tiling above
        const values = (codes: Uint8Array) => Float64Array.from(codes, (code) => decode(f, code));
        const b = new Uint8Array(p.k * p.n).fill(one);
        const x: Inputs = { a: { data: a, values: values(a) }, b: { data: b, values: values(b) }, c: new Float32Array(p.m * p.n) };
        const c = runJs(lowerGemm({ a: f, b: f, schedule }), describeGemm({ a: f, b: f, schedule }), p, x);
        for (let i = 0; i < p.m; i++) for (let j = 0; j < p.n; j++) expect(c[i * p.n + j], `${name} C[${i},${j}]`).toBe(i === 4 ? expected : 3);
      }
    }
  });

  it("α = 0 or k = 0 gives β·C without reading A or B", () => {
    const options = { a: "f32" as const, b: "f32" as const, schedule: JS_GEMM_SCHEDULE };
    const desc = describeGemm(options);
    const fn = loadJs({ kernels: lowerGemm(options) }).gemm;
    const a = new Float32Array([Number.NaN, Number.NaN]);
    const c = new Float32Array([1, 2, 3, 4]);
    const args: Record<string, Buffer | number> = { a, b: a, c, m: 2, n: 2, k: 1, transA: 0, transB: 0, alpha: 0, beta: 0.5, packA: new Float32Array(8), packB: new Float32Array(8) };
    fn(...desc.params.map((param) => args[param.name]));
    expect([...c]).toEqual([0.5, 1, 1.5, 2]);
    const empty: Record<string, Buffer | number> = { ...args, k: 0, alpha: 1, beta: 0 };
    fn(...desc.params.map((param) => empty[param.name]));
    expect([...c]).toEqual([0, 0, 0, 0]);
  });
});

describe("GEMM: operands and schedules that cannot be lowered are clear compile errors", () => {
  for (const name of ["mxfp8", "mxint8", "s2fp8", "shiftquant4"]) {
    it(`${name} (tensor scaling) is not yet supported`, () => {
      const format = builtin(name);
      const lower = () => lowerGemm({ a: "f32", b: format, schedule: JS_GEMM_SCHEDULE });
      expect(lower).toThrow(GemmUnsupportedError);
      expect(lower).toThrow(new RegExp(`operand B \\(${name}\\): tensor scaling "${format.scaling.kind}".*not yet supported`));
    });
  }

  it("rejects malformed schedules, saying which field", () => {
    expect(() => checkGemmSchedule({ ...JS_GEMM_SCHEDULE, mc: 63 })).toThrow(/mc \(63\) must be a multiple of mr \(4\)/);
    expect(() => checkGemmSchedule({ ...JS_GEMM_SCHEDULE, kc: 0 })).toThrow(/kc must be an integer/);
    expect(() => checkGemmSchedule({ ...JS_GEMM_SCHEDULE, mr: 16, nr: 16, mc: 64, nc: 512 })).toThrow(/more than 64 accumulators/);
    expect(() => checkGemmSchedule({ ...JS_GEMM_SCHEDULE, accumulator: "f16" as "f32" })).toThrow(/accumulator must be "f32" or "f64", got "f16"/);
    expect(() => checkGemmSchedule({ ...WASM_GEMM_SCHEDULE, nr: 6, nc: 516 })).toThrow(/with vector 4, nr \(6\) must be a multiple of 4/);
    expect(() => checkGemmSchedule({ ...WASM_GEMM_SCHEDULE, pack: false })).toThrow(/vector 4 needs pack: true/);
    expect(() => checkGemmSchedule({ ...JS_GEMM_SCHEDULE, unroll: 3 as 2 })).toThrow(/unroll must be 1, 2, 4 or 8, got 3/);
    expect(() => checkGemmSchedule({ ...JS_GEMM_SCHEDULE, unroll: 2, pack: false })).toThrow(/unroll 2 needs pack: true/);
    expect(() => checkGemmSchedule({ ...JS_GEMM_SCHEDULE, unroll: 8, kc: 20 })).toThrow(/kc \(20\) must be a multiple of unroll \(8\)/);
    expect(checkGemmSchedule(WASM_GEMM_SCHEDULE)).toBe(WASM_GEMM_SCHEDULE);
  });
});

describe("GEMM, f64 accumulator on the wasm target", () => {
  it("agrees with the interpreter bit for bit; the f64 micro-kernel loop stays scalar, with the reason", async () => {
    const assembler = await createWasmAssembler();
    for (const [an, bn] of [["f32", "f32"], ["e4m3", "bf16"], ["posit8", "e4m3"]] as const) {
      const a = op(an);
      const b = op(bn);
      for (const schedule of [JS_GEMM_SCHEDULE, withF64(SMALL), withF64({ ...SMALL, pack: false })]) {
        const options = { a, b, schedule };
        const desc = describeGemm(options);
        const kernels = lowerGemm(options);
        const compiled = compileWasmWith(assembler, { kernels });
        expect(compiled.wat).toMatch(/\(local \$acc_\d+ f64\)/);
        expect(compiled.wat).toMatch(/f64\.promote_f32/);
        expect(compiled.wat).toMatch(/f32\.demote_f64/);
        expect(compiled.loops.some((l) => !l.vectorized && l.reason?.startsWith("f64 values"))).toBe(true);
        const fn = instantiateWasm(compiled).kernels[desc.kernel];
        let seed = 7000;
        for (const p of problems([[1, 1, 1], [7, 13, 5], [33, 65, 17]])) {
          const x = inputs(a, b, p, seed++);
          const c = x.c.slice();
          const args = argumentsFor(desc, p, x, c);
          fn(...desc.params.map((param) => args[param.name]));
          expect(bits(c), `${an} × ${bn} ${describeProblem(p)} ${JSON.stringify(schedule)}`).toEqual(bits(runInterpreter(kernels, desc, p, x)));
        }
      }
    }
  });
});
