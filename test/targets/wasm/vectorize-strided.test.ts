/**
 * The vectorizer's strided form (vectorize-strided.ts): a loop over blocks of B consecutive
 * elements with straight-line code per block runs 4 blocks at a time, one per lane, its loads and
 * stores moved by 4×4 transposes. A synthetic kernel of that shape — float butterflies, integer
 * bit operations, a select, a conversion, an invariant load, stores to two buffers — against the
 * interpreter bit for bit at every block count around the group of 4 and from offsets; the
 * rotation kernels take the form; and the shapes it must refuse.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, and, bitsOf, convert, f32, gt, i32, kernel, load, mul, ref, select, shl, shr, sub, u32 } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import type { Expr, Kernel } from "../../../src/codegen/ir/nodes.ts";
import { rotationModule } from "../../../src/scaling/rotation/lower.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { vectorizeKernel } from "../../../src/targets/wasm/vectorize.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const PARAMS = [
  { kind: "buffer", name: "x", storage: "f32", access: "read" },
  { kind: "buffer", name: "w", storage: "f32", access: "read" },
  { kind: "buffer", name: "y", storage: "f32", access: "write" },
  { kind: "buffer", name: "z", storage: "u32", access: "write" },
  { kind: "buffer", name: "bytes", storage: "u8", access: "write" },
  { kind: "scalar", name: "blocks", type: "i32" },
  { kind: "scalar", name: "first", type: "i32" },
  { kind: "scalar", name: "base", type: "i32" },
] as const;

interface Shape {
  /** Positions j of x each block reads (default: all B). */
  readonly reads?: readonly number[];
  /** Positions j of y each block writes (default: all B). */
  readonly writes?: readonly number[];
  /** The block's start from the index (default: base + (i << log2 B)). */
  readonly start?: (i: Expr) => Expr;
  /** A buffer the blocks also read at s … s + 3 (default: none): refused when they store to it. */
  readonly alsoReads?: string;
  /** Write the u8 buffer too. */
  readonly bytes?: boolean;
  /** Read the start in a value. */
  readonly startInValue?: boolean;
}

/** Per block of `size` from `first`: butterflies of x·w, bits of the results, a select and a conversion; stores to y and z. */
function blockwise(size: number, shape: Shape = {}): Kernel {
  const reads = shape.reads ?? Array.from({ length: size }, (_, j) => j);
  const writes = shape.writes ?? Array.from({ length: size }, (_, j) => j);
  return kernel("blockwise", PARAMS, (b) => {
    b.for("i", ref("i32", "first"), ref("i32", "blocks"), (i, body) => {
      const start = body.let("s", shape.start?.(i) ?? add(ref("i32", "base"), shl(i, i32(Math.log2(size)))));
      const at = (j: number) => add(start, i32(j));
      // An invariant load (w[j]) beside the block's own.
      const v = reads.map((j) => body.let(`v${j}`, mul(load("f32", "x", at(j)), load("f32", "w", i32(j)))));
      const other = (j: number) => load("f32", shape.alsoReads!, at(j));
      const extra = shape.alsoReads === undefined ? f32(0) : add(add(other(0), other(1)), add(other(2), other(3)));
      const outs: Expr[] = [];
      for (let j = 0; j < size; j++) {
        const a = v[j % v.length];
        const c = v[(j + 1) % v.length];
        const sum = body.let(`sum${j}`, j % 2 === 0 ? add(a, c) : sub(a, c));
        const picked = body.let(`pick${j}`, select(gt(sum, f32(0.25)), sum, mul(sum, f32(-3))));
        outs.push(body.let(`out${j}`, shape.startInValue === true && j === 0 ? add(picked, convert("f32.fromI32", start)) : add(picked, extra)));
      }
      for (const j of writes) body.store("y", at(j), outs[j]);
      for (let j = 0; j < size; j++) body.store("z", at(j), add(and(bitsOf(outs[j]), u32(0xffff00)), shr(bitsOf(outs[j]), u32(23))));
      if (shape.bytes === true) for (let j = 0; j < size; j++) body.store("bytes", at(j), u32(j));
    });
  });
}

/** Values over 2^−20..2^20 of both signs, with ±0, ±∞ and a NaN among them. */
function inputs(length: number, seed: number): Float32Array {
  let s = seed;
  const special = [0, -0, Infinity, -Infinity, Number.NaN, 2 ** -149, -(2 ** -130)];
  return Float32Array.from({ length }, (_, k) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return k % 17 === 5 ? special[(s >>> 8) % special.length] : ((s >>> 8) / 2 ** 24 - 0.5) * 2 ** ((s % 41) - 20);
  });
}

const bitsOfArray = (a: Float32Array | Uint32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (b, k) => (a instanceof Float32Array && Number.isNaN(a[k]) ? 0x7fc00000 : b));

describe("wasm vectorizer, strided form", () => {
  it("4 straight-line blocks at a time, one per lane: the interpreter's bits at every block count and offset", () => {
    for (const size of [4, 8, 16]) {
      const k = blockwise(size);
      const compiled = compileWasmWith(assembler, { kernels: [k] });
      expect(compiled.loops[0], `size ${size}`).toMatchObject({ vectorized: true, form: "strided" });
      // x read as 4 vector loads transposed by shuffles, y written back the same way: no lane-by-lane access.
      expect(compiled.wat).toMatch(/\(local\.set \$x_at_?\d* \(i8x16\.shuffle /);
      expect(compiled.wat).not.toMatch(/load32_lane|store32_lane/);
      const set = instantiateWasm(compiled);
      const w = inputs(size, 3).map((v) => (Number.isFinite(v) ? v : 1.5));
      for (const blocks of [0, 1, 3, 4, 5, 7, 8, 9, 13])
        for (const [first, base] of [[0, 0], [1, 3], [2, 5]]) {
          const length = base + blocks * size + 4;
          const x = inputs(length, 11 * size + blocks);
          const run = (call: (y: Float32Array, z: Uint32Array) => void) => {
            const y = new Float32Array(length).fill(7);
            const z = new Uint32Array(length).fill(7);
            call(y, z);
            return { y: bitsOfArray(y), z: bitsOfArray(z) };
          };
          const want = run((y, z) => interpret(k, { x, w, y, z, bytes: new Uint8Array(length), blocks, first, base }));
          const got = run((y, z) => set.kernels.blockwise(x, w, y, z, new Uint8Array(length), blocks, first, base));
          expect(got, `size ${size}, blocks [${first}, ${blocks}) from ${base}`).toEqual(want);
          // One array as x and y (what the precondition allows): every block reads before it writes.
          const inPlace = x.slice();
          interpret(k, { x: inPlace, w, y: inPlace, z: new Uint32Array(length), bytes: new Uint8Array(length), blocks, first, base });
          const mark = set.heap.mark();
          const at = set.heap.copyIn(x);
          const [wAt, zAt, bytesAt] = [set.heap.copyIn(w), set.heap.alloc(4 * length), set.heap.alloc(length)];
          set.raw.blockwise(at, wAt, at, zAt, bytesAt, blocks, first, base);
          const aliased = new Float32Array(length);
          set.heap.read(at, aliased);
          set.heap.release(mark);
          expect(bitsOfArray(aliased), `size ${size}, blocks [${first}, ${blocks}) from ${base}, x = y`).toEqual(bitsOfArray(inPlace));
        }
    }
  });

  it("the Hadamard rotations take it", () => {
    const compiled = compileWasmWith(assembler, rotationModule());
    for (const name of compiled.kernels.map((k) => k.name))
      expect(compiled.loops.filter((l) => l.kernel === name && l.form === "strided"), name).toHaveLength(1);
  });

  it("refuses what would move elements the scalar loop does not, reorder a read after a write, or read the block's position", () => {
    const reason = (k: Kernel) => {
      const loop = vectorizeKernel(k).loops[0];
      expect(loop.form).toBeUndefined();
      return loop.reason;
    };
    // The element form's reason is reported once the strided form refuses too: the strided reasons are checked through it.
    const strided = (shape: Shape, size = 8) => {
      const loops = vectorizeKernel(blockwise(size, shape)).loops;
      return loops.some((l) => l.form === "strided");
    };
    expect(strided({})).toBe(true);
    // Part of a quad read, or written: a vector load or store would touch elements the loop does not.
    expect(strided({ reads: [0, 1, 2, 4, 5, 6, 7] })).toBe(false);
    expect(strided({ writes: [0, 1, 2, 3, 4, 5] })).toBe(false);
    // A buffer both read and stored: blocks would no longer run one after another.
    expect(strided({ alsoReads: "y" })).toBe(false);
    expect(strided({ alsoReads: "w" })).toBe(true);
    // Bytes move 16 to a vector: not by this form.
    expect(strided({ bytes: true })).toBe(false);
    // The start read as a value, a block size that is not a multiple of 4, a start that is not P + i·B.
    expect(strided({ startInValue: true })).toBe(false);
    expect(strided({ start: (i) => add(ref("i32", "base"), mul(i, i32(6))) }, 8)).toBe(false);
    expect(strided({ start: (i) => add(ref("i32", "base"), mul(i, i32(8))) }, 8)).toBe(true);
    expect(strided({ start: (i) => add(mul(i, i32(8)), ref("i32", "base")) }, 8)).toBe(true);
    expect(strided({ start: (i) => add(ref("i32", "base"), mul(mul(i, i), i32(8))) }, 8)).toBe(false);
    // A store of a value read from memory, and a let after a store: a call with one array as x and y would see the order change.
    const direct = kernel("direct", PARAMS, (b) =>
      b.for("i", i32(0), ref("i32", "blocks"), (i, body) => {
        const start = body.let("s", shl(i, i32(2)));
        for (let j = 0; j < 4; j++) body.store("y", add(start, i32(j)), load("f32", "x", add(start, i32(3 - j))));
      }),
    );
    expect(vectorizeKernel(direct).loops.some((l) => l.form === "strided")).toBe(false);
    const late = kernel("late", PARAMS, (b) =>
      b.for("i", i32(0), ref("i32", "blocks"), (i, body) => {
        const start = body.let("s", shl(i, i32(2)));
        const v = [0, 1, 2, 3].map((j) => body.let(`v${j}`, load("f32", "x", add(start, i32(j)))));
        body.store("y", start, v[0]);
        const w = body.let("w", mul(v[1], f32(2)));
        for (let j = 1; j < 4; j++) body.store("y", add(start, i32(j)), j === 1 ? w : v[j]);
      }),
    );
    expect(vectorizeKernel(late).loops.some((l) => l.form === "strided")).toBe(false);
    expect(reason(blockwise(8, { startInValue: true }))).toMatch(/not at the loop index/);
  });
});
