/**
 * The vectorizer's block form (vectorize-blocks.ts): loops over blocks whose inner loop keeps an
 * ordered reduction run 4 blocks at a time, one per lane. Synthetic kernels of that shape —
 * ordered float sums, a compensated sum whose lets read the accumulators, counts, maxima, table
 * lookups, stores of expressions of the accumulators; x read as 4 vector loads and a transpose —
 * against the interpreter bit for bit, at
 * every length around the group of 4 blocks and from offsets; and the shapes it leaves alone.
 * Selects that are exactly an integer maximum or minimum (the flat amax statistics' update) take
 * one i32x4.max/min; float ones, which NaN and ±0 keep from being a maximum, stay selects.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { abs, add, and, asI32, asU32, bitsOf, eq, f32, ge, gt, i32, kernel, load, lt, max, min, mul, ref, select, shr, sub, u32 } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import type { Kernel } from "../../../src/codegen/ir/nodes.ts";
import { forBlocks } from "../../../src/codegen/lower/scaling/common.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { integerExtreme } from "../../../src/targets/wasm/block-lanes.ts";
import { vectorizeKernel } from "../../../src/targets/wasm/vectorize.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const PARAMS = [
  { kind: "buffer", name: "x", storage: "f32", access: "read" },
  { kind: "buffer", name: "sums", storage: "f32", access: "write" },
  { kind: "buffer", name: "kahans", storage: "f32", access: "write" },
  { kind: "buffer", name: "looks", storage: "f32", access: "write" },
  { kind: "buffer", name: "counts", storage: "u32", access: "write" },
  { kind: "buffer", name: "maxima", storage: "i32", access: "write" },
  { kind: "scalar", name: "n", type: "i32" },
  { kind: "scalar", name: "from", type: "i32" },
  { kind: "scalar", name: "scale", type: "f32" },
] as const;

/** Per block of `size` from `from`: a plain and a compensated (Kahan) sum, a count, a maximum of bits, a looked-up sum. */
function blockStatistics(size: number): Kernel {
  return kernel("block_stats", PARAMS, (b) => {
    const block = b.var("block", i32(0));
    const n = ref("i32", "n");
    b.for(
      "start",
      ref("i32", "from"),
      n,
      (start, outer) => {
        const end = outer.let("end", min(add(start, i32(size)), n));
        const sum = outer.var("sum", f32(0));
        const kahan = outer.var("kahan", f32(0));
        const carry = outer.var("carry", f32(0));
        const count = outer.var("count", u32(0));
        const largest = outer.var("largest", i32(-(2 ** 31)));
        const looked = outer.var("looked", f32(0));
        outer.for("i", start, end, (i, inner) => {
          const x = inner.let("xi", load("f32", "x", i));
          const big = inner.let("big", gt(abs(x), f32(1)));
          inner.assign(sum.name, add(sum.ref, mul(x, ref("f32", "scale"))));
          // Lets that read the accumulators: the running values of each block, per lane.
          const y = inner.let("y", sub(x, carry.ref));
          const t = inner.let("t", add(kahan.ref, y));
          inner.assign(carry.name, sub(sub(t, kahan.ref), y));
          inner.assign(kahan.name, t);
          inner.assign(count.name, add(count.ref, asU32(big)));
          inner.assign(largest.name, max(largest.ref, asI32(bitsOf(x))));
          const j = asI32(and(shr(bitsOf(x), u32(20)), u32(7)));
          inner.assign(looked.name, add(looked.ref, select(big, inner.names.table("weights", "f32", () => [0.5, 1.25, -3, 7.75, 2 ** -10, 2 ** 20, -0.125, 3], j), f32(0))));
        });
        outer.store("sums", block.ref, sum.ref);
        // A store of an expression of the accumulators.
        outer.store("kahans", block.ref, sub(kahan.ref, carry.ref));
        outer.store("looks", block.ref, looked.ref);
        outer.store("counts", block.ref, count.ref);
        outer.store("maxima", block.ref, largest.ref);
        outer.assign(block.name, add(block.ref, i32(1)));
      },
      size,
    );
  });
}

/** Values over 2^−20..2^20 of both signs: any reassociation of a sum shows. */
function inputs(length: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return ((s >>> 8) / 2 ** 24 - 0.5) * 2 ** ((s % 41) - 20);
  });
}

describe("wasm vectorizer, block form", () => {
  it("sums, counts and maxima of 4 blocks at a time, one per lane: the interpreter's bits at every length and offset", () => {
    for (const size of [4, 8, 12, 256]) {
      const stats = blockStatistics(size);
      const compiled = compileWasmWith(assembler, { kernels: [stats] });
      expect(compiled.loops[0], `size ${size}`).toMatchObject({ vectorized: true, form: "blocks" });
      expect(compiled.wat).toMatch(/f32x4\.add \(local\.get \$sum_\d+_blocks\)/);
      // x read as 4 vector loads transposed by shuffles (lane k: block k), not lane by lane.
      expect(compiled.wat).toMatch(/\(local\.set \$x_at_?\d* \(i8x16\.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 /);
      expect(compiled.wat).not.toMatch(/v128\.load32_lane offset=\d+ align=4 3 \(i32\.add \(local\.get \$x\)/);
      const set = instantiateWasm(compiled);
      const lengths = new Set([0, 1, size - 1, size, size + 1, 4 * size - 1, 4 * size, 4 * size + 1, 5 * size, 8 * size, 9 * size + 3]);
      const x = inputs(9 * size + 8, size);
      for (const n of lengths)
        for (const from of [0, 1, 3]) {
          const blocks = Math.ceil(Math.max(n - from, 0) / size) + 1;
          const outputs = () => ({
            sums: new Float32Array(blocks).fill(9),
            kahans: new Float32Array(blocks).fill(9),
            looks: new Float32Array(blocks).fill(9),
            counts: new Uint32Array(blocks).fill(9),
            maxima: new Int32Array(blocks).fill(9),
          });
          const want = outputs();
          interpret(stats, { x, ...want, n, from, scale: 1.5 });
          const got = outputs();
          set.kernels.block_stats(x, got.sums, got.kahans, got.looks, got.counts, got.maxima, n, from, 1.5);
          const lists = (o: ReturnType<typeof outputs>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)]));
          expect(lists(got), `size ${size}, [${from}, ${n})`).toEqual(lists(want));
        }
    }
  });

  it("leaves loops without an ordered reduction, and other shapes, to the element form", () => {
    const forms = (k: Kernel) => vectorizeKernel(k).loops.map((l) => (l.form === "blocks" ? "blocks" : l.vectorized ? "elements" : "scalar"));
    // Only exact reductions: the element form keeps a partial per lane, as before.
    const countsOnly = kernel("counts_only", PARAMS, (b) =>
      forBlocks(b, ref("i32", "n"), 8, (block, start, end, body) => {
        const count = body.var("count", u32(0));
        body.for("i", start, end, (i, inner) => inner.assign(count.name, add(count.ref, asU32(gt(load("f32", "x", i), f32(0))))));
        body.store("counts", block, count.ref);
      }),
    );
    expect(forms(countsOnly)).toEqual(["scalar", "elements"]);
    // A block size that is not a multiple of 4 (the compensated sum's lets read accumulators: the element form refuses too).
    expect(vectorizeKernel(blockStatistics(6)).loops.map((l) => l.reason)).toEqual(["step 6", expect.stringMatching(/^let y_\d+ reads an accumulator/)]);
    // A load away from the inner index.
    const shifted = kernel("shifted", PARAMS, (b) =>
      forBlocks(b, ref("i32", "n"), 8, (block, start, end, body) => {
        const sum = body.var("sum", f32(0));
        body.for("i", start, end, (i, inner) => inner.assign(sum.name, add(sum.ref, load("f32", "x", add(i, i32(1))))));
        body.store("sums", block, sum.ref);
      }),
    );
    expect(vectorizeKernel(shifted).loops.map((l) => l.form ?? (l.vectorized ? "elements" : "scalar"))).toEqual(["scalar", "scalar"]);
  });
});

/** Per block of 8: integer maxima and minima written as selects (i32, and u32 compared as i32 as the flat amax statistics do), and a float one. */
const extremes = kernel("block_extremes", PARAMS, (b) =>
  forBlocks(b, ref("i32", "n"), 8, (block, start, end, body) => {
    const largest = body.var("largest", i32(-(2 ** 31)));
    const lowest = body.var("lowest", u32(2 ** 32 - 1));
    const floatMax = body.var("float_max", f32(0));
    body.for("i", start, end, (i, inner) => {
      const bits = inner.let("bits", bitsOf(load("f32", "x", i)));
      const signed = inner.let("signed_bits", asI32(bits));
      inner.assign(largest.name, select(ge(largest.ref, signed), largest.ref, signed));
      // Smaller as i32s, kept as u32: swapped arms of a > (a minimum), through reinterpretations.
      inner.assign(lowest.name, select(gt(asI32(lowest.ref), asI32(bits)), bits, lowest.ref));
      // Not a maximum: a NaN candidate replaces the running value, and −0 replaces +0.
      inner.assign(floatMax.name, select(gt(floatMax.ref, load("f32", "x", i)), floatMax.ref, load("f32", "x", i)));
    });
    body.store("maxima", block, largest.ref);
    body.store("counts", block, lowest.ref);
    body.store("sums", block, floatMax.ref);
  }),
);

/** Bit patterns over every sign and class: ±0, ±∞, quiet NaNs of both signs, subnormals, and random ones. */
function patterns(length: number): Float32Array {
  const bits = new Uint32Array(length);
  const special = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7fffffff, 1, 0x80000001, 0x7f7fffff, 0xff7fffff];
  let s = 7;
  for (let k = 0; k < length; k++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const b = s % 3 === 0 ? special[(s >>> 8) % special.length] : (s ^ (s << 13)) >>> 0;
    // Quiet NaNs only: the interpreter reads x through JS numbers, which may quiet a signalling one.
    bits[k] = (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 ? b | 0x400000 : b;
  }
  // A block (elements 8..15) of −0 after +0, and one (16..23) of a NaN before numbers: where a float maximum would differ.
  bits.set([0, 0x80000000, 0x80000000, 0, 0x80000000, 0x80000000, 0x80000000, 0x80000000], 8);
  bits.set([0x7fc00000, 0x3f800000, 0x40000000, 0xbf800000, 0, 0x3f800000, 0x3f800000, 0x3f800000], 16);
  return new Float32Array(bits.buffer);
}

/** A float as its bits, every NaN as one (the lanes' NaN payloads are the engine's to choose). */
const canonicalBits = (v: number) => (Number.isNaN(v) ? 0x7fc00000 : new Uint32Array(Float32Array.of(v).buffer)[0]);

describe("wasm vectorizer, block form: integer maxima and minima", () => {
  it("renders an exact integer select-maximum as one i32x4.max_s / min_u per 4 elements; a float one stays a select; the interpreter's bits", () => {
    const compiled = compileWasmWith(assembler, { kernels: [extremes] });
    expect(compiled.loops[0]).toMatchObject({ vectorized: true, form: "blocks" });
    expect(compiled.wat).toMatch(/\(local\.set \$largest_\d+_blocks \(i32x4\.max_s \(local\.get \$largest_\d+_blocks\)/);
    expect(compiled.wat).toMatch(/\(local\.set \$lowest_\d+_blocks \(i32x4\.min_s \(local\.get \$lowest_\d+_blocks\)/);
    // The float select stays one (f32x4.pmax is that select exactly: b if a < b, else a); never f32x4.max.
    expect(compiled.wat).toMatch(/\(local\.set \$float_max_\d+_blocks \((v128\.bitselect|f32x4\.pmax)/);
    expect(compiled.wat).not.toMatch(/f32x4\.(max|min) /);
    const set = instantiateWasm(compiled);
    const x = patterns(8 * 40 + 5);
    for (const n of [0, 7, 8, 31, 32, 33, 64, 8 * 40 + 5]) {
      const blocks = Math.ceil(n / 8) + 1;
      const outputs = () => ({ sums: new Float32Array(blocks).fill(9), counts: new Uint32Array(blocks).fill(9), maxima: new Int32Array(blocks).fill(9) });
      const want = outputs();
      const unused = { kahans: new Float32Array(blocks), looks: new Float32Array(blocks) };
      interpret(extremes, { x, ...want, ...unused, n, from: 0, scale: 1 });
      const got = outputs();
      set.kernels.block_extremes(x, got.sums, unused.kahans, unused.looks, got.counts, got.maxima, n, 0, 1);
      expect(Array.from(got.maxima), `maxima of [0, ${n})`).toEqual(Array.from(want.maxima));
      expect(Array.from(got.counts), `minima of [0, ${n})`).toEqual(Array.from(want.counts));
      expect(Array.from(got.sums, canonicalBits), `float selects of [0, ${n})`).toEqual(Array.from(want.sums, canonicalBits));
    }
  });

  it("takes integer selects of the larger or smaller only: the same operands on both sides, an order compare, integer types", () => {
    const [a, b] = [ref("i32", "a"), ref("i32", "b")];
    const [ua, ub] = [ref("u32", "ua"), ref("u32", "ub")];
    const of = (e: ReturnType<typeof select>) => integerExtreme(e as Parameters<typeof integerExtreme>[0])?.op ?? null;
    expect([of(select(gt(a, b), a, b)), of(select(ge(a, b), b, a)), of(select(lt(a, b), a, b)), of(select(lt(a, b), b, a))]).toEqual(["max", "min", "min", "max"]);
    expect(of(select(gt(asI32(ua), asI32(ub)), ua, ub))).toBe("max");
    expect(integerExtreme(select(gt(asI32(ua), asI32(ub)), ua, ub) as Parameters<typeof integerExtreme>[0])?.compareType).toBe("i32");
    // Floats (NaN, ±0), other operands, equality compares, a u32 select on an i32 compare of other values: none.
    const [fa, fb] = [ref("f32", "fa"), ref("f32", "fb")];
    expect([of(select(gt(fa, fb), fa, fb)), of(select(gt(a, b), a, ref("i32", "c"))), of(select(eq(a, b), a, b)), of(select(gt(asI32(ua), b), ua, ub))]).toEqual([null, null, null, null]);
  });
});

