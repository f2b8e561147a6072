/**
 * The carrier-difference pass (src/targets/wasm/carrier-difference.ts): the fused fake-quantize's
 * integer read-back of a carrier sum, f32(bits(C + X) − bits(C)) · ulp(C), becomes (C + X) − C in
 * float on wasm — only where the IR proves it equal (X finite and non-negative, C a normal power
 * of two built from X's own exponent, its ulp normal). Checked: the shipped fake-quantize kernels
 * take it; kernels that miss one condition keep the integer form; and every kernel gives the
 * interpreter's bits on all float32 classes (NaN, ±∞, ±0, subnormals, the cap, ties) in the vector
 * body and the scalar tail.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, and, asI32, asU32, bitsOf, convert, fromBits, i32, kernel, load, max, min, mul, ref, sub, u32 } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import type { Expr } from "../../../src/codegen/ir/nodes.ts";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { builtin } from "../../support/formats.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const PARAMS = [
  { kind: "buffer", name: "x", storage: "f32", access: "read" },
  { kind: "buffer", name: "y", storage: "f32", access: "write" },
  { kind: "scalar", name: "n", type: "i32" },
] as const;

const TWO_23 = 2 ** 23;

/**
 * y = f32(bits(C + X) − bits(C)) · fromBits(bits(C) − 23·2^23), the fused fake-quantize's form
 * (e4m3's numbers by default: X = min(|x|, 448's bits), C = max(X's exponent, 2^−6's) + 20·2^23),
 * with one part replaced per variant.
 */
function carrierKernel(name: string, variant: { cap?: number | null; lowest?: number; step?: number; carrierFromOther?: boolean; absMask?: number } = {}) {
  const { cap = 0x43e00000, lowest = 0x3c800000, step = 20 * TWO_23, carrierFromOther = false, absMask = 0x7fffffff } = variant;
  return kernel(name, PARAMS, (b) => {
    b.for("i", i32(0), ref("i32", "n"), (i, body) => {
      const bits = body.let("bits", bitsOf(load("f32", "x", i)));
      const abs = body.let("abs_bits", and(bits, u32(absMask)));
      const capped: Expr = body.let("capped_bits", cap === null ? asI32(abs) : min(asI32(abs), i32(cap)));
      const exponentOf = carrierFromOther ? body.let("other_bits", asI32(bits)) : capped;
      const carrier = body.let("carrier_bits", add(max(and(exponentOf, i32(0x7f800000)), i32(lowest)), i32(step)));
      const sum = body.let("carrier_sum", add(fromBits(asU32(carrier)), fromBits(asU32(capped))));
      const quanta = convert("f32.fromI32", sub(asI32(bitsOf(sum)), carrier));
      body.store("y", i, mul(quanta, fromBits(asU32(sub(carrier, i32(23 * TWO_23))))));
    });
  });
}

/** Every float32 class, the cap and ties around it, and a sweep of bit patterns. */
function inputs(): Float32Array {
  const special = [0, -0, 1, -1, 448, 464, 480, 1e30, -1e30, 2 ** -6, 2 ** -9, 3 * 2 ** -10, 2 ** -10, 1e-40, -1e-40, 1e-45, Infinity, -Infinity, Number.NaN];
  const bits = new Uint32Array(4099);
  let s = 7;
  for (let i = 0; i < bits.length; i++) bits[i] = s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const x = new Float32Array(bits.buffer);
  x.set(special);
  new Uint32Array(x.buffer)[special.length] = 0xffc00001; // a negative NaN with a payload
  return x;
}

function fakeQuantizeWat(name: string, kernelName: string): string {
  const k = lowerFormat(builtin(name)).kernels.find((kk) => kk.name === kernelName)!;
  return compileWasmWith(assembler, { kernels: [k] }).wat;
}

describe("wasm: the carrier sum read back by a float subtraction", () => {
  it("takes the shipped fused fake-quantize kernels (no integer read-back left)", () => {
    for (const [name, kernelName] of [["e4m3", "fake_quantize_elements"], ["e5m2", "fake_quantize_elements"], ["mxfp8", "block_fake_quantize_flat"], ["mxfp8", "block_fake_quantize_columns"]] as const) {
      const wat = fakeQuantizeWat(name, kernelName);
      expect(wat, `${name} ${kernelName}`).toMatch(/\(f32x4\.sub \(local\.get \$carrier_sum\w*\) \(local\.get \$carrier_bits\w*\)\)/);
      expect(wat, `${name} ${kernelName}`).not.toMatch(/f32x4\.convert_i32x4_s/);
    }
  });

  it("leaves the integer form where a condition is not proven", () => {
    const cases = [
      carrierKernel("uncapped", { cap: null }), // X may be ∞ or NaN
      carrierKernel("signed", { absMask: 0xffffffff }), // X may be negative
      carrierKernel("other", { carrierFromOther: true }), // C not from X's exponent
      carrierKernel("no_step", { step: 0 }), // C = X's binade: X + C leaves it
      carrierKernel("subnormal_lowest", { lowest: 0 }), // C's ulp may be subnormal
    ];
    for (const k of cases) expect(compileWasmWith(assembler, { kernels: [k] }).wat, k.name).toMatch(/f32x4\.convert_i32x4_s/);
    expect(compileWasmWith(assembler, { kernels: [carrierKernel("proven")] }).wat).not.toMatch(/f32x4\.convert_i32x4_s/);
  });

  it("gives the interpreter's bits, rewritten or not, vector body and scalar tail", () => {
    const kernels = [carrierKernel("proven"), carrierKernel("uncapped", { cap: null }), carrierKernel("e5m2_like", { cap: 0x47600000, lowest: 0x38800000, step: 21 * TWO_23 })];
    const set = instantiateWasm(compileWasmWith(assembler, { kernels }));
    const x = inputs();
    for (const k of kernels)
      for (const n of [x.length, x.length - 3, 5]) {
        const want = new Float32Array(n);
        interpret(k, { x, y: want, n });
        const got = new Float32Array(n);
        set.kernels[k.name](x, got, n);
        const [g, w] = [new Uint32Array(got.buffer), new Uint32Array(want.buffer)];
        const at = g.findIndex((v, i) => v !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i])));
        expect(at < 0 ? "same" : `x = ${x[at]} (0x${new Uint32Array(x.buffer)[at].toString(16)}): 0x${g[at].toString(16)}, want 0x${w[at].toString(16)}`, `${k.name} n = ${n}`).toBe("same");
      }
  });
});
