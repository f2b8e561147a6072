/**
 * f32 division on WGSL is correctly rounded although WGSL only promises 2.5 ULP: the renderer
 * emits nf_div_f32 (long division on the bits), checked on a WebGPU device against float32
 * division (JS divides in double and rounds once, which is the correctly rounded quotient) on
 * quotients across the whole range: normal, subnormal (with ties to even at the bottom),
 * overflowing, and every special operand.
 */
import { describe, expect, it } from "vitest";
import { div, i32, kernel, load, ref } from "../../../src/codegen/ir/build.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";
import { compileWgsl } from "../../../src/targets/wgsl/compile.ts";
import { instantiateWgsl } from "../../../src/targets/wgsl/runner.ts";
import { useWgslDevice } from "./gpu.ts";

const device = useWgslDevice();

const MODULE = {
  kernels: [
    kernel("divide", [
      { kind: "buffer", name: "a", storage: "f32", access: "read" },
      { kind: "buffer", name: "b", storage: "f32", access: "read" },
      { kind: "buffer", name: "q", storage: "f32", access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
    ], (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("q", i, div(load("f32", "a", i), load("f32", "b", i))))),
  ],
};

const SPECIAL = [0, -0, 1, -1, 2, 0.5, 3, 1 / 3, 2 ** -149, -(2 ** -149), 2 ** -126, 1.1754942e-38, 3.4028235e38, -3.4028235e38, Infinity, -Infinity, NaN, 7, 1e-30, 1e30];

function operands(): { a: Float32Array; b: Float32Array } {
  const pairs: [number, number][] = [];
  for (const x of SPECIAL) for (const y of SPECIAL) pairs.push([x, y]);
  // Ties at the bottom of the subnormals: odd multiples of 2^-149 halved.
  for (let m = 1; m < 64; m++) pairs.push([m * 2 ** -149, 2], [m * 2 ** -149, -4]);
  const bitsOf = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0];
  for (let j = 0; j < 60000; j++) {
    const u = counterRandom(5, j);
    const v = counterRandom(6, j);
    // Exponent differences that reach overflow, the subnormal range and below it, and plain ones.
    const spread = j % 3 === 0 ? v : (v & 0x807fffff) | (((u >>> 23) & 0xff) % 60 + 100) << 23;
    pairs.push([bitsOf(u), bitsOf(spread >>> 0)]);
  }
  return { a: Float32Array.from(pairs, (p) => p[0]), b: Float32Array.from(pairs, (p) => p[1]) };
}

describe("f32 division on WGSL", () => {
  it("renders as nf_div_f32, not WGSL's own /", () => {
    const text = compileWgsl(MODULE).kernels[0].passes.map((p) => p.wgsl).join("\n");
    expect(text).toContain("nf_div_f32(");
    expect(text).not.toMatch(/\bf32\s*\)\s*\/|\)\s*\/\s*\(/);
  });

  it("equals the correctly rounded float32 quotient, bit for bit, on a WebGPU device", async () => {
    const { kernels } = await instantiateWgsl(compileWgsl(MODULE), await device());
    const { a, b } = operands();
    const got = new Float32Array(a.length);
    await kernels.divide(a, b, got, a.length);
    const want = Float32Array.from(a, (x, i) => x / b[i]);
    const gotBits = new Uint32Array(got.buffer);
    const wantBits = new Uint32Array(want.buffer);
    const bad: string[] = [];
    for (let i = 0; i < a.length && bad.length < 10; i++) {
      if (Number.isNaN(want[i]) ? !Number.isNaN(got[i]) : gotBits[i] !== wantBits[i]) bad.push(`${a[i]} / ${b[i]} = ${got[i]}, want ${want[i]}`);
    }
    expect(bad).toEqual([]);
  }, 120_000);
});
