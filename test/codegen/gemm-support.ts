/**
 * Shared pieces of the GEMM tests (test/codegen/gemm.test.ts, test/targets/wasm/gemm.test.ts):
 * random operands with their exact decoded values, problems over shapes × transposes × α/β, the
 * stated error bound of each accumulator against a float64 reference, the exact integer
 * reference, and runs on the JS target and the interpreter. See gemm.test.ts for the bounds.
 */
import { gemmScratchLength, type GemmDescription } from "../../src/codegen/lower/gemm/gemm.ts";
import type { GemmSchedule } from "../../src/codegen/schedule.ts";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import type { Kernel } from "../../src/codegen/ir/nodes.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { builtin } from "../support/formats.ts";

export type Operand = ResolvedFormat | "f32";
export type Buffer = Float32Array | Uint8Array | Uint16Array | Uint32Array | Int32Array;

export const U = 2 ** -24;
export const U64 = 2 ** -53;
export const gamma = (n: number, u = U) => (n * u) / (1 - n * u);

export const TRANSPOSES: readonly (readonly [number, number])[] = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];
export const ALPHA_BETA: readonly (readonly [number, number])[] = [
  [1, 0],
  [0.5, 2],
];

export const op = (name: string): Operand => (name === "f32" ? "f32" : builtin(name));

/** A small deterministic generator (mulberry32) so failures reproduce. */
export function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export const label = (x: Operand) => (x === "f32" ? "f32" : x.name);

/** Random operand data and its exact (decoded) values: all finite codes for ≤ 8-bit formats. */
export function operandData(x: Operand, length: number, random: () => number): { data: Buffer; values: Float64Array } {
  const values = new Float64Array(length);
  if (x === "f32") {
    const data = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      data[i] = normal(random) * 4;
      values[i] = data[i]; // the stored f32, not the double assigned to it
    }
    return { data, values };
  }
  const data = x.bits <= 8 ? new Uint8Array(length) : x.bits <= 16 ? new Uint16Array(length) : new Uint32Array(length);
  for (let i = 0; i < length; i++) {
    let code = 0;
    let v = Number.NaN;
    while (!Number.isFinite(v)) {
      code = x.bits <= 8 ? Math.floor(random() * x.codeCount) : encode(x, normal(random) * 8);
      v = decode(x, code);
    }
    data[i] = code;
    values[i] = v;
  }
  return { data, values };
}

export interface Problem {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: number;
  readonly transB: number;
  readonly alpha: number;
  readonly beta: number;
}

export interface Inputs {
  readonly a: { data: Buffer; values: Float64Array };
  readonly b: { data: Buffer; values: Float64Array };
  readonly c: Float32Array;
}

export function inputs(a: Operand, b: Operand, p: Problem, seed: number): Inputs {
  const random = generator(seed);
  const c = new Float32Array(p.m * p.n);
  // With β = 0, C must not be read: NaNs there must not reach the result.
  for (let i = 0; i < c.length; i++) c[i] = p.beta === 0 ? Number.NaN : normal(random);
  return { a: operandData(a, p.m * p.k, random), b: operandData(b, p.k * p.n, random), c };
}

/** op(A)(i, q) and op(B)(q, j) of the stored row-major values. */
export const aAt = (x: Inputs, p: Problem, i: number, q: number) => x.a.values[p.transA ? q * p.m + i : i * p.k + q];
export const bAt = (x: Inputs, p: Problem, q: number, j: number) => x.b.values[p.transB ? j * p.k + q : q * p.n + j];

/** Arguments in parameter order, with freshly allocated scratch. */
export function argumentsFor(desc: GemmDescription, p: Problem, x: Inputs, c: Float32Array): Record<string, Buffer | number> {
  const args: Record<string, Buffer | number> = { a: x.a.data, b: x.b.data, c, ...p };
  for (const s of desc.scratch) {
    const length = gemmScratchLength(s, p, desc.schedule.kc);
    args[s.name] = s.storage === "f32" ? new Float32Array(length) : new Int32Array(length);
  }
  return args;
}

export function runJs(kernels: Kernel[], desc: GemmDescription, p: Problem, x: Inputs): Float32Array {
  const fn = loadJs({ kernels })[desc.kernel];
  const c = x.c.slice();
  const args = argumentsFor(desc, p, x, c);
  fn(...desc.params.map((param) => args[param.name]));
  return c;
}

export function runInterpreter(kernels: Kernel[], desc: GemmDescription, p: Problem, x: Inputs): Float32Array {
  const c = x.c.slice();
  interpret(kernels[0], argumentsFor(desc, p, x, c));
  return c;
}

/** Every combination of shape, transposes and α/β. */
export function* problems(shapes: readonly (readonly [number, number, number])[]): Generator<Problem> {
  for (const [m, n, k] of shapes) for (const [transA, transB] of TRANSPOSES) for (const [alpha, beta] of ALPHA_BETA) yield { m, n, k, transA, transB, alpha, beta };
}

export const describeProblem = (p: Problem) => `${p.m}×${p.n}×${p.k} trans(${p.transA},${p.transB}) α=${p.alpha} β=${p.beta}`;

/** The first element outside the stated error bound of the schedule's accumulator, or null. */
export function boundViolation(p: Problem, x: Inputs, c: Float32Array, schedule: GemmSchedule): string | null {
  const blocks = Math.ceil(p.k / schedule.kc);
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      let sum = 0;
      let absSum = 0;
      for (let q = 0; q < p.k; q++) {
        const prod = aAt(x, p, i, q) * bAt(x, p, q, j);
        sum += prod;
        absSum += Math.abs(prod);
      }
      const c0 = p.beta === 0 ? 0 : x.c[i * p.n + j];
      const exact = p.alpha * sum + p.beta * c0;
      const scale = Math.abs(p.alpha) * absSum + Math.abs(p.beta * c0);
      const kernelError =
        schedule.accumulator === "f32"
          ? gamma(p.k + 2) * scale + (p.k + 3) * 2 ** -149 * Math.max(1, Math.abs(p.alpha))
          : ((1 + gamma(blocks)) * (1 + gamma(p.k + 1, U64)) - 1) * scale + blocks * 2 ** -150;
      const bound = kernelError + p.k * 2 ** -53 * absSum;
      const got = c[i * p.n + j];
      if (!(Math.abs(got - exact) <= bound)) return `C[${i},${j}] = ${got}, reference ${exact}, bound ${bound}`;
    }
  }
  return null;
}

/**
 * The exact integer path's result: the stated epilogue on the exact integer sum. The integer
 * formats here have no fraction bits, so decoded values are the integers and the float64 sum
 * of the products (each ≤ 2^14) is exact.
 */
export function integerReference(p: Problem, x: Inputs): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(p.m * p.n);
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      let sum = 0;
      for (let q = 0; q < p.k; q++) sum += aAt(x, p, i, q) * bAt(x, p, q, j);
      const av = f(p.alpha * f(sum));
      out[i * p.n + j] = p.beta === 0 ? av : f(av + f(p.beta * x.c[i * p.n + j]));
    }
  }
  return out;
}

export const bits = (c: Float32Array) => Array.from(new Uint32Array(c.buffer, c.byteOffset, c.length));
