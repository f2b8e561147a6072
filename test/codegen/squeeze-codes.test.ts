/**
 * S2FP8's code by comparisons (squeeze-codes.ts) against its definition, encode(sign(x)·exp2f(t)),
 * at the exponents t where the code steps: every step of every binade from below the subnormal
 * range to past +∞, the float32 values around it, and random and extreme t — through the IR
 * interpreter and the vectorized wasm kernel. Random tensors (scaling-kernels.test.ts) almost
 * never land on a step; these do.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { i32, kernel, load, ref } from "../../src/codegen/ir/build.ts";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import type { Kernel } from "../../src/codegen/ir/nodes.ts";
import { lowerSqueezeCode, squeezeCodeRule, type SqueezeCodeRule } from "../../src/scaling/shift-squeeze/squeeze-codes.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { f32Bits, fromF32Bits } from "../../src/dsl/semantics/bits.ts";
import { exp2f } from "../../src/dsl/semantics/elementary.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { encode } from "../../src/dsl/semantics/scalar.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { builtin } from "../support/formats.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const squeezed = (base: string, name: string): ResolvedFormat => ({ ...builtin(base), name, scaling: { kind: "shift-squeeze", targetMaxLog2: 8 } });

/** codes[i] = the rule's code of x[i] at exponent t[i]. */
function codeKernel(rule: SqueezeCodeRule): Kernel {
  const params = [
    { kind: "buffer", name: "x", storage: "f32", access: "read" },
    { kind: "buffer", name: "t", storage: "f32", access: "read" },
    { kind: "buffer", name: "codes", storage: "u32", access: "write" },
    { kind: "scalar", name: "n", type: "i32" },
  ] as const;
  return kernel("squeeze_codes", params, (b) =>
    b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("codes", i, lowerSqueezeCode(body, rule, load("f32", "x", i), load("f32", "t", i)))),
  );
}

/** The definition: x's own code where the squeeze passes x through, else encode(sign(x)·exp2f(t)). */
function expected(format: ResolvedFormat, x: number, t: number): number {
  const a = Math.abs(x);
  if (a === 0 || !(a < Number.POSITIVE_INFINITY)) return encode(format, x);
  const y = exp2f(t);
  return encode(format, x < 0 ? -y : y);
}

const nextUp = (v: number) => fromF32Bits(v >= 0 ? f32Bits(v) + 1 : f32Bits(v) - 1);
const nextDown = (v: number) => (v === 0 ? -nextUp(0) : fromF32Bits(v > 0 ? f32Bits(v) - 1 : f32Bits(v) + 1));

/** Exponents around every step the rule takes and beyond the range, plus random ones. */
function exponents(rule: SqueezeCodeRule): number[] {
  const fractions = [0, 0.5, 1 - 2 ** -24, ...rule.regular, ...[...rule.irregular.values()].flatMap((b) => b.steps)];
  const out: number[] = [];
  for (let n = -160; n <= 135; n++)
    for (const frac of fractions) {
      let t = Math.fround(n + frac);
      for (let k = 0; k < 2; k++) t = nextDown(t);
      for (let k = 0; k < 5; k++, t = nextUp(t)) out.push(t);
    }
  // The low range's steps in t (rule.low): each and the float32 values around it.
  for (const threshold of rule.low?.thresholds ?? []) {
    let t = nextDown(nextDown(threshold));
    for (let k = 0; k < 5; k++, t = nextUp(t)) out.push(t);
  }
  for (let i = 0; i < 2000; i++) out.push(Math.fround((counterRandom(7, i) / 2 ** 32 - 0.5) * 400));
  out.push(-(2 ** -30), 2 ** -30, -(2 ** -25), -(2 ** -26), 3e38, -3e38, 1e9, -1e9, 127.99999, 128, -151, -151.00002, -152);
  return out;
}

const NAN_BITS = [0x7fc00000, 0xffc00000, 0x7f800001, 0xff812345, 0x7fffffff];

describe("S2FP8 code by comparisons", () => {
  const formats = [builtin("s2fp8"), squeezed("e4m3", "e4m3-squeezed"), squeezed("e3m4", "e3m4-squeezed"), squeezed("e2m3", "e2m3-squeezed")];

  it.each(formats.map((f) => [f.name, f] as const))("%s: equals encode(sign(x)·exp2f(t)) at every step, through the interpreter and wasm", (_, format) => {
    const rule = squeezeCodeRule(format);
    expect(rule).not.toBeNull();
    const ts = exponents(rule!);
    const signs = [1, -3.5];
    const x = new Float32Array(ts.length * signs.length + NAN_BITS.length + 4);
    const t = new Float32Array(x.length);
    ts.forEach((tv, i) => signs.forEach((s, k) => ((x[i * signs.length + k] = s), (t[i * signs.length + k] = tv))));
    const specials = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, ...NAN_BITS.map(fromF32Bits)];
    specials.forEach((v, k) => ((x[x.length - specials.length + k] = v), (t[x.length - specials.length + k] = 3.25)));
    const want = Uint32Array.from(x, (xv, i) => expected(format, xv, t[i]));

    const k = codeKernel(rule!);
    const interpreted = new Uint32Array(x.length);
    interpret(k, { x, t, codes: interpreted, n: x.length });
    expect(interpreted).toEqual(want);

    const compiled = compileWasmWith(assembler, { kernels: [k] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true });
    const wasm = new Uint32Array(x.length);
    instantiateWasm(compiled).kernels.squeeze_codes(x, t, wasm, x.length);
    expect(wasm).toEqual(want);
  });

  it("gives NaN's code for a NaN exponent (exp2f(NaN) is NaN), by x's sign", () => {
    for (const format of formats) {
      const codes = new Uint32Array(2);
      interpret(codeKernel(squeezeCodeRule(format)!), { x: Float32Array.of(1, -2), t: Float32Array.of(Number.NaN, Number.NaN), codes, n: 2 });
      expect([...codes], format.name).toEqual([encode(format, Number.NaN), encode(format, fromF32Bits(0xffc00000))]);
    }
  });

  it("is refused where exp2f and the encoder must stay: stochastic rounding, no negative zero, wider than 8 bits", () => {
    expect(squeezeCodeRule({ ...builtin("s2fp8"), rounding: { mode: "stochastic", bits: 8 } })).toBeNull();
    expect(squeezeCodeRule(squeezed("e4m3fnuz", "e4m3fnuz-squeezed"))).toBeNull();
    expect(squeezeCodeRule(squeezed("fp16", "fp16-squeezed"))).toBeNull();
  });

  it("takes E5M2's steps where 2^frac rounds to the next 2-bit mantissa, ties to even", () => {
    const rule = squeezeCodeRule(builtin("s2fp8"))!;
    expect(rule.perBinade).toBe(4);
    // 2^φ crosses 1.125 (tie → 1.0, so just above), 1.375, 1.625 (tie → 1.5) and 1.875.
    expect(rule.regular.map((phi) => Math.log2(1.125 + 0.25 * rule.regular.indexOf(phi)))).toEqual(rule.regular.map((phi) => expect.closeTo(phi, 6)));
    expect([...rule.irregular.keys()]).toEqual([-17, -16, -15]);
    expect(rule.underflowThrough).toBe(-18);
    // Below the regular binades, one step in t per code: E5M2's subnormals 1, 2 and 3 (2^−16, 2^−15, 1.5·2^−15) and its least normal 2^−14.
    expect(rule.low?.thresholds.map((t) => Math.round(t))).toEqual([-17, -15, -15, -14]);
    expect(rule.low?.first).toBe(0);
  });
});
