/**
 * The wasm loader: the JS target's calling convention (typed arrays copied in and out, aliasing
 * of one array preserved, array-likes, argument errors), the raw byte-offset API over the heap,
 * memory growth and its clear failure, and the engine feature report.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, f32, i32, kernel, load, mul, ref } from "../../../src/codegen/ir/build.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { createWasmAssembler, engineHasRelaxedSimd, engineHasSimd, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm, loadWasm } from "../../../src/targets/wasm/load.ts";
import { WasmHeap } from "../../../src/package-runtime/wasm-runtime.js";
import { builtin } from "../../support/formats.ts";
import { randomBitPatterns } from "../../support/inputs.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

/** y[i] = x[i]·2 + y[i]: reads and writes y. */
const axpy = kernel(
  "axpy",
  [
    { kind: "buffer", name: "x", storage: "f32", access: "read" },
    { kind: "buffer", name: "y", storage: "f32", access: "readwrite" },
    { kind: "scalar", name: "n", type: "i32" },
  ],
  (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("y", i, add(mul(load("f32", "x", i), f32(2)), load("f32", "y", i)))),
);

describe("wasm loader", () => {
  it("loadWasm gives kernels with the JS target's calling convention and results", async () => {
    const format = builtin("e5m2");
    const module = { kernels: [lowerEncodeElements(format), lowerDecodeElements(format)] };
    const wasm = await loadWasm(module);
    const js = loadJs(module);
    const x = randomBitPatterns(1001, 3);
    const [a, b] = [new Uint8Array(1001), new Uint8Array(1001)];
    wasm.encode_elements(x, a, 1001, 0);
    js.encode_elements(x, b, 1001, 0);
    expect(a).toEqual(b);
  });

  it("copies only what is written back, leaves the rest, and keeps one array passed twice aliased", () => {
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [axpy] }));
    const x = Float32Array.from({ length: 10 }, (_, j) => j);
    const y = new Float32Array(10).fill(1);
    set.kernels.axpy(x, y, 7);
    expect(Array.from(y)).toEqual([1, 3, 5, 7, 9, 11, 13, 1, 1, 1]);
    expect(Array.from(x)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const z = Float32Array.of(1, 2, 3, 4, 5);
    set.kernels.axpy(z, z, 5); // z = 3z, as the JS target computes in place
    expect(Array.from(z)).toEqual([3, 6, 9, 12, 15]);
    const plain = [1, 2, 3];
    const out = [10, 20, 30];
    set.kernels.axpy(plain, out, 3);
    expect(out).toEqual([12, 24, 36]);
  });

  it("explains wrong arguments", () => {
    const { kernels } = instantiateWasm(compileWasmWith(assembler, { kernels: [axpy] }));
    expect(() => kernels.axpy(new Float32Array(1), new Float32Array(1))).toThrow("axpy expects 3 arguments (x, y, n), got 2");
    expect(() => kernels.axpy(new Float32Array(1), 3, 1)).toThrow("axpy: y must be a typed array");
    expect(() => kernels.axpy(new Float32Array(1), new Float32Array(1), new Float32Array(1))).toThrow("axpy: n must be a number");
  });

  it("runs on resident tensors through the raw API (byte offsets), growing memory on demand", () => {
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [axpy] }));
    const n = 300_000; // 2.4 MB: beyond the initial page
    const before = set.heap.memory.buffer.byteLength;
    const xAt = set.heap.copyIn(Float32Array.from({ length: n }, (_, j) => j % 100));
    const yAt = set.heap.copyIn(new Float32Array(n).fill(0.5));
    expect(set.heap.memory.buffer.byteLength).toBeGreaterThan(before);
    set.raw.axpy(xAt, yAt, n);
    set.raw.axpy(xAt, yAt, n);
    const y = new Float32Array(n);
    set.heap.read(yAt, y);
    expect([y[0], y[1], y[n - 1]]).toEqual([0.5, 4.5, 0.5 + 4 * ((n - 1) % 100)]);
    const mark = set.heap.mark();
    set.heap.alloc(100);
    set.heap.release(mark);
    expect(set.heap.alloc(0)).toBe(mark);
  });

  it("fails with a clear error when memory cannot grow", () => {
    const heap = new WasmHeap(new WebAssembly.Memory({ initial: 1, maximum: 2 }), 1024);
    expect(() => heap.alloc(3 * 65536)).toThrow(`WebAssembly memory could not grow to ${1024 + 3 * 65536} bytes`);
    expect(() => heap.alloc(2 ** 32)).toThrow(/WebAssembly memory could not grow to 4294968320 bytes/);
    expect(heap.alloc(16)).toBe(1024); // still usable
  });

  it("copies in and out exactly, as elements or as bytes, before and after the memory grows (its views made again)", () => {
    for (const shared of [false, true]) {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 64, ...(shared ? { shared: true } : {}) });
      const heap = new WasmHeap(memory, 1024);
      // NaN payloads and −0 survive: same-type copies move bytes.
      const bits = Uint32Array.of(0x7fc00001, 0xff812345, 0x80000000, 0x3f800000, 0x00000001);
      const values = new Float32Array(bits.buffer);
      const at = heap.copyIn(values);
      heap.alloc(5 * 65536); // grows: the buffer the views were over is gone
      expect(memory.buffer.byteLength, `shared ${shared}`).toBeGreaterThan(5 * 65536);
      const back = new Float32Array(5);
      heap.read(at, back);
      expect(new Uint32Array(back.buffer), `shared ${shared}`).toEqual(bits);
      // Written after the growth at an offset no Float32 view can take: copied as bytes, both ways.
      const late = heap.alloc(64);
      heap.write(late + 1, values);
      const odd = new Float32Array(5);
      heap.read(late + 1, odd);
      expect(new Uint32Array(odd.buffer), `shared ${shared}`).toEqual(bits);
      heap.write(late + 3, Int8Array.of(-1, 2, -3));
      const bytes = new Int8Array(3);
      heap.read(late + 3, bytes);
      expect([...bytes]).toEqual([-1, 2, -3]);
      // clear zeroes exactly its range, also an unaligned tail.
      heap.write(late, new Uint8Array(32).fill(7));
      heap.clear(late + 8, 13);
      const cleared = new Uint8Array(32);
      heap.read(late, cleared);
      expect([...cleared]).toEqual([...Array(8).fill(7), ...Array(13).fill(0), ...Array(11).fill(7)]);
    }
  });

  it("reports the engine's SIMD and relaxed-SIMD support; kernels use plain SIMD either way", () => {
    expect(engineHasSimd(assembler)).toBe(true);
    const relaxed = engineHasRelaxedSimd(assembler);
    expect(typeof relaxed).toBe("boolean");
    const compiled = compileWasmWith(assembler, { kernels: [axpy] });
    expect(compiled.relaxedSimd).toBe(relaxed);
    expect(compiled.simd).toBe(true);
    expect(compiled.wat).not.toMatch(/relaxed/);
  });
});
