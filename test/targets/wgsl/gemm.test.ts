/**
 * The WGSL GEMM (src/targets/wgsl/gemm.ts) on a real WebGPU device (Mesa lavapipe in CI), run by
 * the generic runner with every problem of an operand pair batched into one submission:
 *
 * - real-valued pairs (f32, every 8-bit family, bf16, fp16, and codes × f32 both ways): within
 *   the f32 accumulator's stated bound γ_{k+2}·S of the float64 reference on decoded operands
 *   (test/codegen/gemm.test.ts states it), and — since the shader sums in order of k in one k
 *   block like the IR GEMM with an f32 accumulator, and this device neither fuses nor flushes
 *   (ops.test.ts) — bit for bit that IR GEMM run by the JS target on the decoded values;
 * - integer pairs (int8, int4, mixed): exact i32 accumulation, bit for bit the integer
 *   reference, past 2^24 too;
 * - shapes of one element, odd sizes, partial and several 64×64 tiles in each dimension, a long
 *   k; all four transposes; α/β with β = 0 ignoring NaNs in C; α = 0 and k = 0 not reading A, B;
 * - NaN/Inf codes reach exactly their row (the zero padding of edge tiles does not leak), the
 *   workgroups stride over tiles when fewer are dispatched, and the compiled data is what a
 *   generic runner needs (tiled launch as plain data, packed codes, tables, hash).
 */
import { describe, expect, it } from "vitest";
import { describeGemm, lowerGemm } from "../../../src/codegen/lower/gemm/gemm.ts";
import { GemmUnsupportedError } from "../../../src/codegen/lower/gemm/operand.ts";
import { convert, f32, kernel } from "../../../src/codegen/ir/build.ts";
import { decode, encode } from "../../../src/dsl/semantics/scalar.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { dispatches } from "../../../src/targets/wgsl/launch.ts";
import { compileWgslGemm, WGSL_GEMM_ALGORITHM, type CompiledWgslGemm } from "../../../src/targets/wgsl/gemm.ts";
import { renderGemmFunctions } from "../../../src/targets/wgsl/gemm-functions.ts";
import { renderWgslFunction } from "../../../src/targets/wgsl/render.ts";
import { instantiateWgslGemm, wgslGemmCall } from "../../../src/targets/wgsl/gemm-run.ts";
import { runWgslCalls } from "../../../src/targets/wgsl/runner.ts";
import {
  argumentsFor, bits, boundViolation, describeProblem, inputs, integerReference, op, problems, type Buffer, type Inputs, type Problem,
} from "../../codegen/gemm-support.ts";
import { builtin } from "../../support/formats.ts";
import { INT_PAIRS, REAL_PAIRS } from "../wasm/gemm-check.ts";
import { useWgslDevice } from "./gpu.ts";

const device = useWgslDevice();

/** m × n × k: one element, odd sizes, 2×3 tiles with a partial k step, a long k, 3×3 tiles (2 full in each dimension). */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [7, 13, 5],
  [65, 129, 33],
  [64, 3, 129],
  [129, 130, 20],
];

interface Run {
  readonly p: Problem;
  readonly x: Inputs;
  readonly c: Float32Array;
}

/** Runs the problems in one submission; `maxWorkgroups` caps the workgroups per dimension. */
async function runAll(gemm: CompiledWgslGemm, list: readonly { p: Problem; x: Inputs }[], maxWorkgroups?: number): Promise<Run[]> {
  const runs = list.map(({ p, x }) => ({ p, x, c: x.c.slice() }));
  const calls = runs.map(({ p, x, c }) => {
    const args: Record<string, Buffer | number> = { a: x.a.data, b: x.b.data, c, ...p };
    return wgslGemmCall(gemm, gemm.params.map((param) => args[param.name]));
  });
  await runWgslCalls(await device(), calls, undefined, maxWorkgroups);
  return runs;
}

/**
 * The IR GEMM with the shader's arithmetic on the JS target (f32 accumulation in order of k, the
 * whole depth one k block; packing only changes where elements are decoded), on the operands'
 * decoded values as f32 — exact for every format here, and what the real-valued path multiplies.
 * One kernel for every pair, loaded once.
 */
const irGemm = (() => {
  const options = { a: "f32", b: "f32", schedule: { ...WGSL_GEMM_ALGORITHM, pack: true } } as const;
  const desc = describeGemm(options);
  const fn = loadJs({ kernels: lowerGemm(options) })[desc.kernel];
  const decoded = (values: Float64Array) => ({ data: Float32Array.from(values), values });
  return (p: Problem, x: Inputs): Float32Array => {
    const c = x.c.slice();
    const args = argumentsFor(desc, p, { a: decoded(x.a.values), b: decoded(x.b.values), c: x.c }, c);
    fn(...desc.params.map((param) => args[param.name]));
    return c;
  };
})();

/** Every problem over SHAPES; inputs() depends on a problem only through m, n, k and whether β = 0, so one draw serves the four transposes. */
function batch(an: string, bn: string, seed: number): { p: Problem; x: Inputs }[] {
  const draws = new Map<string, Inputs>();
  return [...problems(SHAPES)].map((p) => {
    const key = `${p.m} ${p.n} ${p.k} ${p.beta === 0}`;
    let x = draws.get(key);
    if (x === undefined) draws.set(key, (x = inputs(op(an), op(bn), p, seed + draws.size)));
    return { p, x };
  });
}

describe("WGSL GEMM, real-valued operands: f32 accumulation within the stated bound, the IR GEMM's bits", () => {
  for (const [an, bn] of REAL_PAIRS) {
    it(`${an} × ${bn}`, async () => {
      const gemm = compileWgslGemm({ a: op(an), b: op(bn) });
      expect(gemm.gemm.accumulation).toBe("f32");
      for (const { p, x, c } of await runAll(gemm, batch(an, bn, 1))) {
        const where = `${an} × ${bn} ${describeProblem(p)}`;
        expect(boundViolation(p, x, c, WGSL_GEMM_ALGORITHM), where).toBeNull();
        expect(bits(c), `${where}: the IR GEMM (JS target)`).toEqual(bits(irGemm(p, x)));
      }
    });
  }
});

describe("WGSL GEMM, integer operands: exact i32 accumulation", () => {
  for (const [an, bn] of INT_PAIRS) {
    it(`${an} × ${bn}: bit for bit the exact integer reference`, async () => {
      const gemm = compileWgslGemm({ a: op(an), b: op(bn) });
      expect(gemm.gemm.accumulation).toBe("i32");
      for (const { p, x, c } of await runAll(gemm, batch(an, bn, 100))) expect(bits(c), `${an} × ${bn} ${describeProblem(p)}`).toEqual(bits(integerReference(p, x)));
    });
  }

  it("is exact past 2^24 (int8, k = 1100, sums near −2^24·1.07), and refuses k > maxK", async () => {
    const int8 = builtin("int8");
    const gemm = compileWgslGemm({ a: int8, b: int8 });
    const p: Problem = { m: 5, n: 9, k: 1100, transA: 0, transB: 1, alpha: 1, beta: 0 };
    const a = new Uint8Array(p.m * p.k).fill(127);
    const b = new Uint8Array(p.n * p.k).fill(0x80); // −128
    a[0] = 1;
    const values = (codes: Uint8Array) => Float64Array.from(codes, (code) => decode(int8, code));
    const x: Inputs = { a: { data: a, values: values(a) }, b: { data: b, values: values(b) }, c: new Float32Array(p.m * p.n) };
    const [run] = await runAll(gemm, [{ p, x }]);
    expect(bits(run.c)).toEqual(bits(integerReference(p, x)));
    expect(run.c[0]).toBe(Math.fround(-128 - 1099 * 127 * 128));
    expect(gemm.gemm.maxK).toBe(2 ** 17 - 1);
    expect(() => wgslGemmCall(gemm, [a, b, x.c, 5, 9, 2 ** 17, 0, 1, 1, 0])).toThrow(/k = 131072 exceeds 131071/);
  });
});

describe("WGSL GEMM: edges and the launch", () => {
  it("NaN and infinite codes reach exactly their row of C (zero padding of edge tiles does not leak)", async () => {
    for (const [name, special, expected] of [["e4m3", 0x7f, Number.NaN], ["e5m2", 0x7c, Number.POSITIVE_INFINITY]] as const) {
      const f = builtin(name);
      const one = encode(f, 1);
      const gemm = compileWgslGemm({ a: f, b: f });
      const p: Problem = { m: 5, n: 11, k: 3, transA: 0, transB: 0, alpha: 1, beta: 0 };
      const a = new Uint8Array(p.m * p.k).fill(one);
      a[4 * p.k + 1] = special;
      const b = new Uint8Array(p.k * p.n).fill(one);
      const values = (codes: Uint8Array) => Float64Array.from(codes, (code) => decode(f, code));
      const [run] = await runAll(gemm, [{ p, x: { a: { data: a, values: values(a) }, b: { data: b, values: values(b) }, c: new Float32Array(p.m * p.n) } }]);
      for (let i = 0; i < p.m; i++) for (let j = 0; j < p.n; j++) expect(run.c[i * p.n + j], `${name} C[${i},${j}]`).toBe(i === 4 ? expected : 3);
    }
  });

  it("α = 0 and k = 0 give β·C without reading A or B (0 where β = 0, NaNs in C ignored)", async () => {
    const gemm = compileWgslGemm({ a: "f32", b: "f32" });
    const list = [
      { m: 3, n: 70, k: 4, alpha: 0, beta: 0.5 },
      { m: 3, n: 70, k: 4, alpha: 0, beta: 0 },
      { m: 66, n: 5, k: 0, alpha: 2, beta: -3 },
      { m: 66, n: 5, k: 0, alpha: 2, beta: 0 },
    ].map((s, i) => {
      const p: Problem = { ...s, transA: 0, transB: 0 };
      const x = inputs("f32", "f32", { ...p, beta: 1 }, 500 + i); // C finite …
      x.a.data.fill(Number.NaN); // … A and B must not be read
      x.b.data.fill(Number.NaN);
      if (p.beta === 0) x.c.fill(Number.NaN);
      return { p, x };
    });
    for (const { p, x, c } of await runAll(gemm, list)) {
      const expected = Float32Array.from(x.c, (v) => (p.beta === 0 ? 0 : Math.fround(p.beta * v)));
      expect(bits(c), describeProblem(p)).toEqual(bits(expected));
    }
  });

  it("workgroups stride over the tiles when fewer are dispatched (1 × 1 workgroup for 3 × 3 tiles)", async () => {
    for (const [an, bn] of [["f32", "e4m3"], ["int8", "int4"]] as const) {
      const gemm = compileWgslGemm({ a: op(an), b: op(bn) });
      const list = batch(an, bn, 700).filter(({ p }) => p.m === 129);
      for (const { p, x, c } of await runAll(gemm, list, 1)) {
        const expected = gemm.gemm.accumulation === "i32" ? integerReference(p, x) : irGemm(p, x);
        expect(bits(c), `${an} × ${bn} ${describeProblem(p)}`).toEqual(bits(expected));
      }
    }
  });

  it("instantiateWgslGemm: the JS target's positional convention, C read back", async () => {
    const gemm = await instantiateWgslGemm(compileWgslGemm({ a: "f32", b: "f32" }), await device());
    const c = new Float32Array(4);
    await gemm(Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(1, 0, 0, 1, 1, 1), c, 2, 2, 3, 0, 0, 1, 0);
    expect(Array.from(c)).toEqual([4, 5, 10, 11]);
  });
});

describe("WGSL GEMM: the compiled data", () => {
  it("is a CompiledWgslKernel a generic runner runs: params, packed codes, bindings, a tiled launch as plain data", () => {
    const gemm = compileWgslGemm({ a: builtin("e4m3"), b: builtin("bf16") });
    expect(gemm.params.map((p) => p.name)).toEqual(["a", "b", "c", "m", "n", "k", "transA", "transB", "alpha", "beta"]);
    expect(gemm.packed).toEqual({ a: 4, b: 2 });
    expect(gemm.scratch).toEqual([]);
    const [pass] = gemm.passes;
    expect(pass.kernel.params.filter((p) => p.kind === "buffer").map((p) => p.kind === "buffer" && p.storage)).toEqual(["u32", "u32", "f32"]);
    expect(pass.launch).toEqual({ kind: "tiles", workgroupSize: [16, 16], tile: [64, 64], extents: ["n", "m"] });
    expect(JSON.parse(JSON.stringify(pass.launch))).toEqual(pass.launch);
    expect(dispatches(pass.launch, gemm.params, pass.kernel.tables, { m: 65, n: 129 })).toEqual([{ workgroupSize: [16, 16], workgroups: [3, 2], scalars: {} }]);
    expect(dispatches(pass.launch, gemm.params, pass.kernel.tables, { m: 0, n: 129 })).toEqual([]);
    expect(dispatches(pass.launch, gemm.params, pass.kernel.tables, { m: 64 * 70000, n: 1 })[0].workgroups).toEqual([1, 65535]);
    expect(pass.hash).toBe(compileWgslGemm({ a: builtin("e4m3"), b: builtin("bf16") }).passes[0].hash);
    expect(pass.hash).not.toBe(compileWgslGemm({ a: builtin("e4m3"), b: builtin("fp16") }).passes[0].hash);
  });

  it("decodes ≤ 8-bit codes through tables copied into workgroup memory, wider ones through the rendered IR decode; no f64", () => {
    const byte = compileWgslGemm({ a: builtin("e4m3"), b: builtin("posit8") });
    expect(byte.passes[0].kernel.tables.map((t) => t.values.length)).toEqual([256, 256]);
    expect(byte.passes[0].wgsl).toMatch(/var<workgroup> nf_tables: array<u32, 512>;/);
    expect(byte.passes[0].wgsl).toMatch(/nf_tables\[nf_t\] = nf_table_words\[nf_t\]/);
    const same = compileWgslGemm({ a: builtin("e4m3"), b: builtin("e4m3") });
    expect(same.passes[0].kernel.tables).toHaveLength(1);
    const wide = compileWgslGemm({ a: builtin("fp16"), b: "f32" });
    expect(wide.passes[0].kernel.tables).toEqual([]);
    expect(wide.passes[0].wgsl).not.toMatch(/nf_tables|nf_table_words/);
    expect(wide.passes[0].wgsl).toMatch(/fn nf_operand_a\(v_index: i32, v_row: i32, v_col: i32\) -> f32 \{[^}]*v_a\[\(v_index >> 1u\)\]/);
    const integer = compileWgslGemm({ a: builtin("int8"), b: builtin("int4") });
    expect(integer.passes[0].wgsl).toMatch(/var<workgroup> nf_tile_a: array<vec4<i32>, 256>;/);
    expect(integer.passes[0].wgsl).toMatch(/fn nf_operand_b\(v_index: i32, v_row: i32, v_col: i32\) -> i32/);
    for (const g of [byte, wide, integer]) expect(g.passes[0].wgsl).not.toMatch(/f64/);
  });

  it("rejects f64 in a function it would render, and scaled operands with GemmUnsupportedError", () => {
    const wide = kernel("uses_f64", [{ kind: "buffer", name: "out", storage: "f32", access: "write" }], (b) => b.store("out", { kind: "const", type: "i32", value: 0 }, convert("f32.fromF64", convert("f64.fromF32", f32(1)))));
    expect(() => renderGemmFunctions([{ name: "nf_wide", kernel: wide, args: [] }])).toThrow(/uses_f64 uses f64 values, which the WGSL target does not have/);
    expect(() => renderWgslFunction("nf_wide", wide, [])).toThrow(/WGSL has no f64/); // the renderer itself, past the capability check
    for (const scaled of ["mxfp8", "s2fp8", "shiftquant4"]) expect(() => compileWgslGemm({ a: builtin(scaled), b: "f32" }), scaled).toThrow(GemmUnsupportedError);
  });
});
