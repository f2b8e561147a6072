/**
 * The optional f64 scalar type (nodes.ts): every f64 operation and conversion rendered by the
 * targets that declare it (JS, wasm) against the IR interpreter, on random and edge operands.
 * f64 values cannot be stored, so each kernel writes a result d as three f32 words
 * (h = f32(d), m = f32(d − h), l = f32(d − h − m): 72 significant bits, so d is recovered
 * exactly while it and its remainders stay inside the f32 range); any NaN matches any NaN.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  abs, add, convert, div, eq, f32, f64, floor, ge, gt, i32, kernel, le, load, lt, max, min, mul, ne, neg, ref, roundEven, select, sqrt, sub,
  trunc, widen, type Builder,
} from "../../src/codegen/ir/build.ts";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import { checkCapabilities, type Expr, type Kernel } from "../../src/codegen/ir/nodes.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { JS_CAPABILITIES, renderJs } from "../../src/targets/js/render.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { f64Literal } from "../../src/targets/wasm/literals.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { renderWasm, WASM_CAPABILITIES } from "../../src/targets/wasm/render.ts";
import { vectorizeModule } from "../../src/targets/wasm/vectorize.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

/** The operands of a case: x, y (f32 widened), n (i32 widened), the raw f32 x and the builder. */
type Operands = { x: Expr; y: Expr; n: Expr; fx: Expr; b: Builder };
interface Case {
  readonly name: string;
  /** An f64 result. */
  readonly value: (o: Operands) => Expr;
}

const bool64 = (c: Expr) => select(c, f64(1), f64(0));
/** min/max are defined for non-NaN operands only. */
const bothNumbers = (x: Expr, y: Expr, v: Expr) => select(eq(x, x), select(eq(y, y), v, f64(0)), f64(0));
const CONSTANTS = [0.1, -0, 2 ** -1074, 2 ** -1022, 1 / 3, 1.7976931348623157e308, -Infinity, 2 ** 60 + 2 ** 8, 1 + 2 ** -52];

const CASES: readonly Case[] = [
  ...(["add", "sub", "mul", "div"] as const).map((op): Case => ({ name: `f64 ${op}`, value: ({ x, y }) => ({ add, sub, mul, div })[op](x, y) })),
  ...(["min", "max"] as const).map((op): Case => ({ name: `f64 ${op}`, value: ({ x, y }) => bothNumbers(x, y, ({ min, max })[op](x, y)) })),
  { name: "f64 chain x·y + n (one rounding, not f32's)", value: ({ x, y, n }) => add(mul(x, y), n) },
  { name: "f64 (x + 2^−30) − x keeps the small term", value: ({ x }) => sub(add(x, f64(2 ** -30)), x) },
  { name: "f64 x / n", value: ({ x, n }) => div(x, n) },
  ...(["neg", "abs", "floor", "trunc", "roundEven"] as const).map((op): Case => ({ name: `f64 ${op}`, value: ({ x, n }) => ({ neg, abs, floor, trunc, roundEven })[op](add(x, div(n, f64(2 ** 20)))) })),
  { name: "f64 roundEven of halves", value: ({ n }) => roundEven(mul(n, f64(2 ** -21))) },
  { name: "f64 sqrt", value: ({ x, y }) => sqrt(abs(mul(x, y))) },
  ...(["eq", "ne", "lt", "le", "gt", "ge"] as const).map((op): Case => ({ name: `f64 ${op}`, value: ({ x, y }) => bool64(({ eq, ne, lt, le, gt, ge })[op](x, y)) })),
  { name: "select f64 on an f64 compare", value: ({ x, y, n }) => select(lt(mul(x, y), n), x, n) },
  { name: "f64.fromI32", value: ({ n }) => n },
  { name: "f64.fromF32", value: ({ x }) => x },
  { name: "f32.fromF64 of a product and a sum (round to nearest even, once)", value: ({ x, y, n }) => widen(convert("f32.fromF64", add(mul(x, y), mul(n, f64(2 ** -40))))) },
  { name: "f32.fromF64 ties", value: ({ n }) => widen(convert("f32.fromF64", add(f64(1), mul(n, f64(2 ** -24))))) },
  ...CONSTANTS.map((c): Case => ({ name: `f64 constant ${c}`, value: ({ x }) => add(mul(x, f64(0)), f64(c)) })),
];

function caseKernel(c: Case, index: number): Kernel {
  return kernel(
    `f64_${index}`,
    [
      { kind: "buffer", name: "xs", storage: "f32", access: "read" },
      { kind: "buffer", name: "ys", storage: "f32", access: "read" },
      { kind: "buffer", name: "ns", storage: "i32", access: "read" },
      { kind: "buffer", name: "out", storage: "f32", access: "write" },
      { kind: "scalar", name: "count", type: "i32" },
    ],
    (b) => {
      b.for("i", i32(0), ref("i32", "count"), (i, body) => {
        const fx = body.let("fx", load("f32", "xs", i));
        const o: Operands = { x: body.let("x", widen(fx)), y: body.let("y", widen(load("f32", "ys", i))), n: body.let("n", widen(load("i32", "ns", i))), fx, b: body };
        const d = body.let("d", c.value(o));
        const h = body.let("h", convert("f32.fromF64", d));
        const r = body.let("r", sub(d, widen(h)));
        const m = body.let("m", convert("f32.fromF64", r));
        const l = convert("f32.fromF64", sub(r, widen(m)));
        const at = body.let("at", mul(i, i32(3)));
        body.store("out", at, h);
        body.store("out", add(at, i32(1)), m);
        body.store("out", add(at, i32(2)), l);
      });
    },
  );
}

const EDGE_F32 = [0, -0, 1, -1, 1.5, 2.5, -2.5, 0.5, 3, 2 ** -149, -(2 ** -126), 2 ** 24 + 2, 3.4028234663852886e38, Infinity, -Infinity, NaN, 0.1, -7.75];
const EDGE_I32 = [0, 1, -1, 2, 3, -3, 2 ** 20, 2 ** 20 + 2 ** 19, -(2 ** 31), 2 ** 31 - 1, 12345678, -(2 ** 21) - 2 ** 20];

function operands(count: number, seed: number) {
  const bits = (s: number, j: number) => counterRandom(s, j) >>> 0;
  const xs = new Float32Array(count);
  const ys = new Float32Array(count);
  const ns = new Int32Array(count);
  const edges = EDGE_F32.length ** 2;
  for (let j = 0; j < count; j++) {
    if (j < edges) {
      xs[j] = EDGE_F32[j % EDGE_F32.length];
      ys[j] = EDGE_F32[Math.floor(j / EDGE_F32.length)];
    } else {
      // Random bit patterns (all exponents), then random values near 1 (where the rounding is).
      xs[j] = j % 2 ? new Float32Array(Uint32Array.of(bits(seed, j)).buffer)[0] : 1 + bits(seed, j) / 2 ** 32;
      ys[j] = j % 3 ? new Float32Array(Uint32Array.of(bits(seed + 1, j)).buffer)[0] : (bits(seed + 1, j) / 2 ** 32) * 8 - 4;
    }
    ns[j] = j < EDGE_I32.length * 8 ? EDGE_I32[j % EDGE_I32.length] : bits(seed + 2, j) >> (j % 24);
  }
  return { xs, ys, ns };
}

/** Bits of each f32; every NaN reads as one value. */
function comparable(out: Float32Array): number[] {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  return Array.from(out, (v, j) => (Number.isNaN(v) ? -1 : bits[j]));
}

const MODULE = { kernels: CASES.map(caseKernel) };

describe("f64 on the JS and wasm targets", () => {
  it("both declare f64; a target without it rejects an f64 kernel by name", () => {
    expect(JS_CAPABILITIES.f64).toBe(true);
    expect(WASM_CAPABILITIES.f64).toBe(true);
    expect(() => checkCapabilities(MODULE, "wgsl", { f64: false })).toThrow(/kernel f64_0 uses f64 values, which the wgsl target does not have/);
    const f32Only = kernel("plain", [{ kind: "buffer", name: "o", storage: "f32", access: "write" }], (b) => b.store("o", i32(0), f32(1)));
    expect(() => checkCapabilities({ kernels: [f32Only] }, "wgsl", { f64: false })).not.toThrow();
  });

  it("the vectorizer keeps every loop with f64 values scalar, saying so", () => {
    const loops = vectorizeModule(MODULE).loops;
    expect(loops).toHaveLength(CASES.length);
    for (const l of loops) expect(l).toEqual({ kernel: l.kernel, index: l.index, vectorized: false, reason: "f64 values in the loop body (vectors here are 4 lanes of 32 bits)" });
  });

  it("JS renders f64 arithmetic unwrapped and only the f32.fromF64 rounding as Math.fround", () => {
    const source = renderJs({ kernels: [MODULE.kernels[CASES.findIndex((c) => c.name.startsWith("f64 chain"))]] });
    expect(source).toMatch(/const d_\d+ = \(\(x_\d+ \* y_\d+\) \+ n_\d+\);/);
    expect(source).toMatch(/const h_\d+ = F\(d_\d+\);/);
  });

  for (const count of [1500, 3, 0]) {
    it(`JS and wasm compute what the interpreter computes (${count} elements)`, () => {
      const js = loadJs(MODULE);
      const wasm = instantiateWasm(compileWasmWith(assembler, MODULE)).kernels;
      const args = operands(count, 7 + count);
      const bad: string[] = [];
      CASES.forEach((c, index) => {
        const want = new Float32Array(3 * count);
        interpret(MODULE.kernels[index], { ...args, out: want, count });
        for (const [label, fn] of [["js", js[`f64_${index}`]], ["wasm", wasm[`f64_${index}`]]] as const) {
          const got = new Float32Array(3 * count);
          fn(args.xs, args.ys, args.ns, got, count);
          const w = comparable(want);
          const g = comparable(got);
          const at = w.findIndex((v, j) => v !== g[j]);
          if (at >= 0) {
            const e = Math.floor(at / 3);
            bad.push(`${c.name} (${label}) #${e}: x=${args.xs[e]} y=${args.ys[e]} n=${args.ns[e]} → ${got.slice(3 * e, 3 * e + 3)}, interpreter ${want.slice(3 * e, 3 * e + 3)}`);
          }
        }
      });
      expect(bad).toEqual([]);
    });
  }

  it("defines the values: f64 sums are not rounded to f32, f32.fromF64 rounds ties to even", () => {
    const run = (c: Case, x: number, y: number, n: number) => {
      const out = new Float32Array(3);
      interpret(caseKernel(c, 0), { xs: [x], ys: [y], ns: [n], out, count: 1 });
      return out[0] + out[1] + out[2];
    };
    const byName = (prefix: string) => CASES.find((c) => c.name.startsWith(prefix)) as Case;
    expect(run(byName("f64 (x + 2^−30)"), 1, 0, 0)).toBe(2 ** -30);
    expect(run(byName("f64 chain"), 1 + 2 ** -23, 1 + 2 ** -23, 1)).toBe(2 + 2 ** -22 + 2 ** -46);
    const ties = byName("f32.fromF64 ties");
    expect(run(ties, 0, 0, 1)).toBe(1); // 1 + 2^−24: halfway, to even (1)
    expect(run(ties, 0, 0, 3)).toBe(1 + 2 ** -22); // 1 + 3·2^−24: halfway, to even
    expect(run(ties, 0, 0, 2)).toBe(1 + 2 ** -23);
    expect(run(byName("f64 roundEven of halves"), 0, 0, 5 * 2 ** 20)).toBe(2); // 2.5 → 2
    expect(run(byName("f64 roundEven of halves"), 0, 0, -3 * 2 ** 20)).toBe(-2); // −1.5 → −2
  });

  it("f64 constants are exact hexadecimal floats in WebAssembly text", () => {
    expect(f64Literal(1)).toBe("0x1.0000000000000p0");
    expect(f64Literal(-0)).toBe("-0x0.0000000000000p-1022");
    expect(f64Literal(2 ** -1074)).toBe("0x0.0000000000001p-1022");
    expect(f64Literal(0.1)).toBe("0x1.999999999999ap-4");
    expect(f64Literal(1.7976931348623157e308)).toBe("0x1.fffffffffffffp1023");
    expect(f64Literal(-Infinity)).toBe("-inf");
    expect(f64Literal(Number.NaN)).toBe("nan");
  });

  it("f64 values have no storage: a store, load or lookup of f64 is refused", () => {
    const storing = kernel("s", [{ kind: "buffer", name: "o", storage: "f32", access: "write" }], (b) => b.store("o", i32(0), f64(1)));
    expect(() => interpret(storing, { o: new Float32Array(1) })).toThrow(/f64 has no storage/);
    expect(() => renderJs({ kernels: [storing] })).toThrow(/f64 values have no storage/);
    expect(() => renderWasm({ kernels: [storing] })).toThrow(/f64 values have no storage/);
    const loading = kernel("l", [{ kind: "buffer", name: "o", storage: "f32", access: "readwrite" }], (b) => b.store("o", i32(0), convert("f32.fromF64", load("f64", "o", i32(0)))));
    expect(() => interpret(loading, { o: new Float32Array(1) })).toThrow(/f64 load/);
    expect(() => renderJs({ kernels: [loading] })).toThrow(/f64 values have no storage/);
    expect(() => renderWasm({ kernels: [loading] })).toThrow(/f64 values have no storage/);
  });
});
