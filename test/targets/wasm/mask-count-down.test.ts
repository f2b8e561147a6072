/**
 * A count that drops for each compare that holds, `acc − fromBool(m)` (the codebook encode's terms
 * 1 − [x < T], which count NaN), renders as `i32x4.add acc m` (a true mask lane is −1): the same
 * numbers as the interpreter, NaN and ±0 among the inputs, unsigned and signed, vector body and
 * scalar tail.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { asI32, convert, f32, ge, i32, kernel, load, lt, ref, sub, u32 } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { renderWasm } from "../../../src/targets/wasm/render.ts";
import { vectorizeModule } from "../../../src/targets/wasm/vectorize.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const PARAMS = [
  { kind: "buffer", name: "x", storage: "f32", access: "read" },
  { kind: "buffer", name: "out", storage: "u32", access: "write" },
  { kind: "buffer", name: "signed", storage: "i32", access: "write" },
  { kind: "scalar", name: "n", type: "i32" },
] as const;

/** out[i] = 3 − #{t : x[i] < t} over three thresholds; signed[i] = −1 − [x ≥ 0.5] on i32. */
const drops = kernel("drops", PARAMS, (b) => {
  b.for("i", i32(0), ref("i32", "n"), (i, body) => {
    const x = body.let("xi", load("f32", "x", i));
    let count = u32(3) as ReturnType<typeof u32>;
    for (const t of [-1, 0, 2.5]) count = sub(count, convert("u32.fromBool", lt(x, f32(t))));
    body.store("out", i, count);
    body.store("signed", i, sub(i32(-1), asI32(convert("u32.fromBool", ge(x, f32(0.5))))));
  });
});

describe("wasm: counting masks down", () => {
  it("renders acc − fromBool(m) as i32x4.add, without negating the mask", () => {
    const wat = renderWasm(vectorizeModule({ kernels: [drops] }).module);
    expect(wat).toMatch(/i32x4\.add \(v128\.const i32x4 3 3 3 3\) \(f32x4\.lt/);
    expect(wat).not.toMatch(/i32x4\.neg/);
  });

  it("counts as the interpreter does, vector body and scalar tail", () => {
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [drops] }));
    const x = Float32Array.from([-5, -3, -2, -1, -0.5, 0, -0, 0.5, 1, 2, 2.5, 3, Number.NaN, -Number.NaN, Infinity, -Infinity, 1e-30, -1e-30]);
    for (const n of [0, 1, 3, 4, 7, 16, 18]) {
      const want = { out: new Uint32Array(n), signed: new Int32Array(n) };
      interpret(drops, { x, out: want.out, signed: want.signed, n });
      const got = { out: new Uint32Array(n), signed: new Int32Array(n) };
      set.kernels.drops(x, got.out, got.signed, n);
      expect([...got.out, ...got.signed], `n = ${n}`).toEqual([...want.out, ...want.signed]);
    }
  });
});
