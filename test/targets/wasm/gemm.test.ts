/**
 * The wasm GEMM with its own schedule (WASM_GEMM_SCHEDULE: 4×8 tile, vector 4): the superword
 * pass turns the register tile into f32x4 (i32x4 for integer operands) accumulators fed by
 * splat(A) × vector(B), and packing and the C merge into vector loads and stores.
 *
 * - Plain SIMD (f32x4.mul + f32x4.add, unfused): each lane does exactly the scalar kernel's
 *   arithmetic, so C is bit for bit the interpreter's (and the JS target's) result for the same
 *   kernel, and the same as any other f32-accumulating schedule with the same kc; within the
 *   f32 bound γ_{k+2}·S (see test/codegen/gemm.test.ts) of the float64 reference on decoded
 *   operands for every format family.
 * - Relaxed SIMD (f32x4.relaxed_madd, fused or not as the engine likes): within the same bound,
 *   since fusing only removes roundings. Run in a child process with
 *   --experimental-wasm-relaxed-simd unless this engine validates relaxed SIMD already.
 * - Integer operands: exact i32 accumulation, bit for bit the exact integer reference.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { describeGemm, lowerGemm } from "../../../src/codegen/lower/gemm/gemm.ts";
import { JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE } from "../../../src/codegen/schedule.ts";
import { createWasmAssembler, engineHasRelaxedSimd, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith } from "../../../src/targets/wasm/load.ts";
import { wasmTarget } from "../../../src/targets/wasm/index.ts";
import { compileFormat } from "../../../src/codegen/compile.ts";
import { decode, encode } from "../../../src/dsl/semantics/scalar.ts";
import {
  bits, boundViolation, describeProblem, inputs, integerReference, op, problems, runInterpreter, runJs, type Inputs, type Problem,
} from "../../codegen/gemm-support.ts";
import { builtin } from "../../support/formats.ts";
import { checkAll, compileGemm, INT_PAIRS, REAL_PAIRS, runWasm, SMALL_VECTOR, VECTOR_SCHEDULES, WASM_SHAPES, type CheckSummary } from "./gemm-check.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

describe("wasm GEMM, plain SIMD: within the f32 bound of the float64 reference, bit-identical to the JS target on the same kernel", () => {
  for (const [scheduleName, schedule] of Object.entries(VECTOR_SCHEDULES)) {
    for (const [an, bn] of REAL_PAIRS) {
      it(`${an} × ${bn}, ${scheduleName} schedule`, () => {
        const g = compileGemm(assembler, an, bn, schedule, false);
        expect(g.compiled.relaxed).toBe(false);
        expect(g.desc.accumulation).toBe("f32");
        let seed = 1;
        for (const p of problems(WASM_SHAPES)) {
          const x = inputs(op(an), op(bn), p, seed++);
          const c = runWasm(g, p, x);
          expect(boundViolation(p, x, c, schedule), `${an} × ${bn} ${describeProblem(p)}`).toBeNull();
          expect(bits(c), `${an} × ${bn} ${describeProblem(p)}: JS target`).toEqual(bits(runJs(g.kernels, g.desc, p, x)));
        }
      });
    }
  }
});

describe("wasm GEMM, integer operands: i32x4 accumulation, exact", () => {
  for (const [scheduleName, schedule] of Object.entries(VECTOR_SCHEDULES)) {
    for (const [an, bn] of INT_PAIRS) {
      it(`${an} × ${bn}, ${scheduleName} schedule: bit-identical to the exact integer reference`, () => {
        const g = compileGemm(assembler, an, bn, schedule, false);
        expect(g.desc.accumulation).toBe("i32");
        expect(g.compiled.wat).toMatch(/i32x4\.dot_i16x8_s/);
        let seed = 100;
        for (const p of problems(WASM_SHAPES)) {
          const x = inputs(op(an), op(bn), p, seed++);
          expect(bits(runWasm(g, p, x)), `${an} × ${bn} ${describeProblem(p)}`).toEqual(bits(integerReference(p, x)));
        }
      });
    }
  }

  it("is exact past 2^24 with k blocks carried (int8, k = 1100)", () => {
    const int8 = builtin("int8");
    const p: Problem = { m: 5, n: 9, k: 1100, transA: 0, transB: 1, alpha: 1, beta: 0 };
    const a = new Uint8Array(p.m * p.k).fill(127);
    const b = new Uint8Array(p.n * p.k).fill(0x80); // −128
    a[0] = 1;
    const values = (codes: Uint8Array) => Float64Array.from(codes, (code) => decode(int8, code));
    const x: Inputs = { a: { data: a, values: values(a) }, b: { data: b, values: values(b) }, c: new Float32Array(p.m * p.n) };
    for (const schedule of [WASM_GEMM_SCHEDULE, SMALL_VECTOR]) {
      const c = runWasm(compileGemm(assembler, "int8", "int8", schedule, false), p, x);
      expect(bits(c)).toEqual(bits(integerReference(p, x)));
      expect(c[0]).toBe(Math.fround(-128 - 1099 * 127 * 128));
    }
  });
});

describe("wasm GEMM: the executable spec agrees", () => {
  it("the interpreter computes the same bits as the plain SIMD kernel (same kernel IR)", () => {
    for (const [an, bn] of [["f32", "f32"], ["e4m3", "bf16"], ["posit8", "posit8"], ["int8", "int8"]] as const) {
      for (const schedule of Object.values(VECTOR_SCHEDULES)) {
        const g = compileGemm(assembler, an, bn, schedule, false);
        let seed = 2000;
        for (const p of problems([[1, 1, 1], [7, 13, 5], [9, 17, 19]])) {
          const x = inputs(op(an), op(bn), p, seed++);
          expect(bits(runWasm(g, p, x)), `${an} × ${bn} ${describeProblem(p)} ${JSON.stringify(schedule)}`).toEqual(bits(runInterpreter(g.kernels, g.desc, p, x)));
        }
      }
    }
  });

  it("the JS target with its own 4×4 loop nest, f32 accumulator and the same kc gives the same bits", () => {
    for (const [an, bn] of [["f32", "f32"], ["e4m3", "e4m3"], ["fp16", "int8"], ["int8", "int4"]] as const) {
      const a = op(an);
      const b = op(bn);
      const jsSchedule = { ...JS_GEMM_SCHEDULE, accumulator: "f32" as const, kc: WASM_GEMM_SCHEDULE.kc };
      const js = { kernels: lowerGemm({ a, b, schedule: jsSchedule }), desc: describeGemm({ a, b, schedule: jsSchedule }) };
      const g = compileGemm(assembler, an, bn, WASM_GEMM_SCHEDULE, false);
      let seed = 3000;
      for (const p of problems([[65, 129, 33], [5, 9, 300]])) {
        const x = inputs(a, b, p, seed++);
        expect(bits(runWasm(g, p, x)), `${an} × ${bn} ${describeProblem(p)}`).toEqual(bits(runJs(js.kernels, js.desc, p, x)));
      }
    }
  });

  it("NaN and infinite codes reach exactly their row of C (zero padding at the edges does not leak)", () => {
    for (const [name, special, expected] of [["e4m3", 0x7f, Number.NaN], ["e5m2", 0x7c, Number.POSITIVE_INFINITY]] as const) {
      const f = builtin(name);
      const one = encode(f, 1);
      for (const schedule of Object.values(VECTOR_SCHEDULES)) {
        const g = compileGemm(assembler, name, name, schedule, false);
        const p: Problem = { m: 5, n: 11, k: 3, transA: 0, transB: 0, alpha: 1, beta: 0 };
        const a = new Uint8Array(p.m * p.k).fill(one);
        a[4 * p.k + 1] = special;
        const b = new Uint8Array(p.k * p.n).fill(one);
        const values = (codes: Uint8Array) => Float64Array.from(codes, (code) => decode(f, code));
        const c = runWasm(g, p, { a: { data: a, values: values(a) }, b: { data: b, values: values(b) }, c: new Float32Array(p.m * p.n) });
        for (let i = 0; i < p.m; i++) for (let j = 0; j < p.n; j++) expect(c[i * p.n + j], `${name} C[${i},${j}]`).toBe(i === 4 ? expected : 3);
      }
    }
  });
});

describe("wasm GEMM kernel shape", () => {
  it("f32: 8 f32x4 accumulators fed by load-and-splat of A × vector loads of B, unfused; vector packing and merge", () => {
    const g = compileGemm(assembler, "f32", "f32", WASM_GEMM_SCHEDULE, false);
    const report = g.compiled.superword.find((r) => r.kernel === g.desc.kernel);
    expect(report?.accumulators).toBe(8);
    expect(report?.fused).toBe(0);
    expect(report?.stores).toBeGreaterThanOrEqual(8); // 2 C merge groups per row, packing of A and B
    const loop = g.compiled.wat.slice(g.compiled.wat.indexOf("v128.load32_splat"));
    expect(loop).toMatch(/v128\.load32_splat align=4/);
    expect(loop).toMatch(/v128\.load offset=16 align=4/); // the second vector of the B sliver
    expect(g.compiled.wat).toMatch(/f32x4\.mul/);
    expect(g.compiled.wat).not.toMatch(/relaxed/);
  });

  it("relaxed: the same kernel with f32x4.relaxed_madd, assembled whether or not this engine validates it", () => {
    const g = compileWasmWith(assembler, { kernels: lowerGemm({ a: "f32", b: "f32", schedule: WASM_GEMM_SCHEDULE }) }, { relaxed: true });
    expect(g.relaxed).toBe(true);
    expect(g.wat.match(/f32x4\.relaxed_madd/g)?.length).toBe(8);
    expect(g.superword[0].fused).toBe(8);
    expect(WebAssembly.validate(g.wasm)).toBe(engineHasRelaxedSimd(assembler));
  });
});

describe("wasm GEMM, relaxed SIMD (f32x4.relaxed_madd)", () => {
  it("stays within the f32 bound for every pair and schedule, integers exact (in a process whose engine validates relaxed SIMD)", () => {
    let result: { engine: boolean; summary: CheckSummary | null };
    if (engineHasRelaxedSimd(assembler)) {
      result = { engine: true, summary: checkAll(assembler, true) };
    } else {
      const child = fileURLToPath(new URL("./gemm-relaxed-child.ts", import.meta.url));
      const run = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", "--import", "tsx", child], { encoding: "utf8", timeout: 300_000 });
      expect(run.status, run.stderr).toBe(0);
      result = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "null");
    }
    expect(result.engine).toBe(true);
    const s = result.summary;
    expect(s).not.toBeNull();
    if (s === null) return;
    expect(s.failures).toEqual([]);
    const kernels = Object.keys(VECTOR_SCHEDULES).length * (REAL_PAIRS.length + INT_PAIRS.length);
    expect(s.checked).toBe(kernels * [...problems(WASM_SHAPES)].length);
    // Every real kernel fuses its accumulators; integer kernels have no f32 multiply-add.
    expect(s.relaxedKernels).toBe(Object.keys(VECTOR_SCHEDULES).length * REAL_PAIRS.length);
    expect(s.fusedGroups).toBeGreaterThan(0);
  });
});

describe("wasm target in kernel packages", () => {
  it("lays GEMMs out with WASM_GEMM_SCHEDULE and ships relaxed, SIMD and scalar modules, in the order the loader tries them", async () => {
    expect(wasmTarget.gemmSchedule).toBe(WASM_GEMM_SCHEDULE);
    const compiled = compileFormat(builtin("e4m3"), wasmTarget.gemmSchedule);
    const { files } = await wasmTarget.files(compiled);
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["wasm/kernels-relaxed.wat", "wasm/kernels-relaxed.wasm", "wasm/kernels.wasm", "wasm/kernels-scalar.wasm"]));
    const binary = String(files.find((f) => f.path === "wasm/binary.js")?.contents);
    const modules = JSON.parse(binary.slice(binary.indexOf("{"), binary.indexOf(";\n"))) as Record<string, { wasm: string }>;
    expect(Object.keys(modules)).toEqual(["relaxed", "simd", "scalar"]);
    const bytes = (name: string) => new Uint8Array(Buffer.from(modules[name].wasm, "base64"));
    expect(WebAssembly.validate(bytes("relaxed"))).toBe(engineHasRelaxedSimd(assembler));
    expect(WebAssembly.validate(bytes("simd"))).toBe(true);
    const relaxedWat = String(files.find((f) => f.path === "wasm/kernels-relaxed.wat")?.contents);
    expect(relaxedWat).toMatch(/f32x4\.relaxed_madd/);
    expect(String(files.find((f) => f.path === "wasm/kernels.wat")?.contents)).not.toMatch(/relaxed/);
  });
});
