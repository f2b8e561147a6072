/**
 * The integer form of an accumulator's sum (lower/gemm/accumulator.ts lowerAccumulatorAdd), on the
 * JS target: for fp32 with opaqueF32 (what WGSL runs) it equals float32 addition bit for bit, and
 * for bf16, fp16 and acc14 it equals the semantics' acc(x + y), on pairs chosen to hit every branch:
 * random bits (with subnormals, infinities and NaN), near exponents, near cancellation, exact
 * cancellation (x + (−x) = +0, −0 + −0 = −0) and overflow. So does the IEEE form (`ieee`: the
 * round-to-odd sum from its exact float error, what the JS and wasm GEMMs run), on the same pairs
 * and on sums that overflow or land next to ±max, where an unordered TwoSum would overflow inside.
 */
import { describe, expect, it } from "vitest";
import { i32, kernel, ref } from "../../src/codegen/ir/build.ts";
import type { Param } from "../../src/codegen/ir/nodes.ts";
import { lowerAccumulatorAdd } from "../../src/codegen/lower/gemm/accumulator.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { accumulatorAdd } from "../../src/dsl/semantics/accumulate.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { generator } from "../codegen/gemm-support.ts";
import { builtin } from "../support/formats.ts";
import { ACC14, ACC22 } from "./support.ts";

const PARAMS: Param[] = [
  { kind: "buffer", name: "r", storage: "f32", access: "write" },
  { kind: "scalar", name: "x", type: "f32" },
  { kind: "scalar", name: "y", type: "f32" },
];

function compiled(format: ResolvedFormat, opaqueF32: boolean, ieee = false): (r: Float32Array, x: number, y: number) => void {
  const k = kernel("acc_add", PARAMS, (b) => b.store("r", i32(0), lowerAccumulatorAdd(b, format, ref("f32", "x"), ref("f32", "y"), opaqueF32, ieee)));
  return loadJs({ kernels: [k] })["acc_add"] as unknown as (r: Float32Array, x: number, y: number) => void;
}

/** Pairs of float32 values (as bits) that exercise alignment, carries, cancellation, zeros and specials. */
function pairs(count: number): [number, number][] {
  const random = generator(19);
  const word = () => Math.floor(random() * 2 ** 32) >>> 0;
  const out: [number, number][] = [[0, 0], [0x80000000, 0x80000000], [0, 0x80000000], [0x7f7fffff, 0x7f7fffff], [0xff7fffff, 0x7f7fffff], [0x00000001, 0x80000002]];
  for (let i = 0; i < count; i++) {
    const x = word();
    let y: number;
    switch (i % 5) {
      case 0: y = word(); break;
      case 1: y = (x ^ 0x80000000) >>> 0; break; // exact cancellation
      case 2: y = (x ^ 0x80000000 ^ (word() & 0x3ff)) >>> 0; break; // near cancellation
      case 3: y = ((word() & 0x807fffff) | ((((x >>> 23) & 0xff) + Math.floor(random() * 60) - 30) & 0xff) << 23) >>> 0; break; // near exponents
      default: y = ((x & 0x807fffff) | (word() & 0x03800000)) >>> 0; // small exponents, subnormals
    }
    out.push([x, y]);
  }
  return out;
}

/** Sums at the top of float32's range: ±max with −1.5 and −0.5 ulp(max) (ties of the sum inside TwoSum's s − x), and sums beyond ±max. */
const MAX_EDGES: [number, number][] = [
  [0x7f7fffff, 0xf3c00000], [0xf3c00000, 0x7f7fffff], [0x7f7fffff, 0xf3000000], [0xff7fffff, 0x73c00000], [0x7f7fffff, 0x73c00000],
  [0x7f7fffff, 0x7f000000], [0xff7fffff, 0xff7ffffe], [0x7f7ffffe, 0x73800000], [0x7f7fffff, 0x80000001],
];
const PAIRS = [...MAX_EDGES, ...pairs(60_000)];
const bitsOf = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];
const valueOf = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0];
const same = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);

describe("an accumulator's sum in integer arithmetic", () => {
  const cases = [
    ["fp32 (opaque, as WGSL runs it)", builtin("fp32"), true, false], ["bf16", builtin("bf16"), false, false], ["fp16", builtin("fp16"), false, false], ["acc14", ACC14, false, false], ["acc22", ACC22, false, false],
    ["bf16, IEEE form", builtin("bf16"), false, true], ["fp16, IEEE form", builtin("fp16"), false, true], ["acc14, IEEE form", ACC14, false, true], ["acc22, IEEE form", ACC22, false, true], ["e5m2, IEEE form", builtin("e5m2"), false, true],
  ] as const;
  for (const [label, format, opaque, ieee] of cases) {
    it(`${label} = the semantics' acc(x + y)`, () => {
      const add = compiled(format, opaque, ieee);
      const r = new Float32Array(1);
      let mismatches = 0;
      let first = "";
      for (const [xb, yb] of PAIRS) {
        const x = valueOf(xb);
        const y = valueOf(yb);
        add(r, x, y);
        const want = accumulatorAdd(format, x, y);
        if (!same(r[0], want)) {
          if (mismatches++ === 0) first = `${x} + ${y}: got ${r[0]} (0x${bitsOf(r[0]).toString(16)}), want ${want}`;
        }
      }
      expect(mismatches, first).toBe(0);
    });
  }

  it("fp32: exact cancellation is +0 and −0 + −0 is −0 (no exponent left over from the cancelled bits)", () => {
    const add = compiled(builtin("fp32"), true);
    const r = new Float32Array(1);
    add(r, 0.13215331733226776, -0.13215331733226776);
    expect(Object.is(r[0], 0)).toBe(true);
    add(r, -0, -0);
    expect(Object.is(r[0], -0)).toBe(true);
  });
});
