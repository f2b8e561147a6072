/**
 * Quire GEMM: the semantics (posit-arith-quire.ts) against an independent exact sum (BigInt
 * rationals summed here, rounded with the rounding certificate), and the quire_gemm kernel on
 * every target — JS, WebAssembly (SIMD build and scalar), WGSL on a real device — equal to the
 * semantics bit for bit on random matrices, on dot products that cancel to tiny or zero sums,
 * on sums near maxpos², and with NaR and zeros among the operands.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { lowerQuireGemm } from "../../src/codegen/lower/gemm/quire.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { codeArray } from "../../src/dsl/semantics/codes.ts";
import { addExact, mulExact, negateCode, positToExact, ZERO, type ExactValue, type PositShape } from "../../src/dsl/semantics/posit-arith.ts";
import { quireBits, quireGemm } from "../../src/dsl/semantics/posit-arith-quire.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { compileWgsl } from "../../src/targets/wgsl/compile.ts";
import { instantiateWgsl } from "../../src/targets/wgsl/runner.ts";
import { builtin } from "../support/formats.ts";
import { useWgslDevice } from "../targets/wgsl/gpu.ts";
import { positFormat, shapeOf } from "./support.ts";
import { compareExact, exactTarget, roundingViolation } from "./rounding-certificate.ts";

const FORMATS = [...["posit8", "posit8es2", "posit16", "posit16es2", "posit32es2"].map(builtin), positFormat(32, 0), positFormat(5, 1), positFormat(12, 3)];
const device = useWgslDevice();
let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

/** Deterministic u32 stream (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

interface Case {
  readonly label: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: Uint8Array | Uint16Array | Uint32Array;
  readonly b: Uint8Array | Uint16Array | Uint32Array;
}

/**
 * Random matrices; matrices whose columns repeat A's row with signs flipped (so each dot product
 * cancels its big terms and leaves the small ones); all-maxpos sums (the carry bits); and NaR/zeros.
 */
function cases(format: ResolvedFormat): Case[] {
  const { n: bits } = shapeOf(format);
  const next = rng(bits * 1000 + format.name.length);
  const code = () => next() % 2 ** bits;
  const nar = 2 ** (bits - 1);
  const maxpos = nar - 1;
  const out: Case[] = [];
  const make = (label: string, m: number, n: number, k: number, fa: (i: number, p: number) => number, fb: (p: number, j: number) => number) => {
    const a = codeArray(bits, m * k);
    const b = codeArray(bits, k * n);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) a[i * k + p] = fa(i, p);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) b[p * n + j] = fb(p, j);
    out.push({ label, m, n, k, a, b });
  };
  make("random 5×7×33", 5, 7, 33, code, code);
  make("random 1×1×1 and odd sizes", 3, 1, 1, code, code);
  // Cancellation: B's column j is (1, −1, 1, −1, …) against A rows whose pairs (x, x) cancel exactly,
  // plus one small term at the end, so the exact sum is that term (or 0 for even j).
  const one = 2 ** (bits - 2);
  make(
    "cancelling pairs leave one tiny term",
    4,
    3,
    17,
    (i, p) => (p === 16 ? (i % 2 === 0 ? 1 : negateCode(shapeOf(format), 1 + i)) : code() % (nar - 1) + 1),
    (p, j) => (p === 16 ? (j === 0 ? 0 : one) : p % 2 === 0 ? one : negateCode(shapeOf(format), one)),
  );
  // Make the cancelling pairs equal: A[i, 2q+1] = A[i, 2q].
  const last = out[out.length - 1];
  for (let i = 0; i < last.m; i++) for (let p = 1; p < 16; p += 2) last.a[i * last.k + p] = last.a[i * last.k + p - 1];
  make("maxpos² summed 40 times, then cancelled to minpos²", 2, 2, 41, (_, p) => (p === 40 ? 1 : maxpos), (p, j) => (p === 40 ? 1 : j === 0 ? maxpos : p < 20 ? maxpos : negateCode(shapeOf(format), maxpos)));
  make("NaR and zeros among the operands", 3, 3, 6, (i, p) => (i === 1 && p === 2 ? nar : p % 3 === 0 ? 0 : code() === nar ? 0 : code()), (p, j) => (j === 2 && p === 4 ? nar : code() === nar ? 1 : code()));
  return out;
}

/** Σ a·b summed here with BigInt rationals, independent of posit-arith-quire. */
function independentSums(shape: PositShape, c: Case): ExactValue[] {
  const sums: ExactValue[] = [];
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let sum: ExactValue = ZERO;
      for (let p = 0; p < c.k; p++) sum = addExact(sum, mulExact(positToExact(shape, c.a[i * c.k + p]), positToExact(shape, c.b[p * c.n + j])));
      sums.push(sum);
    }
  }
  return sums;
}

const want = (format: ResolvedFormat, c: Case) => quireGemm(shapeOf(format), c, c.a, c.b);
const run = (fn: (...args: unknown[]) => unknown, format: ResolvedFormat, c: Case) => {
  const out = codeArray(shapeOf(format).n, c.m * c.n).fill(0xa5);
  return { out, done: fn(c.a, c.b, out, c.m, c.n, c.k) };
};

describe("quire GEMM semantics", () => {
  it("quireBits is the standard's 16n for es = 2", () => {
    for (const n of [8, 16, 32]) expect(quireBits({ n, es: 2 })).toBe(16 * n);
  });
  for (const format of FORMATS) {
    it(`${format.name}: each output is the exact dot product rounded once`, () => {
      const shape = shapeOf(format);
      for (const c of cases(format)) {
        const got = want(format, c);
        const sums = independentSums(shape, c);
        const bad = got.flatMap((code, t) => {
          const why = roundingViolation(shape, exactTarget(sums[t]), code);
          return why === null ? [] : [`${c.label} #${t}: ${why}`];
        });
        expect(bad).toEqual([]);
      }
    });
  }
  it("the cancellation cases do reach sums far below the terms (and exact zeros)", () => {
    const format = builtin("posit16");
    const c = cases(format).find((x) => x.label.startsWith("cancelling"));
    const sums = independentSums(shapeOf(format), c as Case);
    expect(sums.some((s) => s.kind === "zero")).toBe(true);
    expect(sums.some((s) => s.kind !== "nar" && compareExact(s, positToExact(shapeOf(format), 1)) === 0)).toBe(true); // minpos·1
  });
});

describe("quire_gemm kernels equal the semantics bit for bit", () => {
  for (const format of FORMATS) {
    const module = { kernels: [lowerQuireGemm(format)] };
    it(`${format.name}: JS`, () => {
      const js = loadJs(module).quire_gemm as (...args: unknown[]) => void;
      for (const c of cases(format)) expect(Array.from(run(js, format, c).out), c.label).toEqual(want(format, c));
    });
    it(`${format.name}: WebAssembly (SIMD build and scalar)`, () => {
      for (const vectorize of [true, false]) {
        const wasm = instantiateWasm(compileWasmWith(assembler, module, { vectorize })).kernels.quire_gemm as (...args: unknown[]) => void;
        for (const c of cases(format)) expect(Array.from(run(wasm, format, c).out), `${c.label} (vectorize ${vectorize})`).toEqual(want(format, c));
      }
    });
    it(`${format.name}: WGSL on a WebGPU device`, async () => {
      const wgsl = (await instantiateWgsl(compileWgsl(module), await device())).kernels.quire_gemm as (...args: unknown[]) => Promise<void>;
      for (const c of cases(format)) {
        const { out, done } = run(wgsl, format, c);
        await done;
        expect(Array.from(out), c.label).toEqual(want(format, c));
      }
    });
  }
});
