/**
 * ShiftQuant GEMM (shift-groups × shift-groups codes): the exact i32 sum of the integer codes,
 * then each row i of op(A) and column j of op(B) scaled by its group's power of two at the
 * write-back, C = α·2^(eA(i) + eB(j))·Σ qA·qB + β·C.
 *
 * Operands are quantized by the semantics with one channel per lane (row of op(A), column of
 * op(B)); a transposed operand stores the transposed codes. References:
 * - exact: the float64 product of the dequantized operands (exact here: every product of row i
 *   and column j is an integer times the same power of two, and |Σ| < 2^53), merged with α, β
 *   and rounded once — the shift GEMM must equal it bit for bit while |Σ qA·qB| ≤ 2^24 (α, β
 *   powers of two), see lower/gemm/gemm.ts;
 * - dequantize-then-f32-GEMM (the ff kernel of the same schedule on the dequantized values):
 *   bit for bit where that GEMM is exact (every partial sum below 2^24 units, and one k block or
 *   β = 0 so its per-block merge rounds once), and within its stated bound (gemm-support.ts
 *   boundViolation) everywhere.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileFormat } from "../../src/codegen/compile.ts";
import { describeGemm, lowerGemm, type GemmDescription } from "../../src/codegen/lower/gemm/gemm.ts";
import { GemmUnsupportedError } from "../../src/codegen/lower/gemm/operand.ts";
import type { Kernel } from "../../src/codegen/ir/nodes.ts";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import { JS_GEMM_SCHEDULE, WASM_GEMM_SCHEDULE, type GemmSchedule } from "../../src/codegen/schedule.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { dequantize, quantize } from "../../src/dsl/semantics/tensor.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { builtin } from "../support/formats.ts";
import { argumentsFor, bits, boundViolation, describeProblem, generator, normal, problems, type Buffer, type Inputs, type Problem } from "./gemm-support.ts";

const FORMATS = ["shiftquant4", "shiftquant6", "shiftquant8"];
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [7, 13, 5],
  [33, 65, 17],
  [20, 3, 129],
];
const SMALL: GemmSchedule = { mr: 3, nr: 5, kc: 4, mc: 6, nc: 10, pack: true, accumulator: "f32" };
const SCHEDULES: Readonly<Record<string, GemmSchedule>> = {
  js: JS_GEMM_SCHEDULE,
  wasm: WASM_GEMM_SCHEDULE,
  small: SMALL,
  "small, f64 accumulator": { ...SMALL, accumulator: "f64" },
  "small unpacked": { ...SMALL, pack: false },
};
/** The vector layout with an unrolled k loop (padded panels, 16-bit pairs), on the JS target and wasm. */
const SMALL_VECTOR: GemmSchedule = { mr: 3, nr: 8, kc: 8, mc: 6, nc: 16, pack: true, accumulator: "f32", vector: 4, unroll: 2 };

/** One operand: codes as stored, the group metadata per lane, and the dequantized values as stored. */
interface ShiftOperand {
  readonly codes: Uint8Array;
  readonly channelGroup: Uint8Array;
  readonly groupExponent: Int32Array;
  readonly values: Float32Array;
}

/** rows×cols row-major → cols×rows. */
function transpose<T extends Float32Array | Uint8Array>(x: T, rows: number, cols: number): T {
  const out = new (x.constructor as new (n: number) => T)(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

/**
 * A lanes×depth matrix whose lanes span magnitudes 2^0 … 2^−6 (so every group is used, the last
 * one by clipping), lane 2 all zeros; quantized with one channel per lane and
 * stored lane-major, or depth-major (transposed) when `laneMajor` is false.
 */
function shiftOperand(format: ResolvedFormat, lanes: number, depth: number, laneMajor: boolean, random: () => number, draw?: (l: number) => number): ShiftOperand {
  const x = new Float32Array(lanes * depth);
  for (let l = 0; l < lanes; l++) {
    const magnitude = 2 ** -((l * 3) % 7);
    for (let p = 0; p < depth; p++) x[l * depth + p] = draw ? draw(l) : l === 2 ? 0 : normal(random) * magnitude;
  }
  const q = quantize(format, x, { channels: lanes });
  if (q.meta.kind !== "shift-groups") throw new Error("expected shift-groups metadata");
  const codes = Uint8Array.from(q.codes);
  const values = dequantize(format, q.codes, q.meta, { channels: lanes });
  return {
    codes: laneMajor ? codes : transpose(codes, lanes, depth),
    channelGroup: q.meta.channelGroup,
    groupExponent: q.meta.groupExponent,
    values: laneMajor ? values : transpose(values, lanes, depth),
  };
}

interface ShiftInputs {
  readonly a: ShiftOperand;
  readonly b: ShiftOperand;
  /** The dequantized operands as f32 GEMM inputs (values also as float64 for the bound). */
  readonly dequantized: Inputs;
}

function shiftInputs(format: ResolvedFormat, p: Problem, seed: number): ShiftInputs {
  const random = generator(seed);
  // A's lanes are its rows (lane-major as stored unless transA); B's its columns (lane-major when transB).
  const a = shiftOperand(format, p.m, p.k, p.transA === 0, random);
  const b = shiftOperand(format, p.n, p.k, p.transB === 1, random);
  const c = new Float32Array(p.m * p.n);
  for (let i = 0; i < c.length; i++) c[i] = p.beta === 0 ? Number.NaN : normal(random);
  const operand = (values: Float32Array) => ({ data: values, values: Float64Array.from(values) });
  return { a, b, dequantized: { a: operand(a.values), b: operand(b.values), c } };
}

/** The shift GEMM's arguments by parameter name. */
function shiftArguments(desc: GemmDescription, p: Problem, x: ShiftInputs, c: Float32Array): Record<string, Buffer | number> {
  return {
    ...argumentsFor(desc, p, x.dequantized, c),
    a: x.a.codes,
    b: x.b.codes,
    a_channel_group: x.a.channelGroup,
    a_group_exponent: x.a.groupExponent,
    b_channel_group: x.b.channelGroup,
    b_group_exponent: x.b.groupExponent,
  };
}

type Runner = (args: readonly (Buffer | number)[]) => void;

function run(fn: Runner, desc: GemmDescription, args: (c: Float32Array) => Record<string, Buffer | number>, c0: Float32Array): Float32Array {
  const c = c0.slice();
  const named = args(c);
  fn(desc.params.map((param) => named[param.name]));
  return c;
}

const jsRunner = (kernels: Kernel[], desc: GemmDescription): Runner => {
  const fn = loadJs({ kernels })[desc.kernel];
  return (args) => fn(...args);
};

/** The shift GEMM and the ff GEMM of one format and schedule on the JS target. */
function kernelsFor(format: ResolvedFormat, schedule: GemmSchedule) {
  const shiftOptions = { a: format, b: format, schedule };
  const floatOptions = { a: "f32" as const, b: "f32" as const, schedule };
  const shift = { kernels: lowerGemm(shiftOptions), desc: describeGemm(shiftOptions) };
  const float = { kernels: lowerGemm(floatOptions), desc: describeGemm(floatOptions) };
  return {
    shift,
    runShift: (p: Problem, x: ShiftInputs, runner = jsRunner(shift.kernels, shift.desc)) => run(runner, shift.desc, (c) => shiftArguments(shift.desc, p, x, c), x.dequantized.c),
    runFloat: (p: Problem, x: ShiftInputs) => run(jsRunner(float.kernels, float.desc), float.desc, (c) => argumentsFor(float.desc, p, x.dequantized, c), x.dequantized.c),
  };
}

/** The exact α·op(A)·op(B) + β·C of the dequantized operands, rounded once to f32. */
function exactRounded(p: Problem, x: ShiftInputs): Float32Array {
  const { a, b, c } = x.dequantized;
  const out = new Float32Array(p.m * p.n);
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      let sum = 0;
      for (let q = 0; q < p.k; q++) sum += a.values[p.transA ? q * p.m + i : i * p.k + q] * b.values[p.transB ? j * p.k + q : q * p.n + j];
      out[i * p.n + j] = p.alpha * sum + (p.beta === 0 ? 0 : p.beta * c[i * p.n + j]);
    }
  }
  return out;
}

/** Inputs by format and problem, shared by the schedules (quantizing with the semantics is the slow part). */
const inputCache = new Map<string, ShiftInputs>();
function cachedInputs(format: ResolvedFormat, p: Problem, seed: number): ShiftInputs {
  const key = `${format.name} ${describeProblem(p)} ${seed}`;
  let x = inputCache.get(key);
  if (x === undefined) {
    x = shiftInputs(format, p, seed);
    inputCache.set(key, x);
  }
  return x;
}

describe("ShiftQuant GEMM: exact integer accumulation, one power-of-two shift per (row group, column group) after it", () => {
  // Every schedule for the widest and narrowest codes; shiftquant6 (the same path, other bounds) on two.
  const all = { ...SCHEDULES, "small vector, unroll 2": SMALL_VECTOR };
  const schedulesOf: Readonly<Record<string, Readonly<Record<string, GemmSchedule>>>> = {
    shiftquant4: all,
    shiftquant6: { js: JS_GEMM_SCHEDULE, small: SMALL },
    shiftquant8: all,
  };
  for (const name of FORMATS) {
    it(`${name}, ${Object.keys(schedulesOf[name]).join(" / ")} schedules: the exact result rounded once; the dequantize-then-f32 GEMM bit for bit where it is exact, within its bound elsewhere`, () => {
      const format = builtin(name);
      for (const [scheduleName, schedule] of Object.entries(schedulesOf[name])) {
        const k = kernelsFor(format, schedule);
        expect(k.shift.desc.accumulation).toBe("i32");
        let seed = 1;
        let comparedBitwise = 0;
        for (const p of problems(SHAPES)) {
          const x = cachedInputs(format, p, seed++);
          const where = `${name} ${describeProblem(p)}, ${scheduleName} schedule`;
          const c = k.runShift(p, x);
          expect(bits(c), `${where}: exact, rounded once`).toEqual(bits(exactRounded(p, x)));
          const viaFloat = k.runFloat(p, x);
          expect(boundViolation(p, x.dequantized, viaFloat, schedule), `${where}: dequantize-then-f32 GEMM`).toBeNull();
          if (p.beta === 0 || p.k <= schedule.kc) {
            expect(bits(c), `${where}: dequantize-then-f32 GEMM`).toEqual(bits(viaFloat));
            comparedBitwise++;
          }
        }
        expect(comparedBitwise).toBeGreaterThan(SHAPES.length * 4);
      }
    });
  }

  it("uses several groups per operand and the shifts matter: without them C would be off by powers of two", () => {
    const format = builtin("shiftquant4");
    const p: Problem = { m: 7, n: 13, k: 5, transA: 0, transB: 1, alpha: 1, beta: 0 };
    const x = shiftInputs(format, p, 5);
    expect(new Set(x.a.channelGroup).size).toBe(4);
    expect(new Set(x.b.channelGroup).size).toBe(4);
    const { runShift } = kernelsFor(format, JS_GEMM_SCHEDULE);
    const flat = { ...x, a: { ...x.a, groupExponent: new Int32Array(4) }, b: { ...x.b, groupExponent: new Int32Array(4) } };
    const c = runShift(p, x);
    const unshifted = runShift(p, flat);
    // Without the shifts C is the raw integer sum, Σ qA·qB, and differs from C by exactly 2^(eA + eB).
    for (let i = 0; i < p.m; i++) {
      for (let j = 0; j < p.n; j++) {
        const e = x.a.groupExponent[x.a.channelGroup[i]] + x.b.groupExponent[x.b.channelGroup[j]];
        expect(c[i * p.n + j]).toBe(unshifted[i * p.n + j] * 2 ** e);
      }
    }
    expect(c.some((v, i) => v !== unshifted[i])).toBe(true);
  });

  it("is exact past 2^24, where f32 accumulation of the dequantized operands is not (shiftquant8, k = 1500)", () => {
    const format = builtin("shiftquant8");
    const p: Problem = { m: 3, n: 5, k: 1500, transA: 0, transB: 1, alpha: 1, beta: 0 };
    const random = generator(77);
    // Codes 120…126 with a scale of 2^−6: every product ≥ 14400, so |Σ| > 2^24.
    const draw = () => (120 + 6 * random()) / 64;
    const x: ShiftInputs = (() => {
      const a = shiftOperand(format, p.m, p.k, true, random, draw);
      const b = shiftOperand(format, p.n, p.k, true, random, draw);
      const operand = (values: Float32Array) => ({ data: values, values: Float64Array.from(values) });
      return { a, b, dequantized: { a: operand(a.values), b: operand(b.values), c: new Float32Array(p.m * p.n) } };
    })();
    let floatDiffers = 0;
    for (const schedule of [SMALL, WASM_GEMM_SCHEDULE]) {
      const k = kernelsFor(format, schedule);
      const c = k.runShift(p, x);
      const exact = exactRounded(p, x);
      expect(Math.abs(c[0])).toBeGreaterThan(2 ** 24 * 2 ** -12);
      expect(bits(c)).toEqual(bits(exact));
      const viaFloat = k.runFloat(p, x);
      expect(boundViolation(p, x.dequantized, viaFloat, schedule)).toBeNull();
      floatDiffers += bits(viaFloat).filter((v, i) => v !== bits(exact)[i]).length;
    }
    expect(floatDiffers).toBeGreaterThan(0);
  });

  it("the IR interpreter and the rendered JS agree bit for bit", () => {
    for (const name of FORMATS) {
      const format = builtin(name);
      for (const schedule of [SMALL, { ...SMALL, pack: false }, SMALL_VECTOR]) {
        const k = kernelsFor(format, schedule);
        const interpreter: Runner = (args) => interpret(k.shift.kernels[0], Object.fromEntries(k.shift.desc.params.map((param, i) => [param.name, args[i]])));
        let seed = 300;
        for (const p of problems([[7, 13, 5]])) {
          const x = cachedInputs(format, p, seed++);
          expect(bits(k.runShift(p, x, interpreter)), `${name} ${describeProblem(p)} ${JSON.stringify(schedule)}`).toEqual(bits(k.runShift(p, x)));
        }
      }
    }
  });
});

describe("ShiftQuant GEMM on the wasm target", () => {
  let assembler: WasmAssembler;
  beforeAll(async () => {
    assembler = await createWasmAssembler();
  });

  it("SIMD and scalar modules agree with the JS target bit for bit (the wasm schedule and a small vector one)", () => {
    for (const [name, schedule] of [["shiftquant8", WASM_GEMM_SCHEDULE], ["shiftquant4", SMALL_VECTOR]] as const) {
      const format = builtin(name);
      const k = kernelsFor(format, schedule);
      for (const vectorize of [true, false]) {
        const compiled = compileWasmWith(assembler, { kernels: k.shift.kernels }, { relaxed: false, vectorize });
        expect(compiled.simd).toBe(vectorize);
        // The lane shifts live in the write-back: the micro-kernel keeps its SIMD integer dot product.
        if (vectorize) expect(compiled.wat).toMatch(/i32x4\.dot_i16x8_s/);
        const fn = instantiateWasm(compiled).kernels[k.shift.desc.kernel];
        const wasm: Runner = (args) => fn(...args);
        let seed = 500;
        for (const p of problems([[7, 13, 5], [65, 29, 33]])) {
          const x = cachedInputs(format, p, seed++);
          expect(bits(k.runShift(p, x, wasm)), `${name} ${describeProblem(p)} vectorize ${vectorize}`).toEqual(bits(k.runShift(p, x)));
        }
      }
    }
  });
});

describe("ShiftQuant GEMM through compileFormat", () => {
  it("shiftquant formats get a cc variant with the metadata of both operands, and ff", () => {
    for (const name of FORMATS) {
      const compiled = compileFormat(builtin(name), JS_GEMM_SCHEDULE);
      expect(compiled.gemm.map((v) => v.key)).toEqual(["cc", "ff"]);
      const cc = compiled.gemm[0].description;
      expect(cc.accumulation).toBe("i32");
      expect(cc.params.map((p) => p.name)).toEqual(expect.arrayContaining(["a_channel_group", "a_group_exponent", "b_channel_group", "b_group_exponent"]));
      expect(compiled.module.kernels.some((kernel) => kernel.name === cc.kernel)).toBe(true);
      const maxAbs = 2 ** (builtin(name).bits - 1) - 1;
      expect(cc.maxK).toBe(Math.floor((2 ** 31 - 1) / (maxAbs * maxAbs)));
    }
  });

  it("a ShiftQuant operand beside an unscaled integer operand is shifted alone", () => {
    const sq = builtin("shiftquant8");
    const int8 = builtin("int8");
    const p: Problem = { m: 6, n: 5, k: 9, transA: 0, transB: 0, alpha: 1, beta: 0 };
    const random = generator(9);
    const a = shiftOperand(sq, p.m, p.k, true, random);
    const bCodes = Uint8Array.from({ length: p.k * p.n }, () => Math.floor(random() * 255) + 1); // every code but −128
    const bValue = (code: number) => (code >= 128 ? code - 256 : code);
    const options = { a: sq, b: int8, schedule: SMALL };
    const desc = describeGemm(options);
    expect(desc.params.map((param) => param.name)).not.toContain("b_channel_group");
    const c = new Float32Array(p.m * p.n);
    const named: Record<string, Buffer | number> = {
      ...argumentsFor(desc, p, { a: { data: a.codes, values: new Float64Array(0) }, b: { data: bCodes, values: new Float64Array(0) }, c }, c),
      a_channel_group: a.channelGroup,
      a_group_exponent: a.groupExponent,
    };
    loadJs({ kernels: lowerGemm(options) })[desc.kernel](...desc.params.map((param) => named[param.name]));
    for (let i = 0; i < p.m; i++) {
      for (let j = 0; j < p.n; j++) {
        let sum = 0;
        for (let q = 0; q < p.k; q++) sum += a.values[i * p.k + q] * bValue(bCodes[q * p.n + j]);
        expect(c[i * p.n + j]).toBe(Math.fround(sum));
      }
    }
  });

  it("a ShiftQuant operand beside a float operand is a clear GemmUnsupportedError", () => {
    for (const [a, b, operand] of [["f32", "shiftquant4", "B"], ["shiftquant6", "e4m3", "A"]] as const) {
      const lower = () => lowerGemm({ a: a === "f32" ? a : builtin(a), b: builtin(b), schedule: JS_GEMM_SCHEDULE });
      expect(lower).toThrow(GemmUnsupportedError);
      expect(lower).toThrow(new RegExp(`operand ${operand} \\(shiftquant\\d\\): tensor scaling "shift-groups".*not yet supported.*integer`));
    }
  });
});
