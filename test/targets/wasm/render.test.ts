/**
 * The renderer: every built-in format's element kernels give WebAssembly that validates (SIMD
 * and scalar), the module layout (tables in a data segment, heap_base, no mutable globals),
 * exact constants, and refusal of anything from a spec that is not an identifier or a number.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { f32, i32, kernel, ref } from "../../../src/codegen/ir/build.ts";
import type { Expr, Kernel } from "../../../src/codegen/ir/nodes.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { f32Literal } from "../../../src/targets/wasm/literals.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { renderWasm, wasmLayout } from "../../../src/targets/wasm/render.ts";
import type { SimdExpr, SimdKernel } from "../../../src/targets/wasm/simd-ir.ts";
import { vectorizeModule } from "../../../src/targets/wasm/vectorize.ts";
import { builtin, builtinNames } from "../../support/formats.ts";
import { lowers } from "./element-check.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const copyKernel = (name: string, params: { x: string; out: string }): Kernel =>
  kernel(
    name,
    [
      { kind: "buffer", name: params.x, storage: "f32", access: "read" },
      { kind: "buffer", name: params.out, storage: "f32", access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
    ],
    (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store(params.out, i, { kind: "load", type: "f32", buffer: params.x, index: i })),
  );

describe("wasm renderer", () => {
  it("renders every built-in format's element kernels to WebAssembly the engine validates, with and without SIMD", () => {
    const rejected: string[] = [];
    for (const name of builtinNames.filter((n) => lowers(builtin(n)))) {
      const module = { kernels: [lowerEncodeElements(builtin(name)), lowerDecodeElements(builtin(name))] };
      for (const ir of [module, vectorizeModule(module).module]) {
        const wat = renderWasm(ir);
        if (!WebAssembly.validate(assembler.assemble(wat))) rejected.push(name);
        expect(wat).not.toMatch(/\(mut /);
      }
    }
    expect(rejected).toEqual([]);
  });

  it("lays tables out in one data segment, shares identical ones and exports heap_base above them", () => {
    const format = builtin("e4m3");
    const module = { kernels: [lowerEncodeElements(format), lowerDecodeElements(format), { ...lowerDecodeElements(format), name: "decode_again" }] };
    const layout = wasmLayout(module);
    expect(layout.data.length).toBe(256 * 4);
    expect(layout.tables.get("decode_again")).toEqual(layout.tables.get("decode_elements"));
    expect(layout.heapBase).toBe(1024);
    const wat = renderWasm(module);
    expect(wat).toContain('(import "env" "memory" (memory 1))');
    expect(wat).toContain('(global $heap_base (export "heap_base") i32 (i32.const 1024))');
    expect(wat.match(/\(data /g)?.length).toBe(1);
    const set = instantiateWasm(compileWasmWith(assembler, module));
    expect(set.heap.base).toBe(1024);
  });

  it("writes float32 constants as hexadecimal floats that assemble to exactly their bits", () => {
    expect(f32Literal(1)).toBe("0x1.000000p0");
    expect(f32Literal(-0)).toBe("-0x0.000000p-126");
    expect(f32Literal(2 ** -149)).toBe("0x0.000002p-126");
    expect(f32Literal(3.4028234663852886e38)).toBe("0x1.fffffep127");
    expect(f32Literal(-Infinity)).toBe("-inf");
    const values = [0, -0, 1, -1.5, 2 ** -149, -(2 ** -126), 3.4028234663852886e38, Infinity, -Infinity];
    for (let j = 0; j < 300; j++) {
      const v = new Float32Array(Uint32Array.of(counterRandom(5, j)).buffer)[0];
      if (!Number.isNaN(v)) values.push(v);
    }
    const constants = kernel("constants", [{ kind: "buffer", name: "out", storage: "f32", access: "write" }], (b) => values.forEach((v, j) => b.store("out", i32(j), f32(v))));
    const out = new Float32Array(values.length);
    instantiateWasm(compileWasmWith(assembler, { kernels: [constants] })).kernels.constants(out);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual(Array.from(new Uint32Array(Float32Array.from(values).buffer)));
  });

  it("builds vectors lane by lane, with booleans as lane masks", () => {
    const a: SimdExpr = { kind: "ref", type: "f32", name: "a" };
    const c = (value: number): SimdExpr => ({ kind: "const", type: "f32", value });
    const positive: SimdExpr = { kind: "compare", op: "gt", type: "f32", a, b: c(0) };
    const flags: SimdExpr = { kind: "lanes", type: "boolx4", args: [positive, { kind: "unary", op: "not", type: "bool", arg: positive }, { kind: "const", type: "bool", value: 1 }, { kind: "const", type: "bool", value: 0 }] };
    const hand: SimdKernel = {
      name: "lanes",
      params: [
        { kind: "buffer", name: "out", storage: "f32", access: "write" },
        { kind: "buffer", name: "flags", storage: "u8", access: "write" },
        { kind: "scalar", name: "a", type: "f32" },
      ],
      tables: [],
      body: [
        { kind: "store", buffer: "out", index: i32(0), value: { kind: "lanes", type: "f32x4", args: [a, { kind: "binary", op: "add", type: "f32", a, b: c(1) }, c(2.5), { kind: "unary", op: "neg", type: "f32", arg: a }] } },
        { kind: "let", name: "mask", value: flags },
        { kind: "store", buffer: "flags", index: i32(0), value: { kind: "convert", op: "u32.fromBool", type: "u32x4", arg: { kind: "ref", type: "boolx4", name: "mask" } } },
        { kind: "store", buffer: "flags", index: i32(4), value: { kind: "convert", op: "u32.fromBool", type: "u32", arg: { kind: "extract", type: "bool", lane: 1, arg: { kind: "ref", type: "boolx4", name: "mask" } } } },
        { kind: "store", buffer: "out", index: i32(4), value: { kind: "extract", type: "f32", lane: 3, arg: { kind: "splat", type: "f32x4", arg: a } } },
      ],
    };
    const wasm = assembler.assemble(renderWasm({ kernels: [hand] }));
    const set = instantiateWasm({ wasm, kernels: [hand], minPages: 1 });
    const out = new Float32Array(5);
    const flagsOut = new Uint8Array(5);
    set.kernels.lanes(out, flagsOut, -3);
    expect(Array.from(out)).toEqual([-3, -2, 2.5, 3, -3]);
    expect(Array.from(flagsOut)).toEqual([0, 1, 1, 0, 1]);
  });

  it("refuses constants that are not exact values of their type", () => {
    const store = (value: Expr) => ({ kernels: [kernel("k", [{ kind: "buffer", name: "out", storage: "u32", access: "write" }], (b) => b.store("out", i32(0), value))] });
    expect(() => renderWasm(store({ kind: "const", type: "u32", value: 2 ** 32 }))).toThrow(/refusing to emit/);
    expect(() => renderWasm(store({ kind: "const", type: "u32", value: 1.5 }))).toThrow(/refusing to emit/);
    expect(() => renderWasm(store({ kind: "const", type: "u32", value: "1) (unreachable" as unknown as number }))).toThrow(/refusing to emit/);
    const f = { kernels: [kernel("k", [{ kind: "buffer", name: "out", storage: "f32", access: "write" }], (b) => b.store("out", i32(0), { kind: "const", type: "f32", value: 0.1 }))] };
    expect(() => renderWasm(f)).toThrow(/not a float32/);
  });

  it("refuses names that are not identifiers, wherever they come from", () => {
    expect(() => renderWasm({ kernels: [copyKernel("k", { x: "x) (unreachable", out: "out" })] })).toThrow(/refusing to emit/);
    expect(() => renderWasm({ kernels: [{ ...copyKernel("k", { x: "x", out: "out" }), name: 'k" (export "evil' }] })).toThrow(/refusing to emit/);
    const withTable = kernel("t", [{ kind: "buffer", name: "out", storage: "u32", access: "write" }], (b) => b.store("out", i32(0), b.names.table("ok", "u32", () => [1], i32(0))));
    expect(() => renderWasm({ kernels: [{ ...withTable, tables: [{ ...withTable.tables[0], name: "a b" }] }] })).toThrow(/refusing to emit/);
    expect(() => renderWasm({ kernels: [copyKernel("heap_base", { x: "x", out: "out" })] })).toThrow(/heap_base/);
  });

  it("refuses IR that is ill-typed for its storage or uses undefined names", () => {
    const badStore = kernel("k", [{ kind: "buffer", name: "out", storage: "u8", access: "write" }], (b) => b.store("out", i32(0), f32(1)));
    expect(() => renderWasm({ kernels: [badStore] })).toThrow(/f32 values in a u8 buffer/);
    const undefinedRef = kernel("k", [{ kind: "buffer", name: "out", storage: "f32", access: "write" }], (b) => b.store("out", i32(0), ref("f32", "nowhere")));
    expect(() => renderWasm({ kernels: [undefinedRef] })).toThrow(/nowhere \(f32\) used before definition/);
  });
});
