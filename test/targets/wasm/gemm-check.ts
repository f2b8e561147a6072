/**
 * The wasm GEMM checks shared by gemm.test.ts and the relaxed-SIMD child process
 * (gemm-relaxed-child.ts): every operand pair × schedule × problem against the float64
 * reference within the stated f32 bound, and integer pairs exactly against the integer
 * reference. Both accumulate in f32 (the wasm schedule's accumulator); relaxed_madd may fuse a
 * multiply-add, which only removes roundings, so the same bound holds (γ_{k+2} counts every
 * rounding a product can go through, fused or not).
 */
import { describeGemm, lowerGemm, type GemmDescription } from "../../../src/codegen/lower/gemm/gemm.ts";
import type { Kernel } from "../../../src/codegen/ir/nodes.ts";
import { WASM_GEMM_SCHEDULE, type GemmSchedule } from "../../../src/codegen/schedule.ts";
import type { WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm, type CompiledWasm, type WasmKernel } from "../../../src/targets/wasm/load.ts";
import {
  argumentsFor, bits, boundViolation, describeProblem, inputs, integerReference, op, problems, type Inputs, type Problem,
} from "../../codegen/gemm-support.ts";

/** The shapes (m × n × k) the wasm GEMM is checked on: one element, odd sizes, a long k, a short k. */
export const WASM_SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [7, 13, 5],
  [65, 129, 33],
  [64, 3, 129],
];

/** Small blocks with the vector layout: several k blocks, ragged tiles and panels on every shape. */
export const SMALL_VECTOR: GemmSchedule = { mr: 3, nr: 8, kc: 8, mc: 6, nc: 16, pack: true, accumulator: "f32", vector: 4 };

export const VECTOR_SCHEDULES: Readonly<Record<string, GemmSchedule>> = {
  wasm: WASM_GEMM_SCHEDULE,
  "small vector": SMALL_VECTOR,
  "small vector, unroll 2": { ...SMALL_VECTOR, unroll: 2 },
};

/** Real-valued pairs (f32 accumulation): every format family, and mixed operands. */
export const REAL_PAIRS: readonly (readonly [string, string])[] = [
  ["f32", "f32"],
  ["e4m3", "e4m3"],
  ["e5m2", "e5m2"],
  ["posit8", "posit8"],
  ["bf16", "bf16"],
  ["fp16", "fp16"],
  ["e4m3", "f32"],
  ["f32", "bf16"],
  ["int8", "e5m2"],
  ["posit8", "e4m3"],
];

/** Integer pairs (exact i32 accumulation). */
export const INT_PAIRS: readonly (readonly [string, string])[] = [
  ["int8", "int8"],
  ["int4", "int4"],
  ["int8", "int4"],
];

export interface WasmGemm {
  readonly kernels: Kernel[];
  readonly desc: GemmDescription;
  readonly compiled: CompiledWasm;
  readonly fn: WasmKernel;
}

/** Lowers and compiles the GEMM of a pair under a schedule (relaxed: build with relaxed_madd). */
export function compileGemm(assembler: WasmAssembler, an: string, bn: string, schedule: GemmSchedule, relaxed: boolean): WasmGemm {
  const options = { a: op(an), b: op(bn), schedule };
  const kernels = lowerGemm(options);
  const desc = describeGemm(options);
  const compiled = compileWasmWith(assembler, { kernels }, { relaxed });
  if (!compiled.simd) throw new Error("the engine rejected the SIMD module");
  return { kernels, desc, compiled, fn: instantiateWasm(compiled).kernels[desc.kernel] };
}

/** C of one problem on the wasm kernel (arrays copied in and out). */
export function runWasm(g: WasmGemm, p: Problem, x: Inputs): Float32Array {
  const c = x.c.slice();
  const args = argumentsFor(g.desc, p, x, c);
  g.fn(...g.desc.params.map((param) => args[param.name]));
  return c;
}

export interface CheckSummary {
  /** Problems run. */
  readonly checked: number;
  /** Bound violations (real pairs) and mismatches with the integer reference (int pairs). */
  readonly failures: readonly string[];
  /** Kernels whose binary uses relaxed SIMD, and accumulator groups fused into relaxed_madd. */
  readonly relaxedKernels: number;
  readonly fusedGroups: number;
  /** Real results whose bits differ from the plain kernel's (fused roundings at work). */
  readonly differFromPlain: number;
}

/** Runs every pair × schedule × problem; with `relaxed`, also counts where it differs from plain. */
export function checkAll(assembler: WasmAssembler, relaxed: boolean): CheckSummary {
  let checked = 0;
  let relaxedKernels = 0;
  let fusedGroups = 0;
  let differFromPlain = 0;
  const failures: string[] = [];
  for (const [scheduleName, schedule] of Object.entries(VECTOR_SCHEDULES)) {
    for (const [an, bn] of [...REAL_PAIRS, ...INT_PAIRS]) {
      const g = compileGemm(assembler, an, bn, schedule, relaxed);
      const plain = relaxed ? compileGemm(assembler, an, bn, schedule, false) : g;
      if (g.compiled.relaxed) relaxedKernels++;
      fusedGroups += g.compiled.superword.reduce((s, r) => s + r.fused, 0);
      let seed = 1;
      for (const p of problems(WASM_SHAPES)) {
        const x = inputs(op(an), op(bn), p, seed++);
        const c = runWasm(g, p, x);
        checked++;
        const where = `${an} × ${bn}, ${scheduleName}, ${describeProblem(p)}`;
        if (g.desc.accumulation === "i32") {
          if (bits(c).join() !== bits(integerReference(p, x)).join()) failures.push(`${where}: differs from the exact integer result`);
        } else {
          const v = boundViolation(p, x, c, schedule);
          if (v !== null) failures.push(`${where}: ${v}`);
          if (relaxed) {
            const cp = bits(runWasm(plain, p, x));
            differFromPlain += bits(c).filter((b, i) => b !== cp[i]).length;
          }
        }
      }
    }
  }
  return { checked, failures, relaxedKernels, fusedGroups, differFromPlain };
}
