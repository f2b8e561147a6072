/**
 * Every IR operation rendered to wasm, scalar and vectorized, against the IR interpreter on
 * random and edge operands: f32 IEEE arithmetic, wrapping integers, shift counts mod 32,
 * signed/unsigned shr, compares and min/max, i32 abs at −2^31, saturating conversions inside
 * their defined range, roundEven ties, narrow loads and truncating stores, gathers, the loop
 * index as a value. f32 results compare by bits, except that any NaN matches any NaN (the IR
 * does not define NaN payloads).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  abs, add, and, asI32, asU32, bitsOf, clz, convert, div, eq, f32, floor, fromBits, ge, gt, i32, kernel, le, load, lt, max, min, mul,
  ne, neg, not, or, ref, roundEven, select, shl, shr, sqrt, sub, trunc, u32, xor, type Builder,
} from "../../../src/codegen/ir/build.ts";
import type { Expr, Kernel, StorageType } from "../../../src/codegen/ir/nodes.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { vectorizeModule } from "../../../src/targets/wasm/vectorize.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

type Operands = { fa: Expr; fb: Expr; ua: Expr; ub: Expr; ia: Expr; ib: Expr; i: Expr; k: Expr; b: Builder };
interface Case {
  readonly name: string;
  readonly out: StorageType;
  readonly value: (o: Operands) => Expr;
  /** False where the vectorizer must keep the loop scalar. */
  readonly vectorizes?: boolean;
}

const fromBool = (x: Expr) => asU32(x);
const inI32Range = (x: Expr) => max(min(x, f32(2147483520)), f32(-2147483648));
const inU32Range = (x: Expr) => max(min(x, f32(4294967040)), f32(0));

const CASES: readonly Case[] = [
  ...(["add", "sub", "mul", "div", "min", "max"] as const).map((op): Case => ({
    name: `f32 ${op}`, out: "f32", value: ({ fa, fb }) => ({ add, sub, mul, div, min, max })[op](fa, fb),
  })),
  ...(["neg", "abs", "floor", "trunc", "roundEven", "sqrt"] as const).map((op): Case => ({
    name: `f32 ${op}`, out: "f32", value: ({ fa }) => ({ neg, abs, floor, trunc, roundEven, sqrt })[op](fa),
  })),
  { name: "f32 roundEven of halves", out: "f32", value: ({ ia }) => roundEven(mul(convert("f32.fromI32", shr(ia, i32(8))), f32(0.5))) },
  ...(["add", "sub", "mul", "min", "max", "and", "or", "xor"] as const).flatMap((op): Case[] => [
    { name: `i32 ${op}`, out: "i32", value: ({ ia, ib }) => ({ add, sub, mul, min, max, and, or, xor })[op](ia, ib) },
    { name: `u32 ${op}`, out: "u32", value: ({ ua, ub }) => ({ add, sub, mul, min, max, and, or, xor })[op](ua, ub) },
  ]),
  ...(["neg", "abs", "not", "clz"] as const).flatMap((op): Case[] => [
    { name: `i32 ${op}`, out: "i32", value: ({ ia }) => ({ neg, abs, not, clz })[op](ia) },
    { name: `u32 ${op}`, out: "u32", value: ({ ua }) => ({ neg, abs, not, clz })[op](ua) },
  ]),
  { name: "u32 clz of small values", out: "u32", value: ({ ua }) => clz(shr(ua, and(ua, u32(31)))), vectorizes: false },
  { name: "u32 clz of shifted values", out: "u32", value: ({ ua, k }) => clz(shr(ua, k)) },
  { name: "i32 shl, per-lane count", out: "i32", value: ({ ia, ub }) => shl(ia, asI32(ub)), vectorizes: false },
  { name: "i32 shr, per-lane count", out: "i32", value: ({ ia, ub }) => shr(ia, asI32(ub)), vectorizes: false },
  { name: "u32 shr, per-lane count", out: "u32", value: ({ ua, ub }) => shr(ua, ub), vectorizes: false },
  { name: "i32 shl, one count", out: "i32", value: ({ ia, k }) => shl(ia, asI32(k)) },
  { name: "i32 shr, one count", out: "i32", value: ({ ia, k }) => shr(ia, asI32(k)) },
  { name: "u32 shr, one computed count", out: "u32", value: ({ ua, k }) => shr(ua, add(k, u32(3))) },
  ...(["eq", "ne", "lt", "le", "gt", "ge"] as const).flatMap((op): Case[] => {
    const c = { eq, ne, lt, le, gt, ge }[op];
    return [
      { name: `f32 ${op}`, out: "u32", value: ({ fa, fb }) => fromBool(c(fa, fb)) },
      { name: `i32 ${op}`, out: "u32", value: ({ ia, ib }) => fromBool(c(ia, ib)) },
      { name: `u32 ${op}`, out: "u32", value: ({ ua, ub }) => fromBool(c(ua, ub)) },
      { name: `bool ${op}`, out: "u32", value: ({ ia, ib }) => fromBool(c(lt(ia, i32(0)), lt(ib, i32(0)))) },
    ];
  }),
  { name: "bool not/and/or/xor", out: "u32", value: ({ ia, ib, ua }) => fromBool(xor(or(not(lt(ia, i32(0))), and(lt(ib, i32(0)), gt(ua, u32(9)))), ge(ia, ib))) },
  { name: "select f32", out: "f32", value: ({ fa, fb, ia }) => select(lt(ia, i32(0)), fa, fb) },
  { name: "select u32 on f32 compare", out: "u32", value: ({ fa, fb, ua, ub }) => select(gt(fa, fb), ua, ub) },
  { name: "f32.fromI32", out: "f32", value: ({ ia }) => convert("f32.fromI32", ia) },
  { name: "f32.fromU32", out: "f32", value: ({ ua }) => convert("f32.fromU32", ua) },
  { name: "i32.fromF32 in range", out: "i32", value: ({ fa }) => convert("i32.fromF32", inI32Range(fa)) },
  { name: "u32.fromF32 in range", out: "u32", value: ({ fa }) => convert("u32.fromF32", inU32Range(fa)) },
  // NaN payloads are not defined (reading a signalling NaN into a JS number quiets it).
  { name: "bits of f32", out: "u32", value: ({ fa }) => select(eq(fa, fa), bitsOf(fa), u32(1)) },
  { name: "f32 from bits", out: "f32", value: ({ ua }) => fromBits(ua) },
  { name: "loop index as a value", out: "u32", value: ({ i, ua }) => xor(mul(asU32(i), u32(0x9e3779b9)), ua) },
  { name: "f32 gather", out: "f32", value: ({ b, ua }) => b.names.table("f", "f32", () => Array.from({ length: 16 }, (_, j) => Math.fround(j * 1.7 - 5)), and(ua, u32(15))) },
  { name: "u32 gather", out: "u32", value: ({ b, ia }) => b.names.table("u", "u32", () => Array.from({ length: 8 }, (_, j) => (j * 0x10203041) >>> 0), asU32(and(ia, i32(7)))) },
  { name: "invariant lookup", out: "u32", value: ({ b, ua, k }) => add(ua, b.names.table("w", "u32", () => [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38], and(k, u32(31)))) },
  { name: "truncating store to u8", out: "u8", value: ({ ua }) => ua },
  { name: "truncating store to i8", out: "i8", value: ({ ua }) => ua },
  { name: "truncating store to u16", out: "u16", value: ({ ua }) => ua },
  { name: "load of i8 (sign-extending)", out: "i32", value: ({ b, i }) => load("i32", "s8", i) },
  { name: "load of u16", out: "u32", value: ({ b, i }) => load("u32", "w16", i) },
];

function caseKernel(c: Case, index: number): Kernel {
  return kernel(
    `op_${index}`,
    [
      { kind: "buffer", name: "fa", storage: "f32", access: "read" },
      { kind: "buffer", name: "fb", storage: "f32", access: "read" },
      { kind: "buffer", name: "ua", storage: "u32", access: "read" },
      { kind: "buffer", name: "ub", storage: "u32", access: "read" },
      { kind: "buffer", name: "s8", storage: "i8", access: "read" },
      { kind: "buffer", name: "w16", storage: "u16", access: "read" },
      { kind: "buffer", name: "out", storage: c.out, access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
      { kind: "scalar", name: "k", type: "u32" },
    ],
    (b) => {
      b.for("i", i32(0), ref("i32", "n"), (i, body) => {
        const ua = body.let("ua", load("u32", "ua", i));
        const ub = body.let("ub", load("u32", "ub", i));
        const o = { fa: body.let("fa", load("f32", "fa", i)), fb: body.let("fb", load("f32", "fb", i)), ua, ub, ia: asI32(ua), ib: asI32(ub), i, k: ref("u32", "k"), b: body };
        body.store("out", i, body.let("value", c.value(o)));
      });
    },
  );
}

const EDGE_U32 = [0, 1, 2, 31, 32, 33, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 0x10000, 0xffff, 0x800000, 0x7f800000, 0x7fc00000, 0xff800000, 0x3f800000, 0x3f000000, 0xbf000000, 0x4b400000];

function operands(n: number, seed: number) {
  const ua = Uint32Array.from({ length: n }, (_, j) => (j < EDGE_U32.length ** 2 ? EDGE_U32[j % EDGE_U32.length] : counterRandom(seed, j)));
  const ub = Uint32Array.from({ length: n }, (_, j) => (j < EDGE_U32.length ** 2 ? EDGE_U32[Math.floor(j / EDGE_U32.length)] : counterRandom(seed + 1, j)));
  // Small shift counts and small magnitudes occur too.
  for (let j = EDGE_U32.length ** 2; j < n; j += 3) ub[j] &= 63;
  for (let j = EDGE_U32.length ** 2 + 1; j < n; j += 5) ua[j] >>>= ub[j] & 31;
  return {
    fa: new Float32Array(ua.buffer.slice(0)),
    fb: new Float32Array(ub.buffer.slice(0)),
    ua,
    ub,
    s8: Int8Array.from({ length: n }, (_, j) => counterRandom(seed + 2, j)),
    w16: Uint16Array.from({ length: n }, (_, j) => counterRandom(seed + 3, j)),
  };
}

const OUT_ARRAY: Record<StorageType, (n: number) => Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array> = {
  f32: (n) => new Float32Array(n), i32: (n) => new Int32Array(n), u32: (n) => new Uint32Array(n), u16: (n) => new Uint16Array(n), u8: (n) => new Uint8Array(n), i8: (n) => new Int8Array(n),
};

/** Bits of each element; every NaN of an f32 output reads as one value. */
function comparable(out: ArrayLike<number>, storage: StorageType): number[] {
  if (storage !== "f32") return Array.from(out);
  const bits = new Uint32Array(Float32Array.from(out).buffer);
  return Array.from(out, (v, j) => (Number.isNaN(v) ? -1 : bits[j]));
}

const MODULE = { kernels: CASES.map(caseKernel) };

describe("IR operations in wasm", () => {
  it("the vectorizer vectorizes exactly the loops with a SIMD form", () => {
    const loops = vectorizeModule(MODULE).loops;
    expect(loops.map((l) => l.vectorized)).toEqual(CASES.map((c) => c.vectorizes !== false));
    expect(loops.filter((l) => !l.vectorized).every((l) => /per-lane (shl|shr) count/.test(l.reason ?? ""))).toBe(true);
  });

  for (const n of [2000, 7, 5, 4, 3, 1, 0]) {
    it(`compute what the interpreter computes (n = ${n}, shift counts 0–40)`, () => {
      const simd = instantiateWasm(compileWasmWith(assembler, MODULE));
      const scalar = instantiateWasm(compileWasmWith(assembler, MODULE, { vectorize: false }));
      const args = operands(n, 99 + n);
      const bad: string[] = [];
      CASES.forEach((c, index) => {
        for (const k of n > 100 ? [0, 1, 7, 31, 32, 40] : [5]) {
          const want = OUT_ARRAY[c.out](n);
          interpret(MODULE.kernels[index], { ...args, out: want, n, k });
          for (const [label, set] of [["simd", simd], ["scalar", scalar]] as const) {
            const got = OUT_ARRAY[c.out](n);
            set.kernels[`op_${index}`](args.fa, args.fb, args.ua, args.ub, args.s8, args.w16, got, n, k);
            const w = comparable(want, c.out);
            const g = comparable(got, c.out);
            const at = w.findIndex((v, j) => v !== g[j]);
            if (at >= 0) bad.push(`${c.name} (${label}, k=${k}) #${at}: ua=${args.ua[at]} ub=${args.ub[at]} → ${got[at]}, interpreter ${want[at]}`);
          }
        }
      });
      expect(bad).toEqual([]);
    });
  }
});
