/**
 * The fold of an exact reduction's 4 lane partials (vectorize.ts laneParallel / laneParallelMax)
 * on integers: the renderer pairs the lanes by two shuffles and two vector ops (instructions.ts
 * laneFold) where 4 extracts and 3 scalar ops were. Wrapping sums, maxima and minima of i32 and
 * u32 — and a running maximum written as a select — against the interpreter bit for bit, at every
 * length around the 4 lanes and from offsets; a float maximum keeps its lane-by-lane fold.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, asI32, bitsOf, convert, gt, i32, kernel, load, max, min, ref, select, shr, u32 } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const PARAMS = [
  { kind: "buffer", name: "x", storage: "f32", access: "read" },
  { kind: "buffer", name: "ints", storage: "i32", access: "write" },
  { kind: "buffer", name: "uints", storage: "u32", access: "write" },
  { kind: "buffer", name: "floats", storage: "f32", access: "write" },
  { kind: "scalar", name: "from", type: "i32" },
  { kind: "scalar", name: "n", type: "i32" },
] as const;

/** Over x[from, n): an i32 wrapping sum and minimum, a u32 maximum, a u32 select-maximum, an f32 maximum. */
const reductions = kernel("reductions", PARAMS, (b) => {
  const sum = b.var("sum", i32(12345));
  const lowest = b.var("lowest", i32(2 ** 31 - 1));
  const largest = b.var("largest", u32(7));
  const above = b.var("above", u32(3));
  const floatMax = b.var("float_max", { kind: "const", type: "f32", value: Number.NEGATIVE_INFINITY });
  b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => {
    const bits = body.let("bits", bitsOf(load("f32", "x", i)));
    const signed = body.let("signed", asI32(bits));
    body.assign(sum.name, add(sum.ref, signed));
    body.assign(lowest.name, min(lowest.ref, signed));
    body.assign(largest.name, max(largest.ref, bits));
    const half = body.let("half", shr(bits, u32(1)));
    body.assign(above.name, select(gt(half, above.ref), half, above.ref));
    body.assign(floatMax.name, max(floatMax.ref, convert("f32.fromI32", shr(signed, i32(4)))));
  });
  b.store("ints", i32(0), sum.ref);
  b.store("ints", i32(1), lowest.ref);
  b.store("uints", i32(0), largest.ref);
  b.store("uints", i32(1), above.ref);
  b.store("floats", i32(0), floatMax.ref);
});

/** Bit patterns with the integer extremes (0, 2^31 − 1, −2^31, 2^32 − 1 as u32) and random ones; quiet NaNs only (the interpreter reads x through JS numbers). */
function patterns(length: number, seed: number): Float32Array {
  const special = [0, 0x7fffffff, 0x80000000, 0xffffffff, 1, 0xfffffffe, 0x7fc00000];
  let s = seed;
  const bits = Uint32Array.from({ length }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    const b = s % 4 === 0 ? special[(s >>> 8) % special.length] : (s ^ (s << 11)) >>> 0;
    return (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 ? b | 0x400000 : b;
  });
  return new Float32Array(bits.buffer);
}

describe("wasm vectorizer: folds of integer lane partials", () => {
  it("pairs the lanes by two shuffles for integer sums, maxima and minima; the interpreter's bits at every length and offset", () => {
    const compiled = compileWasmWith(assembler, { kernels: [reductions] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true });
    const folds = compiled.wat.match(/\(i32x4\.extract_lane 0 \(i32x4\.(add|max_u|min_s) \(local\.tee \$[.\w]+ \(i32x4\.\1 \(local\.get \$\w+_lanes\) \(i8x16\.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 /g) ?? [];
    expect(folds.map((f) => f.match(/i32x4\.(add|max_u|min_s)/)?.[1]).sort()).toEqual(["add", "max_u", "max_u", "min_s"]);
    // The float maximum keeps its lanes' fold (f32x4 lanes are not taken by the integer pairing).
    expect(compiled.wat).toMatch(/f32x4\.extract_lane 3 \(local\.get \$float_max_\w*lanes\)/);
    const set = instantiateWasm(compiled);
    for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 64, 203])
      for (const from of [0, 1, 2, 3]) {
        const x = patterns(length + 3, length * 7 + from + 1);
        const n = Math.max(length, from);
        const outputs = () => ({ ints: new Int32Array(2), uints: new Uint32Array(2), floats: new Float32Array(1) });
        const want = outputs();
        interpret(reductions, { x, ...want, from, n });
        const got = outputs();
        set.kernels.reductions(x, got.ints, got.uints, got.floats, from, n);
        expect({ ints: Array.from(got.ints), uints: Array.from(got.uints), floats: Array.from(got.floats) }, `[${from}, ${n})`).toEqual({
          ints: Array.from(want.ints),
          uints: Array.from(want.uints),
          floats: Array.from(want.floats),
        });
      }
  });
});
