/**
 * numforge's GEMM as a benchmark contender: the wasm kernel (WASM_GEMM_SCHEDULE, plain SIMD or
 * relaxed SIMD) on operands resident in wasm memory (the raw API: A and B copied in once, C left
 * there — what a runtime keeping tensors in wasm memory gets) or through the copying API (A, B
 * copied in and C out on every call), and the JS kernel (JS_GEMM_SCHEDULE). C = A·B, α = 1, β = 0.
 */
import { describeGemm, gemmScratchLength, lowerGemm, type GemmOptions } from "../src/codegen/lower/gemm/gemm.ts";
import { JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE } from "../src/codegen/schedule.ts";
import type { ResolvedFormat } from "../src/dsl/resolved.ts";
import { loadJs } from "../src/targets/js/load.ts";
import type { WasmAssembler } from "../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm, type CompiledWasm } from "../src/targets/wasm/load.ts";

type Operand = ResolvedFormat | "f32";
export type OperandData = Float32Array | Uint8Array;

export interface GemmContender {
  /** One call on resident operands (wasm) or on the JS arrays (js). */
  readonly run: () => void;
  /** One call through the copying API (wasm only: A, B copied in, C copied out). */
  readonly copying?: () => void;
  /** The C of the last run. */
  result(): Float32Array;
}

export interface GemmShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

function scratchArrays(options: GemmOptions, shape: GemmShape): Record<string, Float32Array | Int32Array> {
  const desc = describeGemm(options);
  const out: Record<string, Float32Array | Int32Array> = {};
  for (const s of desc.scratch) {
    const length = gemmScratchLength(s, shape, desc.schedule.kc);
    out[s.name] = s.storage === "f32" ? new Float32Array(length) : new Int32Array(length);
  }
  return out;
}

const compiledGemms = new Map<string, CompiledWasm>();

/** The compiled wasm GEMM for these operands (compiled once per process). */
function compiledGemm(assembler: WasmAssembler, options: GemmOptions, relaxed: boolean): CompiledWasm {
  const key = JSON.stringify([options.a === "f32" ? "f32" : options.a.name, options.b === "f32" ? "f32" : options.b.name, options.schedule, relaxed]);
  let compiled = compiledGemms.get(key);
  if (compiled === undefined) {
    compiled = compileWasmWith(assembler, { kernels: lowerGemm(options) }, { relaxed });
    if (!compiled.simd) throw new Error("the engine rejected the SIMD GEMM module");
    compiledGemms.set(key, compiled);
  }
  return compiled;
}

/** The wasm GEMM of A (m×k) by B (k×n); `relaxed` builds the relaxed-SIMD kernel (the engine must validate it). */
export function wasmGemm(assembler: WasmAssembler, a: Operand, b: Operand, aData: OperandData, bData: OperandData, shape: GemmShape, relaxed: boolean): GemmContender {
  const options: GemmOptions = { a, b, schedule: WASM_GEMM_SCHEDULE };
  const desc = describeGemm(options);
  const set = instantiateWasm(compiledGemm(assembler, options, relaxed));
  const { m, n, k } = shape;
  const scratch = scratchArrays(options, shape);
  const at: Record<string, number> = { a: set.heap.copyIn(aData), b: set.heap.copyIn(bData), c: set.heap.alloc(4 * m * n) };
  for (const [name, array] of Object.entries(scratch)) at[name] = set.heap.alloc(array.byteLength);
  const scalars = { m, n, k, transA: 0, transB: 0, alpha: 1, beta: 0 };
  const rawArgs = desc.params.map((p) => ({ ...at, ...scalars })[p.name]);
  const c = new Float32Array(m * n);
  const copyArgs = desc.params.map((p) => ({ a: aData, b: bData, c, ...scratch, ...scalars })[p.name] ?? Number.NaN);
  const raw = set.raw[desc.kernel];
  const copying = set.kernels[desc.kernel];
  let last: "raw" | "copy" = "raw";
  return {
    run: () => {
      raw(...(rawArgs as number[]));
      last = "raw";
    },
    copying: () => {
      copying(...copyArgs);
      last = "copy";
    },
    result: () => {
      if (last === "copy") return c.slice();
      const out = new Float32Array(m * n);
      set.heap.read(at.c, out);
      return out;
    },
  };
}

/** The JS GEMM (JS_GEMM_SCHEDULE: f64 accumulator) of A (m×k) by B (k×n). */
export function jsGemm(a: Operand, b: Operand, aData: OperandData, bData: OperandData, shape: GemmShape): GemmContender {
  const options: GemmOptions = { a, b, schedule: JS_GEMM_SCHEDULE };
  const desc = describeGemm(options);
  const fn = loadJs({ kernels: lowerGemm(options) })[desc.kernel];
  const c = new Float32Array(shape.m * shape.n);
  const args: Record<string, unknown> = { a: aData, b: bData, c, ...shape, transA: 0, transB: 0, alpha: 1, beta: 0, ...scratchArrays(options, shape) };
  const list = desc.params.map((p) => args[p.name]) as Parameters<typeof fn>;
  return { run: () => fn(...list), result: () => c.slice() };
}
