/**
 * A count of compares that hold, `acc + fromBool(m)`, renders as `i32x4.sub acc m`, and one that
 * drops for each, `acc − fromBool(m)` (the codebook encode's terms 1 − [x < T], which count NaN),
 * as `i32x4.add acc m` (a true mask lane is −1): the same numbers as the interpreter, on either side
 * of the sum, with unsigned and signed accumulators, NaN and ±0 among the inputs, at lengths that
 * leave a scalar tail.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, asI32, convert, f32, ge, gt, i32, kernel, load, lt, ref, sub, u32 } from "../../../src/codegen/ir/build.ts";
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

/** out[i] = #{t : x[i] > t} for three thresholds (mask on the right of the sum); signed[i] = 5 − … with masks on the left (signed sums). */
const counts = kernel("counts", PARAMS, (b) => {
  b.for("i", i32(0), ref("i32", "n"), (i, body) => {
    const x = body.let("xi", load("f32", "x", i));
    let count = u32(0) as ReturnType<typeof u32>;
    for (const t of [-1, 0, 2.5]) count = add(count, convert("u32.fromBool", gt(x, f32(t))));
    body.store("out", i, count);
    body.store("signed", i, add(asI32(convert("u32.fromBool", lt(x, f32(1)))), asI32(add(u32(5), convert("u32.fromBool", gt(x, f32(-3)))))));
  });
});

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

describe("wasm: counting masks", () => {
  it("renders acc + fromBool(m) as i32x4.sub and acc − fromBool(m) as i32x4.add, without negating the mask", () => {
    const up = renderWasm(vectorizeModule({ kernels: [counts] }).module);
    expect(up).toMatch(/i32x4\.sub/);
    expect(up).not.toMatch(/i32x4\.neg/);
    const down = renderWasm(vectorizeModule({ kernels: [drops] }).module);
    expect(down).toMatch(/i32x4\.add \(v128\.const i32x4 3 3 3 3\) \(f32x4\.lt/);
    expect(down).not.toMatch(/i32x4\.neg/);
  });

  it("counts as the interpreter does, vector body and scalar tail", () => {
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [counts, drops] }));
    const x = Float32Array.from([-5, -3, -2, -1, -0.5, 0, -0, 0.5, 1, 2, 2.5, 3, Number.NaN, -Number.NaN, Infinity, -Infinity, 1e-30, -1e-30]);
    for (const k of [counts, drops])
      for (const n of [0, 1, 3, 4, 7, 16, 18]) {
        const want = { out: new Uint32Array(n), signed: new Int32Array(n) };
        interpret(k, { x, out: want.out, signed: want.signed, n });
        const got = { out: new Uint32Array(n), signed: new Int32Array(n) };
        set.kernels[k.name](x, got.out, got.signed, n);
        expect([...got.out, ...got.signed], `${k.name} n = ${n}`).toEqual([...want.out, ...want.signed]);
      }
  });
});
