/**
 * Every IR operation rendered to WGSL and run on a real WebGPU device against the IR interpreter,
 * on random and edge operands: f32 IEEE arithmetic (no fused multiply-add, subnormals kept),
 * min/max with signed zeros, wrapping integers, shift counts modulo 32 (constant counts ≥ 32
 * too), signed/unsigned shr, ordered compares (`ne` true on NaN), selects, conversions inside
 * their defined range, roundEven ties, narrow loads and truncating stores (packed words),
 * tables, and constants WGSL cannot spell or would reject at shader creation: NaN, ±∞, −0,
 * −2^31, overflowing constant arithmetic. f32 results compare by bits; any NaN matches any NaN.
 */
import { describe, expect, it } from "vitest";
import {
  abs, add, and, asI32, asU32, bitsOf, clz, convert, div, eq, f32, floor, fromBits, ge, gt, i32, kernel, le, load, lt, max, min, mul,
  ne, neg, not, or, ref, roundEven, select, shl, shr, sqrt, sub, trunc, u32, xor, type Builder,
} from "../../../src/codegen/ir/build.ts";
import type { Expr, Kernel, StorageType } from "../../../src/codegen/ir/nodes.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";
import { compileWgsl } from "../../../src/targets/wgsl/compile.ts";
import { instantiateWgsl, type WgslKernelSet } from "../../../src/targets/wgsl/runner.ts";
import { useWgslDevice } from "./gpu.ts";

const device = useWgslDevice();

type Operands = { fa: Expr; fb: Expr; ua: Expr; ub: Expr; ia: Expr; ib: Expr; i: Expr; k: Expr; b: Builder };
interface Case {
  readonly name: string;
  readonly out: StorageType;
  readonly value: (o: Operands) => Expr;
}

const fromBool = (x: Expr) => asU32(x);
const inI32Range = (x: Expr) => max(min(x, f32(2147483520)), f32(-2147483648));
const inU32Range = (x: Expr) => max(min(x, f32(4294967040)), f32(0));
const notNaN = (x: Expr, y: Expr) => select(eq(x, x), x, y);

const CASES: readonly Case[] = [
  ...(["add", "sub", "mul", "div"] as const).map((op): Case => ({ name: `f32 ${op}`, out: "f32", value: ({ fa, fb }) => ({ add, sub, mul, div })[op](fa, fb) })),
  ...(["min", "max"] as const).map((op): Case => ({
    name: `f32 ${op} (non-NaN, signed zeros)`, out: "f32", value: ({ fa, fb, ua }) => ({ min, max })[op](notNaN(fa, f32(0)), select(eq(and(ua, u32(3)), u32(0)), f32(-0), notNaN(fb, f32(0)))),
  })),
  { name: "f32 a·b + c is not fused", out: "f32", value: ({ fa, fb, ua }) => add(mul(fa, fb), fromBits(xor(ua, u32(0x80000000)))) },
  { name: "f32 x + 0 keeps −0 → +0", out: "f32", value: ({ fa }) => add(fa, f32(0)) },
  { name: "f32 x · 0 keeps signs, NaN for ±∞", out: "f32", value: ({ fa }) => mul(fa, f32(0)) },
  { name: "f32 x − x is NaN for ±∞", out: "f32", value: ({ fa }) => sub(fa, fa) },
  { name: "f32 −x + (x + y) is not simplified to y", out: "f32", value: ({ fa, fb }) => add(neg(fa), add(fa, fb)) },
  { name: "f32 a·b + a·c is not factored", out: "f32", value: ({ fa, fb, ua }) => add(mul(fa, fb), mul(fa, fromBits(xor(ua, u32(0x1234))))) },
  { name: "f32 (x + c1) + c2 is not reassociated", out: "f32", value: ({ fa }) => add(add(fa, f32(3.0e7)), f32(-3.0e7)) },
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
  { name: "i32 shl, per-element count", out: "i32", value: ({ ia, ub }) => shl(ia, asI32(ub)) },
  { name: "i32 shr, per-element count", out: "i32", value: ({ ia, ub }) => shr(ia, asI32(ub)) },
  { name: "u32 shr, per-element count", out: "u32", value: ({ ua, ub }) => shr(ua, ub) },
  { name: "u32 shl, uniform count", out: "u32", value: ({ ua, k }) => shl(ua, k) },
  { name: "i32 shr, constant count 33 (mod 32)", out: "i32", value: ({ ia }) => shr(ia, i32(33)) },
  { name: "u32 shl, constant count 32 (mod 32)", out: "u32", value: ({ ua }) => shl(ua, u32(32)) },
  ...(["eq", "ne", "lt", "le", "gt", "ge"] as const).flatMap((op): Case[] => {
    const c = { eq, ne, lt, le, gt, ge }[op];
    return [
      { name: `f32 ${op}`, out: "u32", value: ({ fa, fb }) => fromBool(c(fa, fb)) },
      { name: `i32 ${op}`, out: "u32", value: ({ ia, ib }) => fromBool(c(ia, ib)) },
      { name: `u32 ${op}`, out: "u32", value: ({ ua, ub }) => fromBool(c(ua, ub)) },
      { name: `bool ${op}`, out: "u32", value: ({ ia, ib }) => fromBool(c(lt(ia, i32(0)), lt(ib, i32(0)))) },
    ];
  }),
  { name: "f32 x ≠ x is NaN", out: "u32", value: ({ fa }) => fromBool(ne(fa, fa)) },
  { name: "bool not/and/or/xor", out: "u32", value: ({ ia, ib, ua }) => fromBool(xor(or(not(lt(ia, i32(0))), and(lt(ib, i32(0)), gt(ua, u32(9)))), ge(ia, ib))) },
  { name: "select f32", out: "f32", value: ({ fa, fb, ia }) => select(lt(ia, i32(0)), fa, fb) },
  { name: "select u32 on f32 compare", out: "u32", value: ({ fa, fb, ua, ub }) => select(gt(fa, fb), ua, ub) },
  { name: "f32.fromI32", out: "f32", value: ({ ia }) => convert("f32.fromI32", ia) },
  { name: "f32.fromU32", out: "f32", value: ({ ua }) => convert("f32.fromU32", ua) },
  { name: "i32.fromF32 in range", out: "i32", value: ({ fa }) => convert("i32.fromF32", inI32Range(notNaN(fa, f32(0)))) },
  { name: "u32.fromF32 in range", out: "u32", value: ({ fa }) => convert("u32.fromF32", inU32Range(notNaN(fa, f32(0)))) },
  { name: "bits of f32", out: "u32", value: ({ fa }) => select(eq(fa, fa), bitsOf(fa), u32(1)) },
  { name: "f32 from bits", out: "f32", value: ({ ua }) => fromBits(ua) },
  { name: "loop index as a value", out: "u32", value: ({ i, ua }) => xor(mul(asU32(i), u32(0x9e3779b9)), ua) },
  { name: "f32 table with ±∞, −0 and NaN", out: "f32", value: ({ b, ua }) => b.names.table("f", "f32", () => [Infinity, -Infinity, -0, NaN, 1.5, Math.fround(0.1), 2 ** -149, -3.4028234663852886e38], and(ua, u32(7))) },
  { name: "u32 and i32 tables", out: "u32", value: ({ b, ia, ua }) => add(b.names.table("u", "u32", () => [0, 0xffffffff, 0x80000000, 7], asU32(and(ia, i32(3)))), asU32(b.names.table("s", "i32", () => [-(2 ** 31), -1, 5, 2 ** 31 - 1], and(ua, u32(3))))) },
  { name: "constants NaN, ±∞, −0, −2^31 in expressions", out: "u32", value: ({ fa, ia }) =>
      add(add(bitsOf(select(lt(fa, f32(Infinity)), f32(-0), f32(-Infinity))), fromBool(ne(fa, f32(Number.NaN)))), asU32(add(ia, i32(-(2 ** 31))))) },
  { name: "constant arithmetic that overflows or is NaN (folded)", out: "u32", value: ({ ua }) =>
      add(add(asU32(add(i32(2 ** 31 - 1), i32(1))), bitsOf(mul(f32(Infinity), f32(0)))), add(asU32(shl(i32(3), i32(31))), add(ua, bitsOf(div(f32(1), f32(0)))))) },
  { name: "truncating store to u8", out: "u8", value: ({ ua }) => ua },
  { name: "truncating store to i8", out: "i8", value: ({ ua }) => ua },
  { name: "truncating store to u16", out: "u16", value: ({ ua }) => ua },
  { name: "load of i8 (sign-extending)", out: "i32", value: ({ i }) => load("i32", "s8", i) },
  { name: "load of i8 as u32", out: "u32", value: ({ i }) => load("u32", "s8", i) },
  { name: "load of u16", out: "u32", value: ({ i }) => load("u32", "w16", i) },
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

const EDGE_U32 = [0, 1, 2, 31, 32, 33, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 0x10000, 0xffff, 0x800000, 0x7f800000, 0x7fc00000, 0xff800000, 0x3f800000, 0x3f000000, 0xbf000000, 0x4b400000, 0x00000001, 0x80000001, 0x007fffff];

function operands(n: number, seed: number) {
  const ua = Uint32Array.from({ length: n }, (_, j) => (j < EDGE_U32.length ** 2 ? EDGE_U32[j % EDGE_U32.length] : counterRandom(seed, j)));
  const ub = Uint32Array.from({ length: n }, (_, j) => (j < EDGE_U32.length ** 2 ? EDGE_U32[Math.floor(j / EDGE_U32.length)] : counterRandom(seed + 1, j)));
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

describe("IR operations in WGSL on a WebGPU device", () => {
  let set: Promise<WgslKernelSet> | undefined;
  const wgsl = async () => (await (set ??= device().then((d) => instantiateWgsl(compileWgsl(MODULE), d)))).kernels;

  for (const n of [5000, 7, 1, 0]) {
    it(`compute what the interpreter computes (n = ${n})`, async () => {
      const kernels = await wgsl();
      const args = operands(n, 99 + n);
      const bad: string[] = [];
      for (const [index, c] of CASES.entries()) {
        for (const k of n > 100 ? [0, 1, 7, 31, 32, 40] : [5]) {
          const want = OUT_ARRAY[c.out](n);
          interpret(MODULE.kernels[index], { ...args, out: want, n, k });
          const got = OUT_ARRAY[c.out](n);
          await kernels[`op_${index}`](args.fa, args.fb, args.ua, args.ub, args.s8, args.w16, got, n, k);
          const w = comparable(want, c.out);
          const g = comparable(got, c.out);
          const at = w.findIndex((v, j) => v !== g[j]);
          if (at >= 0) bad.push(`${c.name} (k=${k}) #${at}: ua=${args.ua[at]} ub=${args.ub[at]} → ${got[at]}, interpreter ${want[at]}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
