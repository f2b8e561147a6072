/**
 * f32 division on WGSL is correctly rounded although WGSL only promises 2.5 ULP: the renderer
 * emits nf_div_f32 (long division on the bits), checked on a WebGPU device against float32
 * division (JS divides in double and rounds once, which is the correctly rounded quotient) on
 * quotients across the whole range: normal, subnormal (with ties to even at the bottom),
 * overflowing, and every special operand. NaNs are bit-exact as x86 makes them (the host of the semantics
 * and the wasm target): an operand NaN comes back quieted, the dividend's first; 0/0 and ∞/∞ give 0xffc00000.
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
  const bitsOf = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0];
  const specials = [...SPECIAL, bitsOf(0xffc00000), bitsOf(0x7f800001), bitsOf(0xff912345), bitsOf(0x7fc00abc)];
  for (const x of specials) for (const y of specials) pairs.push([x, y]);
  // Ties at the bottom of the subnormals: odd multiples of 2^-149 halved.
  for (let m = 1; m < 64; m++) pairs.push([m * 2 ** -149, 2], [m * 2 ** -149, -4]);
  for (let j = 0; j < 60000; j++) {
    const u = counterRandom(5, j);
    const v = counterRandom(6, j);
    // Exponent differences that reach overflow, the subnormal range and below it, and plain ones.
    const spread = j % 3 === 0 ? v : (v & 0x807fffff) | (((u >>> 23) & 0xff) % 60 + 100) << 23;
    pairs.push([bitsOf(u), bitsOf(spread >>> 0)]);
  }
  const a = new Float32Array(pairs.length);
  const b = new Float32Array(pairs.length);
  // Element-wise stores keep each NaN's bits (a number from bitsOf is written back as the same float32).
  pairs.forEach(([x, y], i) => ((a[i] = x), (b[i] = y)));
  return { a, b };
}

/** The bits of a / b in float32: IEEE's correctly rounded quotient, NaNs as x86 makes them. */
function quotientBits(aBits: number, bBits: number, a: number, b: number): number {
  const isNaN = (u: number) => (u & 0x7fffffff) > 0x7f800000;
  if (isNaN(aBits)) return (aBits | 0x00400000) >>> 0;
  if (isNaN(bBits)) return (bBits | 0x00400000) >>> 0;
  const q = new Float32Array([a / b]);
  return Number.isNaN(q[0]) ? 0xffc00000 : new Uint32Array(q.buffer)[0];
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
    const aBits = new Uint32Array(a.buffer);
    const bBits = new Uint32Array(b.buffer);
    const gotBits = new Uint32Array(got.buffer);
    const hex = (u: number) => `0x${(u >>> 0).toString(16).padStart(8, "0")}`;
    const bad: string[] = [];
    for (let i = 0; i < a.length && bad.length < 10; i++) {
      const want = quotientBits(aBits[i], bBits[i], a[i], b[i]);
      if (gotBits[i] !== want) bad.push(`${hex(aBits[i])} / ${hex(bBits[i])} = ${hex(gotBits[i])}, want ${hex(want)}`);
    }
    expect(bad).toEqual([]);
  }, 120_000);
});
