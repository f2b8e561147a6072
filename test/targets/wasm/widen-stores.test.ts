/**
 * The store-widening pass (src/targets/wasm/widen-stores.ts): ≤ 16-bit encode loops store 16
 * bytes at a time (4 unrolled 4-lane iterations narrowed into one v128.store for 8-bit codes, two
 * for 16-bit), with the codes' range proven so no mask is needed, and the output is bit-identical
 * to the JS target for every built-in ≤ 16-bit element format's encode and fake-quantize — its
 * own rounding and stochastic rounding — on every length around the 16-element step, at aligned
 * and unaligned positions, touching nothing outside the output; loops with several stored
 * buffers, accumulators and unprovable (masked) values match the interpreter, and loops the pass
 * must not reorder are left alone.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { add, and, asI32, asU32, bitsOf, convert, f32, i32, kernel, load, max, min, mul, ne, ref, roundEven, select, shr, u32, xor } from "../../../src/codegen/ir/build.ts";
import { interpret } from "../../../src/codegen/ir/interpret.ts";
import type { Kernel, Param } from "../../../src/codegen/ir/nodes.ts";
import { lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { codeArray } from "../../../src/dsl/semantics/codes.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { superwordModule } from "../../../src/targets/wasm/superword.ts";
import { vectorizeModule } from "../../../src/targets/wasm/vectorize.ts";
import { widenStoresModule } from "../../../src/targets/wasm/widen-stores.ts";
import { acceptsStochastic, builtin, builtinNames } from "../../support/formats.ts";
import { edgeInputs, randomBitPatterns } from "../../support/inputs.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const LENGTHS = [0, 1, 3, 4, 15, 16, 17, 63, 64, 65, 1000];
const SEED = 4321;
const F32_SPECIALS = Uint32Array.of(
  0x7fc00000, 0xffc00000, 0x7f800001, 0xffbfffff, 0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7f7fffff, 0xff7fffff,
  0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x3f000000, 0xbf000000, 0x3fc00000, 0x40200000,
);

/** The pass's reports for a module as compileWasm builds it (vectorize → superword → widen). */
const widened = (kernels: readonly Kernel[]) => widenStoresModule(superwordModule(vectorizeModule({ kernels }).module).module);

/** Specials, the format's values, ties and bands (a sample of them for 16 bits), and random bit patterns, interleaved. */
function inputsFor(format: ResolvedFormat): Float32Array {
  const edges = edgeInputs(format);
  const step = Math.max(1, Math.floor(edges.length / 3000));
  const sampled = edges.filter((_, k) => k % step === 0);
  const random = randomBitPatterns(3000, 99);
  const specials = new Float32Array(F32_SPECIALS.buffer.slice(0));
  const out = new Float32Array(specials.length + sampled.length + random.length);
  // Interleave so that every window of the array mixes all three kinds.
  let at = 0;
  for (let k = 0; at < out.length; k++) {
    if (k < specials.length) out[at++] = specials[k];
    if (k < sampled.length && at < out.length) out[at++] = sampled[k];
    if (k < random.length && at < out.length) out[at++] = random[k];
  }
  return out;
}

const ELEMENT_FORMATS = builtinNames.map(builtin).filter((f) => f.bits <= 16 && f.scaling.kind === "none");

describe("store widening", () => {
  it("stores ≤ 16-bit codes 16 bytes at a time, ranges proven (no mask), loads at constant offsets", () => {
    // bf16's NaN lanes are a maximum with an all-ones mask before the 16-bit store (fast-encode/float.ts):
    // no range to prove, so its stores are masked (still 16 bytes at a time).
    expect(widened([lowerEncodeElements(builtin("bf16"))]).reports[0]?.narrowings).toEqual(["masked", "masked"]);
    // e8m0's code is a signed clamp max(min(v, 254), 0) or'ed with 0xff on NaN and negative lanes:
    // proven in [0, 255] by the signed range.
    for (const name of ["int8", "e4m3", "e5m2", "e2m1", "int4", "fp16", "e8m0", "uint4-zp8", "e4m3fnuz"]) {
      const format = builtin(name);
      const { reports } = widened([lowerEncodeElements(format)]);
      const eight = format.bits <= 8;
      // int8 (ties to even, no zero point) encodes by conversion, a signed clamp under the code mask: the signed narrows.
      const signed = name === "int8";
      expect(reports, name).toEqual([{ kernel: "encode_elements", index: "i_0_x4", unroll: 4, buffers: ["codes"], narrowings: eight ? [signed ? "signed" : "unsigned"] : ["unsigned", "unsigned"] }]);
      const { wat } = compileWasmWith(assembler, { kernels: [lowerEncodeElements(format)] });
      const encode = wat.split('(export "encode_elements")')[1];
      if (signed) {
        expect(encode, name).toMatch(/\(v128\.store align=1 \(i32\.add \(local\.get \$codes\) \(local\.get \$i_0_x4\)\) \(i8x16\.narrow_i16x8_s \(i16x8\.narrow_i32x4_s /);
        // Both clamps are the narrowing's own: none in the unrolled loop.
        const unrolled = encode.split("(loop $.next0")[1].split("(br $.next0)")[0];
        expect(unrolled, name).not.toMatch(/f32x4\.(min|max)|i32x4\.(min|max)_s/);
      } else if (eight) {
        // A float code whose sign is its top bit takes it at the store (the next test): an or around the narrowing.
        const or = ["e4m3", "e5m2"].includes(name) ? "\\(v128\\.or " : "";
        expect(encode, name).toMatch(new RegExp(`\\(v128\\.store align=1 \\(i32\\.add \\(local\\.get \\$codes\\) \\(local\\.get \\$i_0_x4\\)\\) ${or}\\(i8x16\\.narrow_i16x8_u \\(i16x8\\.narrow_i32x4_u `));
      } else {
        expect(encode, name).toMatch(/\(v128\.store align=2 \(i32\.add \(local\.get \$codes\) \(i32\.shl \(local\.get \$i_0_x4\) \(i32\.const 1\)\)\) \(v128\.or \(i16x8\.narrow_i32x4_u /);
        expect(encode, name).toMatch(/\(v128\.store offset=16 align=2 \(i32\.add \(local\.get \$codes\) \(i32\.shl \(local\.get \$i_0_x4\) \(i32\.const 1\)\)\) \(v128\.or \(i16x8\.narrow_i32x4_u /);
      }
      expect(encode, name).toMatch(/\(v128\.load offset=48 align=4 /);
      expect(encode, name).not.toMatch(/v128\.and \(local\.get \$code\w*\) \(v128\.const i32x4 (255|65535) /);
      // The unrolled loop steps 16 elements, and a 4-lane loop still takes what is left.
      expect(encode, name).toMatch(/\(i32\.add \(local\.get \$i_0_x4\) \(i32\.const 16\)\)/);
      expect(encode, name).toMatch(/\(i32\.add \(local\.get \$i_0_x4\) \(i32\.const 4\)\)/);
    }
  });

  it("takes a float code's sign bit from x's bits at the store, by the signed narrowing", () => {
    // e4m3, e5m2, e3m4 (8-bit) and fp16 (16-bit) or x's sign bit into the code's top bit: the
    // store narrows the magnitudes unsigned and x's bits signed (which keeps each lane's sign as
    // the element's top bit), so no shift pair or or per vector is left in the unrolled loop.
    // e2m1's sign is bit 3 of its byte, not the top bit: left as it was.
    for (const [name, stores] of [["e4m3", 1], ["e5m2", 1], ["e3m4", 1], ["fp16", 2], ["e2m1", 0]] as const) {
      const format = builtin(name);
      const { wat } = compileWasmWith(assembler, { kernels: [lowerEncodeElements(format)] });
      const unrolled = wat.split('(export "encode_elements")')[1].split("(loop $.next0")[1].split("(br $.next0)")[0];
      const top = format.bits <= 8 ? "-2139062144" : "-2147450880";
      const narrow = format.bits <= 8 ? "i8x16\\.narrow_i16x8_s \\(i16x8\\.narrow_i32x4_s" : "i16x8\\.narrow_i32x4_s";
      const signs = unrolled.match(new RegExp(`\\(v128\\.and \\(${narrow} \\(local\\.get \\$bits_\\w+\\) \\(local\\.get \\$bits_\\w+\\)`, "g")) ?? [];
      expect(signs.length, name).toBe(stores);
      if (stores > 0) {
        expect(unrolled, name).toContain(`(v128.const i32x4 ${top} ${top} ${top} ${top})`);
        expect(unrolled, name).not.toMatch(/i32x4\.shr_u \(local\.get \$bits_\w+\) \(i32\.const 31\)/);
      } else expect(unrolled, name).toMatch(/i32x4\.shr_u \(local\.get \$bits_\w+\) \(i32\.const 31\)/);
    }
  });

  it("widens the code stores of the scaled encodes too (block, shift-groups)", () => {
    for (const name of ["mxfp8", "nvfp4", "shiftquant4"]) {
      const stores = widened(lowerFormat(builtin(name)).kernels).reports.filter((r) => r.buffers.includes("codes"));
      expect(stores.length, name).toBeGreaterThan(0);
    }
  });

  it("covers the built-in element formats of ≤ 16 bits", () => expect(ELEMENT_FORMATS.length).toBeGreaterThan(15));

  for (const base of ELEMENT_FORMATS) {
    const variants = acceptsStochastic(base) ? [base, { ...base, name: `${base.name}-sr`, rounding: { mode: "stochastic", bits: 11 } } as ResolvedFormat] : [base];
    for (const format of variants)
      it(`${format.name}: encode and fake-quantize bit-identical to the JS target on lengths ${LENGTHS.join(", ")}, aligned or not`, () => {
        const kernels = lowerFormat(format).kernels;
        const js = loadJs({ kernels });
        const wasm = instantiateWasm(compileWasmWith(assembler, { kernels }));
        const x = inputsFor(format);
        const bad: string[] = [];
        for (const n of LENGTHS)
          for (const start of [0, 1, 3, 2000]) {
            const xs = x.subarray(start, start + n);
            const want = codeArray(format.bits, n);
            const got = codeArray(format.bits, n);
            js.encode_elements(xs, want, n, SEED);
            wasm.kernels.encode_elements(xs, got, n, SEED);
            const wantF = new Float32Array(n);
            const gotF = new Float32Array(n);
            js.fake_quantize_elements(xs, wantF, n, SEED);
            wasm.kernels.fake_quantize_elements(xs, gotF, n, SEED);
            const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
            for (let k = 0; k < n && bad.length < 5; k++) {
              if (got[k] !== want[k]) bad.push(`encode n=${n} start=${start} #${k} x=${xs[k]}: ${got[k]} vs ${want[k]}`);
              if (bits(gotF)[k] !== bits(wantF)[k]) bad.push(`fake-quantize n=${n} start=${start} #${k} x=${xs[k]}: ${gotF[k]} vs ${wantF[k]}`);
            }
          }
        expect(bad).toEqual([]);
      });
  }

  it("writes only the output's own bytes, at unaligned byte offsets in wasm memory", () => {
    for (const name of ["e4m3", "fp16"]) {
      const format = builtin(name);
      const kernels = [lowerEncodeElements(format)];
      const set = instantiateWasm(compileWasmWith(assembler, { kernels }));
      const js = loadJs({ kernels });
      const heap = set.heap;
      const bytes = format.bits <= 8 ? 1 : 2;
      const x = inputsFor(format);
      for (const n of LENGTHS) {
        const mark = heap.mark();
        const region = heap.alloc(64 + 6 * n);
        const xAt = region + 4;
        const codesAt = xAt + 4 * n + 3 * bytes;
        new Uint8Array(heap.memory.buffer, region, 64 + 6 * n).fill(0xa5);
        const xs = x.slice(7, 7 + n);
        heap.write(xAt, xs);
        set.raw.encode_elements(xAt, codesAt, n, SEED);
        const got = codeArray(format.bits, n);
        heap.read(codesAt, got);
        const want = codeArray(format.bits, n);
        js.encode_elements(xs, want, n, SEED);
        expect(Array.from(got), `${name} n=${n}`).toEqual(Array.from(want));
        const region8 = new Uint8Array(heap.memory.buffer, region, 64 + 6 * n);
        const outside = [...region8.keys()].filter((k) => {
          const at = region + k;
          return !(at >= xAt && at < xAt + 4 * n) && !(at >= codesAt && at < codesAt + bytes * n) && region8[k] !== 0xa5;
        });
        expect(outside, `${name} n=${n}`).toEqual([]);
        heap.release(mark);
      }
    }
  });

  const io = (extra: readonly Param[]): Param[] => [
    { kind: "buffer", name: "x", storage: "f32", access: "read" },
    ...extra,
    { kind: "scalar", name: "from", type: "i32" },
    { kind: "scalar", name: "n", type: "i32" },
  ];

  it("widens a loop with several stored buffers, an accumulator and unprovable (masked) values, like the interpreter", () => {
    const several = kernel(
      "several",
      io([
        { kind: "buffer", name: "bytes", storage: "u8", access: "write" },
        { kind: "buffer", name: "halves", storage: "u16", access: "write" },
        { kind: "buffer", name: "signed", storage: "i8", access: "write" },
        { kind: "buffer", name: "out", storage: "f32", access: "write" },
        { kind: "buffer", name: "sum", storage: "f32", access: "write" },
      ]),
      (b) => {
        const sum = b.var("sum", f32(0));
        b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => {
          const x = body.let("xi", load("f32", "x", i));
          const bits = body.let("bits", bitsOf(x));
          // Whole 32-bit values: the store keeps their low bits, so the narrowing must mask first.
          body.store("bytes", i, xor(bits, asU32(i)));
          body.store("halves", i, shr(bits, u32(7)));
          body.store("signed", i, asI32(add(bits, u32(0x80))));
          body.store("out", i, mul(x, f32(3)));
          body.assign(sum.name, add(sum.ref, mul(x, f32(0.5))));
        });
        b.store("sum", i32(0), sum.ref);
      },
    );
    const { reports } = widened([several]);
    expect(reports).toEqual([{ kernel: "several", index: "i_1_x4", unroll: 4, buffers: ["bytes", "halves", "signed"], narrowings: ["masked", "masked", "masked", "masked"] }]);
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [several] }));
    const x = Float32Array.from({ length: 80 }, (_, k) => (k % 7 === 3 ? -1 : 1) * 1.37 ** (k % 29) * (k + 0.25));
    for (const [from, n] of [[0, 80], [1, 80], [3, 20], [0, 15], [0, 16], [5, 5], [2, 67], [4, 1]]) {
      const fresh = () => ({ bytes: new Uint8Array(80).fill(9), halves: new Uint16Array(80).fill(9), signed: new Int8Array(80).fill(9), out: new Float32Array(80).fill(9), sum: new Float32Array(1) });
      const want = fresh();
      interpret(several, { x, ...want, from, n });
      const got = fresh();
      set.kernels.several(x, got.bytes, got.halves, got.signed, got.out, got.sum, from, n);
      for (const key of Object.keys(want) as (keyof typeof want)[]) expect(Array.from(got[key]), `${key} [${from}, ${n})`).toEqual(Array.from(want[key]));
    }
  });

  it("stores clamped signed codes by saturating signed narrowing, the clamp dropped, like the interpreter", () => {
    // int8 / int16 the way a conversion-based encode writes them: round, convert (saturating),
    // clamp to the code range, NaN to the lowest code. The clamp is the narrowing's own.
    const clamped = kernel(
      "clamped",
      io([
        { kind: "buffer", name: "bytes", storage: "u8", access: "write" },
        { kind: "buffer", name: "halves", storage: "u16", access: "write" },
        { kind: "buffer", name: "narrower", storage: "i8", access: "write" },
      ]),
      (b) =>
        b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => {
          const x = body.let("xi", load("f32", "x", i));
          // Clamped in float first: the IR converts only operands in i32 range.
          const n = body.let("n", convert("i32.fromF32", roundEven(min(max(x, f32(-1e9)), f32(1e9)))));
          const nan = ne(x, x);
          body.store("bytes", i, body.let("byte", select(nan, i32(-128), min(max(n, i32(-128)), i32(127)))));
          body.store("halves", i, body.let("half", select(nan, i32(0), max(min(n, i32(32767)), i32(-32768)))));
          // A clamp narrower than the signed range stays (the narrowing alone would not clamp at ±100).
          body.store("narrower", i, min(max(n, i32(-100)), i32(100)));
        }),
    );
    const { reports, module } = widened([clamped]);
    expect(reports.map((r) => r.narrowings)).toEqual([["signed", "signed", "signed", "signed"]]);
    const { wat } = compileWasmWith(assembler, { kernels: [clamped] });
    const unrolled = wat.slice(wat.indexOf("(loop $.next0"), wat.indexOf("(br $.next0)"));
    expect(unrolled).toMatch(/\(i8x16\.narrow_i16x8_s \(i16x8\.narrow_i32x4_s /);
    // Only the ±100 clamp is still computed (4 iterations × min and max).
    expect(unrolled.match(/i32x4\.min_s/g)?.length).toBe(4);
    expect(JSON.stringify(module)).toContain('"narrowing":"signed"');
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [clamped] }));
    const specials = new Float32Array(F32_SPECIALS.buffer.slice(0));
    const x = Float32Array.from({ length: 200 }, (_, k) => (k < specials.length ? specials[k] : (k % 2 ? -1 : 1) * (k - 20.5) ** 2.2 + (k % 5) * 0.5));
    for (const [from, n] of [[0, 200], [1, 200], [3, 40], [0, 16], [2, 17], [5, 5]]) {
      const fresh = () => ({ bytes: new Uint8Array(200).fill(9), halves: new Uint16Array(200).fill(9), narrower: new Int8Array(200).fill(9) });
      const want = fresh();
      interpret(clamped, { x, ...want, from, n });
      const got = fresh();
      set.kernels.clamped(x, got.bytes, got.halves, got.narrower, from, n);
      for (const key of Object.keys(want) as (keyof typeof want)[]) expect(Array.from(got[key]), `${key} [${from}, ${n})`).toEqual(Array.from(want[key]));
    }
  });

  it("drops a wide float clamp before a saturating conversion into signed codes (int8 by conversion), like the interpreter", () => {
    const int8 = (name: string, bound: number) =>
      kernel(name, io([{ kind: "buffer", name: "codes", storage: "u8", access: "write" }]), (b) =>
        b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => {
          const x = body.let("xi", load("f32", "x", i));
          const n = convert("i32.fromF32", roundEven(min(max(x, f32(-bound)), f32(bound))));
          body.store("codes", i, select(ne(x, x), i32(-128), min(max(n, i32(-128)), i32(127))));
        }),
      );
    const converted = int8("converted", 1e9);
    // A float clamp inside the code range is the encode's own: it stays.
    const within = int8("within", 50);
    expect(widened([converted, within]).reports.map((r) => r.narrowings)).toEqual([["signed"], ["signed"]]);
    expect(compileWasmWith(assembler, { kernels: [within] }).wat).toMatch(/f32x4\.min/);
    const { wat } = compileWasmWith(assembler, { kernels: [converted] });
    const unrolled = wat.slice(wat.indexOf("(loop $.next0"), wat.indexOf("(br $.next0)"));
    expect(unrolled).toMatch(/\(i32x4\.trunc_sat_f32x4_s \(f32x4\.nearest \(local\.get \$xi_\w+\)\)\)/);
    expect(unrolled).not.toMatch(/f32x4\.(min|max)|i32x4\.(min|max)_s/);
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [converted, within] }));
    const specials = new Float32Array(F32_SPECIALS.buffer.slice(0));
    const x = Float32Array.from({ length: 300 }, (_, k) => (k < specials.length ? specials[k] : k < 150 ? (k - 85) * 2.5 : (k % 2 ? -1 : 1) * 1.5 ** (k % 60)));
    for (const [name, k] of [["converted", converted], ["within", within]] as const)
      for (const [from, n] of [[0, 300], [1, 300], [3, 40], [0, 16], [2, 17]]) {
        const want = new Uint8Array(300).fill(9);
        interpret(k, { x, codes: want, from, n });
        const got = new Uint8Array(300).fill(9);
        set.kernels[name](x, got, from, n);
        expect(Array.from(got), `${name} [${from}, ${n})`).toEqual(Array.from(want));
      }
  });

  it("leaves loops alone that store a narrow buffer twice or read a narrow buffer other than at the loop index; bounds table codes", () => {
    const codes = [
      { kind: "buffer", name: "c", storage: "u8", access: "write" },
      { kind: "buffer", name: "d", storage: "u8", access: "read" },
    ] as const;
    const twice = kernel("twice", io(codes), (b) =>
      b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => {
        body.store("c", i, and(bitsOf(load("f32", "x", i)), u32(3)));
        body.store("c", i, u32(5));
      }),
    );
    const gathered = kernel("gathered", io(codes), (b) =>
      b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => body.store("c", i, load("u32", "d", asI32(and(bitsOf(load("f32", "x", i)), u32(7)))))),
    );
    const atIndex = kernel("at_index", io(codes), (b) =>
      b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) => body.store("c", i, add(load("u32", "d", i), u32(1)))),
    );
    // Codes looked up in a table of bytes: widened, their range read off the table (no mask).
    const table = kernel("table", io(codes), (b) =>
      b.for("i", ref("i32", "from"), ref("i32", "n"), (i, body) =>
        body.store("c", i, b.names.table("bytes", "u32", () => [0, 255, 17, 128, 3, 200, 99, 1], asI32(and(bitsOf(load("f32", "x", i)), u32(7))))),
      ),
    );
    expect(widened([twice, gathered, atIndex, table]).reports.map((r) => [r.kernel, r.narrowings])).toEqual([["at_index", ["masked"]], ["table", ["unsigned"]]]);
    const set = instantiateWasm(compileWasmWith(assembler, { kernels: [twice, gathered, atIndex, table] }));
    const x = Float32Array.from({ length: 40 }, (_, k) => k * 0.37 + 1);
    const d = Uint8Array.from({ length: 40 }, (_, k) => (k * 37) & 255);
    for (const name of ["twice", "gathered", "at_index", "table"])
      for (const [from, n] of [[0, 40], [1, 39], [0, 16]]) {
        const want = new Uint8Array(40);
        interpret({ twice, gathered, at_index: atIndex, table }[name] as Kernel, { x, c: want, d, from, n });
        const got = new Uint8Array(40);
        set.kernels[name](x, got, d, from, n);
        expect(Array.from(got), `${name} [${from}, ${n})`).toEqual(Array.from(want));
      }
  });
});
