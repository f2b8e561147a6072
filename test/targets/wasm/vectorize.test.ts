/**
 * The vectorizer: which loops become 4-lane loops (and the SIMD instructions they render to),
 * which stay scalar and why, and loop bounds (any from/to, empty and reversed ranges) against
 * the interpreter.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { abs, add, and, asI32, asU32, convert, div, f32, gt, i32, kernel, load, lt, max, min, mul, ref, select, shl, sub, u32 } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import type { Kernel } from "../../../src/codegen/ir/nodes.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { renderWasm } from "../../../src/targets/wasm/render.ts";
import type { SimdStmt } from "../../../src/targets/wasm/simd-ir.ts";
import { vectorizeKernel, vectorizeModule } from "../../../src/targets/wasm/vectorize.ts";
import { builtin } from "../../support/formats.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const elementWat = (name: string) => {
  const format = builtin(name);
  const { module, loops } = vectorizeModule({ kernels: [lowerEncodeElements(format), lowerDecodeElements(format)] });
  expect(loops.every((l) => l.vectorized)).toBe(true);
  const wat = renderWasm(module);
  const [encode, decode] = wat.split('(export "decode_elements")');
  return { encode, decode };
};

const F32_IO = [
  { kind: "buffer", name: "x", storage: "f32", access: "read" },
  { kind: "buffer", name: "out", storage: "f32", access: "write" },
  { kind: "scalar", name: "n", type: "i32" },
] as const;

describe("wasm vectorizer", () => {
  it("vectorizes e4m3, int8 and bf16 encode into f32x4/i32x4 arithmetic with narrowing stores", () => {
    for (const name of ["e4m3", "int8", "bf16"]) {
      const { encode } = elementWat(name);
      expect(encode).toMatch(/\(v128\.load align=4 /);
      // int8 rounds and converts (nearest, trunc_sat); e4m3 scales and assembles codes in f32x4 arithmetic.
      // bf16 (float32's grid, fewer mantissa bits) rounds on x's bits alone: integer lanes only.
      if (name !== "bf16") expect(encode).toMatch(name === "int8" ? /\(i32x4\.trunc_sat_f32x4_s \(f32x4\.nearest/ : /\(f32x4\.(mul|floor|sub|add)/);
      expect(encode).toMatch(/\(i32x4\./);
      // Selects: bitselects, or their cheaper forms where an arm is zero or both are constants (instructions.ts vectorSelect).
      expect(encode).toMatch(/\(v128\.(bitselect|and|andnot|xor) /);
      expect(encode).toMatch(name === "bf16" ? /\(v128\.store64_lane align=2 0 / : /\(v128\.store32_lane align=1 0 /);
      expect(encode).toMatch(/\(i32\.add \(local\.get \$i_0\) \(i32\.const 4\)\)|\(i32\.const 4\)\)\)/);
    }
    // The fast encode (codegen/lower/fast-encode): the binade from exponent bits (no clz search),
    // ties to even by the addition of 2^23 itself (no f32x4.nearest), ints capped on their bits with
    // an unsigned min (int8, ties to even without a zero point on 8-bit codes, is converted and
    // clamped in i32 instead).
    expect(elementWat("e4m3").encode).toMatch(/f32x4\.add \(local\.get \$grid_\d+_x4/);
    expect(elementWat("e4m3").encode).not.toMatch(/f32x4\.nearest/);
    expect(elementWat("int4").encode).not.toMatch(/f32x4\.nearest/);
    expect(elementWat("e4m3").encode).not.toMatch(/i32x4\.lt_u/);
    expect(elementWat("int4").encode).toMatch(/i32x4\.min_u/);
    expect(elementWat("int8").encode).toMatch(/i32x4\.min_s/);
    expect(elementWat("int8").encode).toMatch(/f32x4\.nearest/);
  });

  it("decodes 8-bit codes by a gather from the table and 16-bit codes by widening loads", () => {
    const e4m3 = elementWat("e4m3").decode;
    expect(e4m3).toMatch(/v128\.load32_zero/);
    expect(e4m3).toMatch(/i16x8\.extend_low_i8x16_u/);
    expect(e4m3).toMatch(/v128\.load32_lane offset=\d+ 3 /);
    const bf16 = elementWat("bf16").decode;
    expect(bf16).toMatch(/v128\.load16x4_u/);
    expect(bf16).toMatch(/\(v128\.store align=4 /);
  });

  it("vectorizes every element loop of S2FP8's kernels (the fake-quantize one looks each code's value up)", () => {
    const loops = vectorizeModule({ kernels: lowerFormat(builtin("s2fp8")).kernels }).loops;
    const scalar = loops.filter((l) => !l.vectorized).map((l) => `${l.kernel}: ${l.reason}`);
    // The chunk loops step by 256; their inner element loops are vectorized. The statistics' chunk
    // loop also runs 4 chunks at a time, one per lane (vectorize-blocks.ts); the rest of its chunks
    // take the scalar chunk loop.
    expect(scalar).toEqual(["shift_squeeze_statistics: step 256", "shift_squeeze_finalize: step 256"]);
    expect(loops.filter((l) => l.form === "blocks").map((l) => l.kernel)).toEqual(["shift_squeeze_statistics"]);
    expect(loops.filter((l) => l.vectorized).map((l) => l.kernel)).toContain("shift_squeeze_fake_quantize");
  });

  it("vectorizes the innermost loop of every block-scaled kernel: per-tile statistics and finalize, per-segment elements", () => {
    const blockFormats = ["mxfp8", "mxfp4", "mxfp6", "mxint8", "nvfp4", "nf4-block64", "fp8-block1x128", "fp8-block1x128-pow2", "fp8-block128x128"];
    for (const name of blockFormats) {
      const { kernels } = lowerFormat(builtin(name));
      for (const k of kernels.filter((k) => k.name !== "block_tensor_scale")) {
        const loops = vectorizeKernel(k).loops;
        // Outer loops (over tiles, tile rows, row segments, groups) stay scalar; the loop over elements does not.
        expect(loops.at(-1), `${name} ${k.name}`).toMatchObject({ vectorized: true });
        // A _flat kernel's loop over blocks steps by B; small blocks' statistics run it 4 blocks at a time (form "blocks").
        expect(loops.slice(0, -1).map((l) => l.reason ?? l.form), `${name} ${k.name}`).toEqual(
          loops.slice(0, -1).map((l) => expect.stringMatching(/^(an integer division|for statement in the loop body|var statement in the loop body|step \d+$|blocks$)/)),
        );
      }
    }
  });

  it("keeps a vector loop of step 4 (with its setup, only when it runs) and a scalar tail loop over the rest", () => {
    const { kernel: v, loops } = vectorizeKernel(lowerEncodeElements(builtin("e4m3")));
    expect(loops).toEqual([{ kernel: "encode_elements", index: "i_0", vectorized: true }]);
    const steps = (stmts: readonly SimdStmt[]): unknown[] => stmts.flatMap((s): unknown[] => (s.kind === "for" ? [s.step] : s.kind === "if" ? [steps(s.then)] : []));
    expect(steps(v.body)).toEqual([[4], 1]);
  });

  it("keeps loops scalar, with the reason, when they have no lane-wise form", () => {
    const reasons = (k: Kernel) => vectorizeKernel(k).loops.map((l) => (l.vectorized ? "vectorized" : l.reason));
    const shifted = kernel("k", [...F32_IO, { kind: "buffer", name: "c", storage: "u32", access: "read" }], (b) =>
      b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("c", i, shl(u32(1), load("u32", "c", i)))),
    );
    expect(reasons(shifted)).toEqual(["a per-lane shl count (SIMD shifts take one count for all lanes)"]);
    const neighbour = kernel("k", F32_IO, (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, load("f32", "x", add(i, i32(1))))));
    expect(reasons(neighbour)).toEqual(["load from x is not at the loop index"]);
    const codesIO = [...F32_IO, { kind: "buffer", name: "codes", storage: "u8", access: "read" }] as const;
    const runningOut = kernel("k", codesIO, (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, load("f32", "out", asI32(load("u32", "codes", i))))));
    expect(reasons(runningOut)).toEqual(["a load from out, which the loop stores to, at a computed index"]);
    const strided = kernel("k", F32_IO, (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, load("f32", "x", i)), 2));
    expect(reasons(strided)).toEqual(["step 2"]);
    const prefixSums = kernel("k", F32_IO, (b) => {
      const sum = b.var("sum", f32(0));
      b.for("i", i32(0), ref("i32", "n"), (i, body) => {
        body.assign(sum.name, add(sum.ref, load("f32", "x", i)));
        body.store("out", i, sum.ref);
      });
    });
    expect(reasons(prefixSums)).toEqual(["the store to out reads an accumulator (a running value per lane is not kept)"]);
    const nested = kernel("k", F32_IO, (b) =>
      b.for("r", i32(0), i32(2), (_, outer) => {
        outer.if({ kind: "const", type: "bool", value: 1 }, (then) => then.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, mul(load("f32", "x", i), f32(2)))));
      }),
    );
    expect(reasons(nested)).toEqual(["if statement in the loop body", "vectorized"]);
  });

  it("gathers loads at an index read from memory (a table entry per code) lane by lane, like the interpreter", () => {
    const params = [...F32_IO, { kind: "buffer", name: "codes", storage: "u8", access: "read" }, { kind: "buffer", name: "table", storage: "f32", access: "read" }] as const;
    const gathered = kernel("gathered", params, (b) =>
      b.for("i", i32(0), ref("i32", "n"), (i, body) => {
        const entry = body.let("entry", load("f32", "table", asI32(load("u32", "codes", i))));
        body.store("out", i, add(entry, load("f32", "x", i)));
      }),
    );
    const compiled = compileWasmWith(assembler, { kernels: [gathered] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true });
    // One load into each lane: load32_zero, then load32_lane for lanes 1–3.
    expect(compiled.wat).toMatch(/\(v128\.load32_lane align=4 3 \(i32\.add \(local\.get \$table\)/);
    const set = instantiateWasm(compiled);
    const x = Float32Array.from({ length: 12 }, (_, j) => j * 0.5 - 2);
    const codes = Uint8Array.from({ length: 11 }, (_, j) => (j * 7) % 6);
    const table = Float32Array.from({ length: 6 }, (_, j) => 100 * (j + 1));
    for (const n of [0, 3, 4, 11]) {
      const want = new Float32Array(11).fill(9);
      interpret(gathered, { x, out: want, n, codes, table });
      const got = new Float32Array(11).fill(9);
      set.kernels.gathered(x, got, n, codes, table);
      expect(Array.from(got), `n = ${n}`).toEqual(Array.from(want));
    }
  });

  it("loads at i + k (k fixed for the loop: a row's offset into [B, 1] blocks' scales) as consecutive elements, like the interpreter", () => {
    const params = [...F32_IO, { kind: "buffer", name: "scales", storage: "u8", access: "read" }, { kind: "scalar", name: "cols", type: "i32" }] as const;
    // out[r·cols + c] = x[r·cols + c] · scales[(r / 3)·cols + c], row by row.
    const offsetLoads = kernel("offset_loads", params, (b) =>
      b.for("r", i32(0), ref("i32", "n"), (r, rb) => {
        const base = rb.let("base", mul(r, ref("i32", "cols")));
        const offset = rb.let("offset", sub(mul(div(r, i32(3)), ref("i32", "cols")), base));
        rb.for("i", base, add(base, ref("i32", "cols")), (i, body) => body.store("out", i, mul(load("f32", "x", i), convert("f32.fromU32", load("u32", "scales", add(i, offset))))));
      }),
    );
    const compiled = compileWasmWith(assembler, { kernels: [offsetLoads] });
    expect(compiled.loops.map((l) => l.vectorized)).toEqual([false, true]);
    expect(compiled.wat).toMatch(/i16x8\.extend_low_i8x16_u \(v128\.load32_zero/);
    const set = instantiateWasm(compiled);
    const x = Float32Array.from({ length: 70 }, (_, j) => j * 0.75 - 9);
    const scales = Uint8Array.from({ length: 70 }, (_, j) => (j * 37) % 251);
    for (const [rows, cols] of [[0, 5], [1, 3], [4, 7], [7, 9], [5, 13]]) {
      const want = new Float32Array(70).fill(9);
      interpret(offsetLoads, { x, out: want, n: rows, scales, cols });
      const got = new Float32Array(70).fill(9);
      set.kernels.offset_loads(x, got, rows, scales, cols);
      expect(Array.from(got), `${rows}×${cols}`).toEqual(Array.from(want));
    }
    // From a buffer the loop writes, lane k would miss the stores of lanes < k.
    const selfOffset = kernel("k", [...F32_IO, { kind: "scalar", name: "k", type: "i32" }], (b) =>
      b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, load("f32", "out", add(i, ref("i32", "k"))))),
    );
    expect(vectorizeKernel(selfOffset).loops.map((l) => l.reason)).toEqual(["a load from out, which the loop stores to, at an offset from the index"]);
  });

  it("runs ordered reductions lane by lane: sums, counts and maxima bit-identical to the scalar loop", () => {
    // Float sums in another order would differ: these inputs span 2^-20..2^20, so any reassociation shows.
    const stats = kernel(
      "stats",
      [...F32_IO, { kind: "buffer", name: "count", storage: "u32", access: "write" }, { kind: "scalar", name: "from", type: "i32" }],
      (b) => {
        const sum = b.var("sum", f32(0));
        const count = b.var("count_so_far", u32(0));
        // Entered at 0: a running maximum the vectorizer keeps per lane (entered below 0 the whole loop would run scalar).
        const max = b.var("max", f32(0));
        b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => {
          const x = body.let("xi", load("f32", "x", i));
          const big = body.let("big", gt(abs(x), f32(1)));
          body.assign(sum.name, add(sum.ref, mul(x, f32(1.5))));
          body.assign(count.name, add(count.ref, select(big, u32(1), u32(0))));
          body.assign(max.name, select(and(big, gt(x, max.ref)), x, max.ref));
        });
        b.store("out", i32(0), sum.ref);
        b.store("out", i32(1), max.ref);
        b.store("count", i32(0), count.ref);
      },
    );
    const compiled = compileWasmWith(assembler, { kernels: [stats] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true });
    const set = instantiateWasm(compiled);
    let seed = 7;
    const x = Float32Array.from({ length: 103 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return ((seed >>> 8) / 2 ** 24 - 0.5) * 2 ** ((seed % 41) - 20);
    });
    for (const [from, n] of [[0, 103], [1, 103], [3, 10], [0, 3], [5, 5]]) {
      const want = new Float32Array(2);
      const wantCount = new Uint32Array(1);
      interpret(stats, { x, out: want, count: wantCount, n, from });
      const got = new Float32Array(2);
      const gotCount = new Uint32Array(1);
      set.kernels.stats(x, got, n, gotCount, from);
      expect([...got, ...gotCount], `[${from}, ${n})`).toEqual([...want, ...wantCount]);
    }
  });

  it("keeps a partial per lane for exact reductions (integer sums, maxima, minima) and folds them after the vector loop", () => {
    const params = [...F32_IO, { kind: "buffer", name: "count", storage: "u32", access: "write" }, { kind: "buffer", name: "low", storage: "i32", access: "write" }] as const;
    const reductions = kernel("reductions", params, (b) => {
      const count = b.var("count_acc", u32(7));
      const high = b.var("high", f32(Number.NEGATIVE_INFINITY));
      const low = b.var("low_acc", i32(2 ** 31 - 1));
      const sum = b.var("sum", f32(0));
      const seen = b.var("seen", u32(0));
      const weighted = b.var("weighted", f32(0));
      b.for("i", i32(0), ref("i32", "n"), (i, body) => {
        const x = body.let("xi", load("f32", "x", i));
        body.assign(count.name, add(count.ref, asU32(gt(x, f32(0)))));
        body.assign(high.name, max(high.ref, x));
        body.assign(low.name, min(low.ref, sub(i32(50), i)));
        body.assign(sum.name, add(sum.ref, x));
        // Read by an ordered update: its running value per lane is needed, so it stays ordered too.
        body.assign(seen.name, add(seen.ref, u32(1)));
        body.assign(weighted.name, add(weighted.ref, mul(x, convert("f32.fromU32", seen.ref))));
      });
      b.store("out", i32(0), high.ref);
      b.store("out", i32(1), sum.ref);
      b.store("out", i32(2), weighted.ref);
      b.store("count", i32(0), count.ref);
      b.store("low", i32(0), low.ref);
    });
    const compiled = compileWasmWith(assembler, { kernels: [reductions] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true });
    expect(compiled.wat).toMatch(/f32x4\.max/);
    expect(compiled.wat).toMatch(/i32x4\.min_s/);
    const set = instantiateWasm(compiled);
    // −0 and +0 both present: the maximum is +0 in any order (−0 < +0); sums reassociated would differ.
    const x = Float32Array.from({ length: 23 }, (_, j) => (j % 5 === 0 ? -0 : j % 7 === 0 ? 0 : (j % 3 === 0 ? -1 : 1) * 2 ** (j - 40)));
    for (const n of [0, 3, 4, 9, 23]) {
      const want = { out: new Float32Array(3), count: new Uint32Array(1), low: new Int32Array(1) };
      interpret(reductions, { x, ...want, n });
      const got = { out: new Float32Array(3), count: new Uint32Array(1), low: new Int32Array(1) };
      set.kernels.reductions(x, got.out, n, got.count, got.low);
      expect([...new Uint32Array(got.out.buffer), got.count[0], got.low[0]], `n = ${n}`).toEqual([...new Uint32Array(want.out.buffer), want.count[0], want.low[0]]);
    }
  });

  it("keeps a partial per lane for running maxima select(v > acc && keep, v, acc) (the amax statistics), scalar when entered below 0", () => {
    const params = [...F32_IO, { kind: "scalar", name: "entry", type: "f32" }] as const;
    const amax = kernel("amax", params, (b) => {
      const acc = b.var("amax", ref("f32", "entry"));
      b.for("i", i32(0), ref("i32", "n"), (i, body) => {
        const a = body.let("a", load("f32", "x", i));
        body.assign(acc.name, select(and(gt(a, acc.ref), lt(abs(a), f32(Number.POSITIVE_INFINITY))), a, acc.ref));
      });
      b.store("out", i32(0), acc.ref);
    });
    const compiled = compileWasmWith(assembler, { kernels: [amax] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true });
    expect(compiled.wat).toMatch(/f32x4\.gt/);
    const set = instantiateWasm(compiled);
    // ±0 in several lanes (the first kept zero wins in order when entered below 0), NaN, ±∞ (not kept), equal maxima, negatives.
    const values = [-0, 0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -3, 2.5, 2.5, -0, 1e-45, -1e-45, 0, 7, -7, 0.5];
    const x = Float32Array.from({ length: 45 }, (_, j) => values[(j * 7) % values.length] * (j > 30 ? 0.25 : 1));
    for (const entry of [0, -0, -1, -Infinity, 3, Number.NaN, 100])
      for (const n of [0, 1, 4, 5, 13, 30, 45]) {
        const want = new Float32Array(1);
        interpret(amax, { x, out: want, n, entry });
        const got = new Float32Array(1);
        set.kernels.amax(x, got, n, entry);
        expect(new Uint32Array(got.buffer)[0], `entry ${entry}, n ${n}`).toBe(new Uint32Array(want.buffer)[0]);
      }
    // Entered below 0 with zeros only: which zero comes first decides the sign, as in the scalar loop.
    for (const zeros of [[-0, 0, 0, 0, 0, -0, 0, 0], [0, -0, -0, -0, 0, 0, 0, 0]]) {
      const z = Float32Array.from(zeros);
      const want = new Float32Array(1);
      interpret(amax, { x: z, out: want, n: z.length, entry: -1 });
      const got = new Float32Array(1);
      set.kernels.amax(z, got, z.length, -1);
      expect(Object.is(got[0], want[0]), `${zeros}`).toBe(true);
    }
  });

  it("runs any loop range like the interpreter: offsets, lengths 0–9 and empty or reversed ranges", () => {
    const ranged = kernel("ranged", [...F32_IO, { kind: "scalar", name: "from", type: "i32" }], (b) =>
      b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => body.store("out", i, add(mul(load("f32", "x", i), f32(3)), f32(0.25)))),
    );
    const compiled = compileWasmWith(assembler, { kernels: [ranged] });
    expect(compiled.loops[0].vectorized).toBe(true);
    const set = instantiateWasm(compiled);
    const x = Float32Array.from({ length: 24 }, (_, j) => j * 1.25 - 7);
    for (let from = 0; from < 8; from++)
      for (let to = from - 3; to <= Math.min(24, from + 9); to++) {
        const want = new Float32Array(24).fill(9);
        if (to >= 0) interpret(ranged, { x, out: want, n: to, from });
        const got = new Float32Array(24).fill(9);
        set.kernels.ranged(x, got, to, from);
        expect(Array.from(got), `[${from}, ${to})`).toEqual(Array.from(want));
      }
  });
});
