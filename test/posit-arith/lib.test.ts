/**
 * The library's posit API (src/lib/posit.ts, exported from the package root): positArithmetic and
 * quireGemm are the semantics; compilePositKernels' ops and quire GEMM on js and wasm give the
 * same codes; bad input is a NumforgeError naming the argument and element.
 */
import { describe, expect, it } from "vitest";
import { compilePositKernels, loadFormat, NumforgeError, positArithmetic, quireGemm } from "../../src/index.ts";
import { positOp } from "../../src/dsl/semantics/posit-arith.ts";
import { quireGemm as quireSemantics } from "../../src/dsl/semantics/posit-arith-quire.ts";

describe("posit arithmetic in the library", () => {
  it("positArithmetic is the semantics, per tuple", async () => {
    const p16 = await loadFormat("posit16");
    const tuples = [[0x4000, 0x4000], [0x7fff, 0x7fff], [0x8000, 1], [0x1234, 0xfedc]];
    expect(positArithmetic(p16, "add", tuples)).toEqual(tuples.map((t) => positOp({ n: 16, es: 1 }, "add", t)));
    expect(positArithmetic(p16, "add", [[0x4000, 0x4000]])).toEqual([0x5000]); // 1 + 1 = 2
    expect(positArithmetic(p16, "fma", [[0x4000, 0x4000, 0xc000]])).toEqual([0]); // 1·1 − 1
  });

  for (const target of ["js", "wasm"] as const) {
    it(`compilePositKernels(${target}): ops and quire GEMM equal the semantics`, async () => {
      const p8 = await loadFormat("posit8es2");
      const kernels = await compilePositKernels(p8, { target });
      expect(kernels.target).toBe(target);
      const a = Array.from({ length: 256 }, (_, i) => i);
      const b = Array.from({ length: 256 }, (_, i) => (i * 37 + 11) % 256);
      expect(Array.from(await kernels.op("mul", a, b))).toEqual(a.map((x, i) => positOp({ n: 8, es: 2 }, "mul", [x, b[i]])));
      expect(Array.from(await kernels.op("sqrt", a))).toEqual(a.map((x) => positOp({ n: 8, es: 2 }, "sqrt", [x])));
      const shape = { m: 4, n: 8, k: 32 };
      const want = quireSemantics({ n: 8, es: 2 }, shape, a.slice(0, 128), b);
      expect(Array.from(await kernels.quireGemm(a.slice(0, 128), b, shape))).toEqual(want);
      expect(quireGemm(p8, a.slice(0, 128), b, shape)).toEqual(want);
    });
  }

  it("bad input: a NumforgeError naming the argument and element", async () => {
    const p8 = await loadFormat("posit8");
    const e4m3 = await loadFormat("e4m3");
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(NumforgeError);
        return (e as Error).message;
      }
      throw new Error("did not throw");
    };
    expect(message(() => positArithmetic(e4m3, "add", [[1, 2]]))).toMatch(/format: e4m3 is not a posit format/);
    expect(message(() => positArithmetic(p8, "pow" as "add", [[1, 2]]))).toMatch(/op: "pow" is not a posit operation/);
    expect(message(() => positArithmetic(p8, "add", [[1, 2], [3]]))).toMatch(/operands element 1: expected 2 codes/);
    expect(message(() => positArithmetic(p8, "add", [[1, 256]]))).toMatch(/operands element 0 operand 1: 256 is not a posit8 code \(integers 0\.\.255\)/);
    expect(message(() => quireGemm(p8, [1, 2], [1, 2], { m: 1, n: 1, k: 3 }))).toMatch(/^a: expected 3 codes, got 2/);
    const kernels = await compilePositKernels(p8, { target: "js" });
    await expect(kernels.op("add", [1, 2], [1])).rejects.toThrow(/operand 1: expected 2 codes, got 1/);
    await expect(kernels.quireGemm([1], [1], { m: 1, n: 1, k: -1 })).rejects.toThrow(/shape\.k: expected an integer/);
  });
});
