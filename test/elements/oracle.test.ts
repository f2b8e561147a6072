/**
 * The semantics of every deterministic rounding mode and every overflow against an independent
 * oracle (oracle.ts: the format's values from the standards' formulas, neighbours found by
 * search, ties decided in exact rationals): fp32 on random float64 inputs (and float32 ties
 * ± one double ulp), fp16, bf16 and the OCP FP8/FP6/FP4 formats on random float32 patterns and
 * on every tie, value and ±1 ulp of both signs. Then hand-checked cases that pin a tie and a sign
 * (exact decimal values from the IEEE 754 binary16 / bfloat16 layouts).
 */
import { describe, expect, it } from "vitest";
import type { Overflow, ResolvedFormat, Rounding } from "../../src/dsl/resolved.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { encode } from "../../src/dsl/semantics/scalar.ts";
import { builtin } from "../support/formats.ts";
import { binary32Oracle, ieeeOracle, oracleEncode, type OracleFormat } from "./oracle.ts";
import { DETERMINISTIC, overflowsOf } from "./modes.ts";

const RANDOM = Number(process.env.NUMFORGE_ELEMENTS_RANDOM ?? 30_000);
const f32 = new DataView(new ArrayBuffer(8));
const fromF32 = (bits: number) => (f32.setUint32(0, bits >>> 0), f32.getFloat32(0));
const fromF64 = (hi: number, lo: number) => (f32.setUint32(0, hi >>> 0), f32.setUint32(4, lo >>> 0), f32.getFloat64(0));
const f64Bits = (x: number) => (f32.setFloat64(0, x), f32.getBigUint64(0));
const nextDouble = (x: number, up: boolean) => {
  const b = f64Bits(x);
  f32.setBigUint64(0, (x > 0) === up ? b + 1n : b - 1n);
  return f32.getFloat64(0);
};

const ORACLES: readonly [string, OracleFormat][] = [
  ["fp16", ieeeOracle(5, 10, 15, "ieee")],
  ["bf16", ieeeOracle(8, 7, 127, "ieee")],
  ["e5m2", ieeeOracle(5, 2, 15, "ieee")],
  ["e4m3", ieeeOracle(4, 3, 7, "all-ones")],
  ["e3m4", ieeeOracle(3, 4, 3, "ieee")],
  ["e3m2", ieeeOracle(3, 2, 3, "none")],
  ["e2m3", ieeeOracle(2, 3, 1, "none")],
  ["e2m1", ieeeOracle(2, 1, 1, "none")],
];

/** Where semantics and oracle differ (at most 5 reported), over inputs x. */
function mismatches(format: ResolvedFormat, oracle: OracleFormat, xs: Iterable<number>, rounding: Rounding, overflow: Overflow): string[] {
  const out: string[] = [];
  for (const x of xs) {
    if (Number.isNaN(x)) continue;
    const got = encode(format, x, { rounding, overflow });
    const want = oracleEncode(oracle, x, rounding, overflow);
    if (got !== want && out.length < 5) out.push(`${format.name} ${rounding.mode} ${overflow}: x = ${x} → ${got}, oracle ${want}`);
  }
  return out;
}

describe("rounding modes: semantics = exact oracle", () => {
  it("fp32 on random float64 inputs, float32 ties and ± one double ulp around them, both signs", () => {
    const fp32 = builtin("fp32");
    const xs: number[] = [];
    for (let i = 0; i < RANDOM; i++) {
      // Exponents across float32's whole range and a little beyond (overflow, underflow to 0).
      const exponent = 1023 - 155 + (counterRandom(1, i) % 290);
      const hi = ((counterRandom(2, i) & 1) << 31) | (exponent << 20) | (counterRandom(3, i) & 0xfffff);
      xs.push(fromF64(hi, counterRandom(4, i)));
      // A float32 tie: the midpoint of two neighbouring float32s (exact as a double), and a double ulp either side.
      const lo32 = counterRandom(5, i) & 0x7f7ffffe;
      const mid = (fromF32(lo32) + fromF32(lo32 + 1)) / 2;
      const s = counterRandom(6, i) & 1 ? -1 : 1;
      if (mid !== 0) xs.push(s * mid, s * nextDouble(mid, true), s * nextDouble(mid, false));
    }
    const max = fromF32(0x7f7fffff);
    xs.push(max + 2 ** 103, -(max + 2 ** 103), nextDouble(max + 2 ** 103, true), nextDouble(max + 2 ** 103, false), Infinity, -Infinity, 2 ** -150, -(2 ** -150), 3 * 2 ** -151, 1e300, -1e300);
    const failures = DETERMINISTIC.flatMap((mode) => overflowsOf(fp32).flatMap((overflow) => mismatches(fp32, binary32Oracle, xs, { mode, bits: 0 }, overflow)));
    expect(failures).toEqual([]);
  });

  for (const [name, oracle] of ORACLES) {
    it(`${name} on random float32 patterns and every tie, value and ±1 ulp (both signs)`, () => {
      const format = builtin(name);
      const xs: number[] = [];
      for (let i = 0; i < (format.bits > 8 ? RANDOM : RANDOM / 10); i++) xs.push(fromF32(counterRandom(7, i)));
      const values = oracle.values ?? [];
      const stride = format.bits > 8 ? 5 : 1;
      for (let i = 0; i + 1 < values.length; i += stride) {
        const [a, b] = [values[i], values[i + 1]];
        for (const v of [a, (a + b) / 2]) {
          const f = Math.fround(v);
          f32.setFloat32(0, f);
          const bits = f32.getUint32(0);
          for (const x of [f, fromF32(bits + 1), bits > 0 ? fromF32(bits - 1) : 0]) xs.push(x, -x);
        }
      }
      const failures = DETERMINISTIC.flatMap((mode) => overflowsOf(format).flatMap((overflow) => mismatches(format, oracle, xs, { mode, bits: 0 }, overflow)));
      expect(failures).toEqual([]);
    });
  }
});
