/**
 * The WGSL runner's contract on a real WebGPU device: the JS target's positional calling
 * convention (typed arrays and array-likes copied in, written ones copied back, views at odd
 * offsets, narrow codes padded to words), clear errors (arity, a writable array passed twice,
 * WGSL that does not compile, no adapter at all), and the pipeline cache keyed by the WGSL.
 */
import { afterEach, describe, expect, it } from "vitest";
import { i32, kernel, load, ref } from "../../../src/codegen/ir/build.ts";
import type { Kernel } from "../../../src/codegen/ir/nodes.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import { decode, encode } from "../../../src/dsl/semantics/scalar.ts";
import { compileWgsl, compileWgslKernel } from "../../../src/targets/wgsl/compile.ts";
import { WEBGPU_HINT } from "../../../src/package-runtime/wgsl-runtime.js";
import { openWgslDevice } from "../../../src/targets/wgsl/device.ts";
import { instantiateWgsl, loadWgsl } from "../../../src/targets/wgsl/runner.ts";
import { builtin } from "../../support/formats.ts";
import { useWgslDevice } from "./gpu.ts";

const device = useWgslDevice();

const addOne: Kernel = kernel(
  "add_one",
  [
    { kind: "buffer", name: "x", storage: "u8", access: "read" },
    { kind: "buffer", name: "y", storage: "i32", access: "write" },
    { kind: "scalar", name: "n", type: "i32" },
  ],
  (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("y", i, { kind: "binary", op: "add", type: "i32", a: load("i32", "x", i), b: i32(1) })),
);

describe("WGSL runner", () => {
  it("loadWgsl: typed arrays and array-likes in, written arrays back, views at odd offsets, only n elements touched", async () => {
    const kernels = await loadWgsl({ kernels: [addOne] }, await device());
    const x = Uint8Array.from([1, 2, 3, 250, 255, 7, 9]);
    const y = new Int32Array(7).fill(-5);
    await kernels.add_one(x.subarray(1), y.subarray(2), 4);
    expect(Array.from(y)).toEqual([-5, -5, 3, 4, 251, 256, -5]);
    const plain = [0, 0, 0];
    await kernels.add_one([10, 20, 30], plain, 3);
    expect(plain).toEqual([11, 21, 31]);
    const signed = Int8Array.from([-1, -2]);
    const out = new Int32Array(2);
    await kernels.add_one(signed, out, 2); // an i8 view of the same bytes as u8 codes
    expect(Array.from(out)).toEqual([256, 255]);
  });

  it("encodes with a format's kernels as the semantics, through loadWgsl's own device when none is given", async () => {
    const format = builtin("e5m2");
    const kernels = await loadWgsl({ kernels: [lowerEncodeElements(format)] });
    const x = Float32Array.from([0, 1, 1.75, -3.1, 65504, 1e-6, Number.NaN, -Infinity]);
    const codes = new Uint8Array(x.length);
    await kernels.encode_elements(x, codes, x.length, 0);
    expect(Array.from(codes)).toEqual(Array.from(x, (v) => encode(format, v)));
  });

  it("says what is wrong: arity, a written array passed twice", async () => {
    const kernels = await loadWgsl({ kernels: [addOne] }, await device());
    await expect(kernels.add_one(new Uint8Array(1), new Int32Array(1))).rejects.toThrow(/add_one expects 3 arguments \(x, y, n\), got 2/);
    const format = builtin("fp32");
    const fp32 = await loadWgsl({ kernels: [lowerDecodeElements(format)] }, await device());
    const same = new Uint32Array(4);
    await expect(fp32.decode_elements(same, same, 4)).rejects.toThrow(/same array is passed as (codes|out) and (codes|out)/);
  });

  it("reports WGSL that does not compile with the kernel's name and line", async () => {
    const broken = { ...compileWgslKernel(addOne).passes[0], wgsl: "fn main( {", hash: "broken" };
    await expect((await device()).pipeline(broken)).rejects.toThrow(/WGSL of kernel add_one does not compile:\n\s+line 1/);
  });

  it("binds each kernel's own tables: formats whose decode shaders are the same WGSL decode differently", async () => {
    const d = await device();
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const name of ["e4m3", "e4m3fnuz", "e5m2"]) {
      const format = builtin(name);
      const kernels = await loadWgsl({ kernels: [lowerDecodeElements(format)] }, d);
      const out = new Float32Array(256);
      await kernels.decode_elements(codes, out, 256);
      expect(Array.from(out.subarray(0, 127))).toEqual(Array.from(codes.subarray(0, 127), (c) => decode(format, c)).map(Math.fround));
    }
    expect(compileWgsl({ kernels: [lowerDecodeElements(builtin("e4m3"))] }).kernels[0].passes[0].wgsl).toBe(
      compileWgsl({ kernels: [lowerDecodeElements(builtin("e4m3fnuz"))] }).kernels[0].passes[0].wgsl,
    );
  });

  it("compiles a pipeline once per distinct WGSL, and uploads a table once per distinct words", async () => {
    const d = await device();
    const format = builtin("e4m3");
    const module = { kernels: [lowerEncodeElements(format), lowerDecodeElements(format)] };
    await instantiateWgsl(compileWgsl(module), d);
    const before = d.compiled;
    await instantiateWgsl(compileWgsl(module), d);
    await instantiateWgsl(compileWgsl({ kernels: [lowerDecodeElements(builtin("e4m3"))] }), d);
    expect(d.compiled).toBe(before);
    const decodePass = (name: string) => compileWgsl({ kernels: [lowerDecodeElements(builtin(name))] }).kernels[0].passes[0];
    const [table] = d.tables(decodePass("e4m3"));
    expect(table).toBeDefined();
    expect(d.tables(decodePass("e4m3"))[0]).toBe(table);
    expect(d.tables(decodePass("e4m3fnuz"))[0]).not.toBe(table);
  });
});

describe("without a WebGPU adapter", () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  afterEach(() => {
    if (saved === undefined) Reflect.deleteProperty(globalThis, "navigator");
    else Object.defineProperty(globalThis, "navigator", saved);
  });

  it("fails with what to install (the hint kernel packages give) and how this repository installs it", async () => {
    Object.defineProperty(globalThis, "navigator", { value: { gpu: { requestAdapter: async () => null } }, configurable: true, writable: true });
    const opening = openWgslDevice();
    await expect(opening).rejects.toThrow(`WGSL target: no WebGPU adapter found; ${WEBGPU_HINT}; `);
    await expect(opening).rejects.toThrow(/run \(as root\) `bash scripts\/setup-webgpu\.sh`, which installs Mesa >= 25 lavapipe/);
    expect(WEBGPU_HINT).toMatch(/Mesa's lavapipe Vulkan driver \(Mesa >= 25/);
  });
});
