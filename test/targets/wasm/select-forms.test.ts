/**
 * Vector selects rendered in fewer instructions than v128.bitselect (instructions.ts
 * vectorSelect): f32 compare-and-selects of the compared values as f32x4.pmin / pmax, an arm of
 * zero bits as v128.and / andnot, two constant arms as an xor of constants — each against the
 * interpreter bit for bit on NaNs (several payloads), ±0, ±∞, subnormals, equal pairs and random
 * values, and each present in the rendered text.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, and, bitsOf, f32, gt, i32, kernel, load, lt, ref, select, u32, xor } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import { fromF32Bits } from "../../../src/dsl/semantics/bits.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const FLOAT_OUTPUTS = ["max_lt", "min_lt", "min_gt", "max_gt", "clamped", "zero_else"] as const;
const CODE_OUTPUTS = ["masked", "masked_not", "constants", "mixed", "and_not", "not_and"] as const;

const forms = kernel(
  "forms",
  [
    { kind: "buffer", name: "x", storage: "f32", access: "read" },
    { kind: "buffer", name: "y", storage: "f32", access: "read" },
    ...FLOAT_OUTPUTS.map((name) => ({ kind: "buffer", name, storage: "f32", access: "write" }) as const),
    ...CODE_OUTPUTS.map((name) => ({ kind: "buffer", name, storage: "u32", access: "write" }) as const),
    { kind: "scalar", name: "n", type: "i32" },
  ],
  (b) =>
    b.for("i", i32(0), ref("i32", "n"), (i, body) => {
      const x = body.let("xv", load("f32", "x", i));
      const y = body.let("yv", load("f32", "y", i));
      body.store("max_lt", i, select(lt(x, y), y, x));
      body.store("min_lt", i, select(lt(x, y), x, y));
      body.store("min_gt", i, select(gt(x, y), y, x));
      body.store("max_gt", i, select(gt(x, y), x, y));
      // The squeeze exponent's clamp: constants on one side of each compare.
      const low = body.let("low", select(lt(x, f32(-152)), f32(-152), x));
      body.store("clamped", i, select(gt(low, f32(128)), f32(128), low));
      body.store("zero_else", i, select(gt(x, y), x, f32(0)));
      const above = body.let("above", gt(x, y));
      body.store("masked", i, select(above, bitsOf(y), u32(0)));
      body.store("masked_not", i, select(above, u32(0), bitsOf(x)));
      body.store("constants", i, select(above, u32(0x80000005), u32(9)));
      body.store("mixed", i, add(select(lt(x, y), u32(3), u32(0xfffffff0)), select(above, u32(1), u32(0))));
      // a & (m ^ all ones), either operand order: v128.andnot.
      body.store("and_not", i, and(bitsOf(x), xor(bitsOf(y), u32(0xffffffff))));
      body.store("not_and", i, and(xor(u32(0xffffffff), bitsOf(y)), add(bitsOf(x), u32(1))));
    }),
);

/** Pairs over NaNs of several payloads and signs, ±0, ±∞, subnormals, the clamp's edges, equal values and random values. */
function pairs(): { x: Float32Array; y: Float32Array } {
  const specials = [
    Number.NaN, fromF32Bits(0x7fa00001), fromF32Bits(0xffc00003), 0, -0, Infinity, -Infinity, fromF32Bits(1), fromF32Bits(0x807fffff),
    -152, fromF32Bits(0xc3180001), 128, fromF32Bits(0x43000001), 1, -1, 2.5,
  ];
  const xs: number[] = [];
  const ys: number[] = [];
  for (const a of specials)
    for (const b of specials) {
      xs.push(a);
      ys.push(b);
    }
  let s = 99;
  const random = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return ((s >>> 8) / 2 ** 24 - 0.5) * 2 ** ((s % 21) - 6) * 300;
  };
  for (let k = 0; k < 2001; k++) {
    xs.push(random());
    ys.push(k % 7 === 0 ? xs[xs.length - 1] : random());
  }
  return { x: Float32Array.from(xs), y: Float32Array.from(ys) };
}

describe("wasm vector select forms", () => {
  it("pmin/pmax, and/andnot and constant-arm selects equal the interpreter bit for bit", () => {
    const compiled = compileWasmWith(assembler, { kernels: [forms] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true });
    for (const form of ["f32x4.pmax", "f32x4.pmin", "v128.and", "v128.andnot", "v128.xor"]) expect(compiled.wat, form).toContain(`(${form} `);
    expect(compiled.wat).not.toMatch(/v128\.xor \(\S+ \S+\) \(v128\.const i32x4 -1 -1 -1 -1\)|v128\.xor \(v128\.const i32x4 -1 -1 -1 -1\)/);
    const set = instantiateWasm(compiled);
    const { x, y } = pairs();
    const n = x.length;
    const outputs = () => [...FLOAT_OUTPUTS.map(() => new Float32Array(n)), ...CODE_OUTPUTS.map(() => new Uint32Array(n))];
    const want = outputs();
    const names = [...FLOAT_OUTPUTS, ...CODE_OUTPUTS];
    interpret(forms, { x, y, n, ...Object.fromEntries(names.map((name, k) => [name, want[k]])) });
    const got = outputs();
    set.kernels.forms(x, y, ...got, n);
    names.forEach((name, k) => {
      const bits = (a: Float32Array | Uint32Array) => Array.from(new Uint32Array(a.buffer));
      const [g, w] = [bits(got[k]), bits(want[k])];
      const bad = g.flatMap((v, i) => (v === w[i] ? [] : [`#${i} (${x[i]}, ${y[i]}): ${v.toString(16)}, want ${w[i].toString(16)}`])).slice(0, 5);
      expect(bad, name).toEqual([]);
    });
  });
});
