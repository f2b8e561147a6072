/**
 * The superword pass on small kernels: what it packs (and renders as vector instructions), what
 * it must refuse because moving four statements to the last one's place would change a result
 * (a write in between to something read, a read of the stored buffer at other elements, an
 * accumulator read inside its loop, non-consecutive elements), and that packed or not, the
 * kernel computes what the interpreter computes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, f32, i32, kernel, load, mul, ref, type Builder } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import type { Kernel, Param } from "../../../src/codegen/ir/nodes.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { MIN_BUFFER_OFFSET } from "../../../src/targets/wasm/instructions.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const PARAMS: readonly Param[] = [
  { kind: "buffer", name: "x", storage: "f32", access: "readwrite" },
  { kind: "buffer", name: "out", storage: "f32", access: "readwrite" },
  { kind: "scalar", name: "n", type: "i32" },
];

/** Compiles (plain SIMD), runs on fixed inputs, compares to the interpreter and returns what the pass packed. */
function check(k: Kernel, n: number): { stores: number; accumulators: number; wat: string } {
  const compiled = compileWasmWith(assembler, { kernels: [k] }, { relaxed: false });
  const x = Float32Array.from({ length: 64 }, (_, i) => Math.fround(Math.sin(i + 1) * 3));
  const out = Float32Array.from({ length: 64 }, (_, i) => Math.fround(Math.cos(i) * 2));
  const want = { x: x.slice(), out: out.slice() };
  interpret(k, { ...want, n });
  const got = { x: x.slice(), out: out.slice() };
  instantiateWasm(compiled).kernels[k.name](got.x, got.out, n);
  expect(Array.from(got.x)).toEqual(Array.from(want.x));
  expect(Array.from(got.out)).toEqual(Array.from(want.out));
  const report = compiled.superword[0];
  return { stores: report.stores, accumulators: report.accumulators, wat: compiled.wat };
}

/** out[base + i] = x[base + i]·2 + out[base + i] for i < 4, with `between` emitted after store `at`. */
function fourStores(name: string, between?: { at: number; emit: (b: Builder) => void }, index = (i: number) => i32(i)): Kernel {
  return kernel(name, PARAMS, (b) => {
    for (let i = 0; i < 4; i++) {
      const at = b.let("at", add(ref("i32", "n"), index(i)));
      b.store("out", at, add(mul(load("f32", "x", at), f32(2)), load("f32", "out", at)));
      if (between?.at === i) between.emit(b);
    }
  });
}

describe("superword pass", () => {
  it("packs four consecutive read-modify-write stores into one vector load/store", () => {
    const r = check(fourStores("rmw"), 5);
    expect(r.stores).toBe(1);
    expect(r.wat).toMatch(/v128\.store align=4/);
    expect(r.wat).toMatch(/f32x4\.mul/);
  });

  it("refuses when a statement in between writes a buffer the group reads", () => {
    const k = fourStores("clobber", { at: 1, emit: (b) => b.store("x", add(ref("i32", "n"), i32(3)), f32(100)) });
    expect(check(k, 5).stores).toBe(0);
  });

  it("refuses a read of the stored buffer at other elements, and non-consecutive elements", () => {
    const shifted = kernel("shifted", PARAMS, (b) => {
      for (let i = 0; i < 4; i++) b.store("out", add(ref("i32", "n"), i32(i)), add(load("f32", "out", add(ref("i32", "n"), i32(i + 1))), f32(1)));
    });
    expect(check(shifted, 3).stores).toBe(0);
    expect(check(fourStores("strided", undefined, (i) => i32(2 * i)), 3).stores).toBe(0);
  });

  it("packs four accumulators updated once per iteration, and leaves them scalar when the loop reads one elsewhere", () => {
    const accumulate = (name: string, peek: boolean) =>
      kernel(name, PARAMS, (b) => {
        const acc = Array.from({ length: 4 }, () => b.var("acc", f32(0)));
        b.for("p", i32(0), ref("i32", "n"), (p, body) => {
          const base = body.let("base", mul(p, i32(4)));
          const v = Array.from({ length: 4 }, (_, j) => body.let("v", load("f32", "x", add(base, i32(j)))));
          acc.forEach((a, j) => body.assign(a.name, add(a.ref, mul(v[j], v[0]))));
          if (peek) body.store("out", add(p, i32(40)), acc[2].ref);
        });
        acc.forEach((a, j) => b.store("out", i32(j), a.ref));
      });
    const packed = check(accumulate("acc", false), 9);
    expect(packed.accumulators).toBe(1);
    expect(packed.wat).toMatch(/v128\.load32_splat/);
    expect(check(accumulate("peek", true), 9).accumulators).toBe(0);
  });
});

describe("constant index offsets folded into memory operands", () => {
  it("an index X + c with X negative still reads element X + c (buffers start at or above MIN_BUFFER_OFFSET)", () => {
    const k = kernel("shifted_read", PARAMS, (b) => {
      b.for("i", i32(0), ref("i32", "n"), (i, body) => {
        const back = body.let("back", add(i, i32(-200))); // negative for every i < 200
        body.store("out", i, load("f32", "x", add(back, i32(200))));
      });
    });
    const compiled = compileWasmWith(assembler, { kernels: [k] }, { vectorize: false });
    expect(compiled.wat).toMatch(/f32\.load offset=800 /);
    expect(compiled.minPages).toBeGreaterThanOrEqual(1);
    const x = Float32Array.from({ length: 16 }, (_, i) => i + 0.5);
    const out = new Float32Array(16);
    instantiateWasm(compiled).kernels.shifted_read(x, out, 16);
    expect(Array.from(out)).toEqual(Array.from(x));
    expect(instantiateWasm(compiled).heap.base).toBeGreaterThanOrEqual(MIN_BUFFER_OFFSET);
  });
});
