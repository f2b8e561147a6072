/**
 * The semantics of every deterministic rounding mode and every overflow against an independent
 * oracle (oracle.ts: the format's values from the standards' formulas, neighbours found by
 * search, ties decided in exact rationals): fp32 on random float64 inputs (and float32 ties
 * ± one double ulp), fp16, bf16 and the OCP FP8/FP6/FP4 formats on random float32 patterns and
 * on every tie, value and ±1 ulp of both signs. Integers with zero points against the real line
 * (ONNX QuantizeLinear's order: round, add the zero point, clamp) and tables against a linear scan
 * of their values. Stochastic rounding over every one of its 2^B draws. Then hand-checked codes
 * that pin ties, signs and overflow (binary16, bfloat16).
 */
import { describe, expect, it } from "vitest";
import type { Overflow, ResolvedFormat, ResolvedInt, ResolvedTable, Rounding } from "../../src/dsl/resolved.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { encode } from "../../src/dsl/semantics/scalar.ts";
import { builtin } from "../support/formats.ts";
import { resolveSpec, type WrittenSpec } from "../fuzz/resolve-spec.ts";
import { binary32Oracle, ieeeOracle, intOracleEncode, oracleEncode, tableOracleEncode, type OracleFormat } from "./oracle.ts";
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

describe("integers with zero points and tables: semantics = the real-line / linear-scan oracles", () => {
  const ints = [
    builtin("int8"),
    builtin("int4"),
    builtin("uint4-zp8"),
    resolved("uint8-zp131", { kind: "int", bits: 8, signed: false, range: "full", zeroPoint: 131 }),
    resolved("int8sym-zp-3", { kind: "int", bits: 8, signed: true, range: "symmetric", zeroPoint: -3 }),
    resolved("uint6-zp21-q2", { kind: "int", bits: 6, signed: false, range: "full", zeroPoint: 21, fractionBits: 2 }),
  ];
  for (const format of ints) {
    it(`${format.name}: every deterministic mode on integers, half-integers ± one double ulp, random values, ±Inf`, () => {
      const el = format.element as ResolvedInt;
      const step = 2 ** -el.fractionBits;
      const xs: number[] = [Infinity, -Infinity, 0, -0];
      for (let n = el.minInt - el.zeroPoint - 3; n <= el.maxInt - el.zeroPoint + 3; n++)
        for (const v of [n * step, (n + 0.5) * step]) if (v !== 0) xs.push(v, nextDouble(v, true), nextDouble(v, false));
      for (let i = 0; i < 2000; i++) xs.push(((counterRandom(8, i) / 2 ** 32) * 2 - 1) * 1.5 * step * 2 ** el.bits);
      const failures: string[] = [];
      for (const mode of DETERMINISTIC)
        for (const x of xs) {
          const got = encode(format, x, { rounding: { mode, bits: 0 } });
          const want = intOracleEncode(el, x, mode);
          if (got !== want && failures.length < 5) failures.push(`${format.name} ${mode}: x = ${x} → ${got}, oracle ${want}`);
        }
      expect(failures).toEqual([]);
    });
  }

  const tables = [builtin("nf4"), resolved("table5", { kind: "table", values: [-2, -0.375, 0, 0.5, 3] }), resolved("table4-no-zero", { kind: "table", values: [-1.5, -0.25, 0.25, 1.5] })];
  for (const format of tables) {
    it(`${format.name}: every deterministic mode on every value, midpoint and neighbours, ±0, ±Inf, random values`, () => {
      const values = (format.element as ResolvedTable).values;
      const xs: number[] = [Infinity, -Infinity, 0, -0];
      for (let i = 0; i < values.length; i++) {
        const mid = i + 1 < values.length ? (values[i] + values[i + 1]) / 2 : values[i] * 2;
        for (const v of [values[i], mid]) if (v !== 0) xs.push(v, nextDouble(v, true), nextDouble(v, false), Math.fround(v));
      }
      for (let i = 0; i < 4000; i++) xs.push(((counterRandom(9, i) / 2 ** 32) * 2 - 1) * 2 * Math.abs(values[values.length - 1]));
      const failures: string[] = [];
      for (const mode of DETERMINISTIC)
        for (const x of xs) {
          const got = encode(format, x, { rounding: { mode, bits: 0 } });
          const want = tableOracleEncode(values, x, mode);
          if (got !== want && failures.length < 5) failures.push(`${format.name} ${mode}: x = ${x} → ${got}, oracle ${want}`);
        }
      expect(failures).toEqual([]);
    });
  }
});

describe("hand-checked codes (IEEE 754 binary16 and bfloat16 layouts)", () => {
  const fp16 = builtin("fp16");
  const bf16 = builtin("bf16");
  const code = (format: ResolvedFormat, x: number, mode: Rounding["mode"], overflow: Overflow = "infinity") => encode(format, x, { rounding: { mode, bits: 0 }, overflow });
  it("a tie 1 + 2^−11 between fp16 1 (0x3c00) and 1 + 2^−10 (0x3c01), both signs", () => {
    const x = 1 + 2 ** -11;
    expect(DETERMINISTIC.map((m) => code(fp16, x, m))).toEqual([0x3c00, 0x3c01, 0x3c00, 0x3c01, 0x3c00, 0x3c01]);
    expect(DETERMINISTIC.map((m) => code(fp16, -x, m))).toEqual([0xbc00, 0xbc01, 0xbc00, 0xbc00, 0xbc01, 0xbc01]);
  });
  it("round to odd keeps the sticky information: 1 + 2^−10 + 2^−12 → 0x3c01, 1 + 2^−12 → 0x3c01, 1 + 5·2^−11 → 0x3c03", () => {
    expect(code(fp16, 1 + 2 ** -10 + 2 ** -12, "odd")).toBe(0x3c01);
    expect(code(fp16, 1 + 2 ** -12, "odd")).toBe(0x3c01);
    expect(code(fp16, 1 + 5 * 2 ** -11, "odd")).toBe(0x3c03);
  });
  it("bf16 ties 1 + 2^−8 and 1 + 3·2^−8 go to the even codes 0x3f80 and 0x3f82", () => {
    expect(code(bf16, 1 + 2 ** -8, "nearest-even")).toBe(0x3f80);
    expect(code(bf16, 1 + 3 * 2 ** -8, "nearest-even")).toBe(0x3f82);
  });
  it("fp16 overflow: 65520 (the tie past max 65504) and 70000 under each mode and overflow", () => {
    // Nearest and the directed mode pointing away give Inf (IEEE 754 7.4); toward zero, pointing back, and odd give max.
    expect(DETERMINISTIC.map((m) => code(fp16, 70000, m))).toEqual([0x7c00, 0x7c00, 0x7bff, 0x7c00, 0x7bff, 0x7bff]);
    expect(DETERMINISTIC.map((m) => code(fp16, -70000, m))).toEqual([0xfc00, 0xfc00, 0xfbff, 0xfbff, 0xfc00, 0xfbff]);
    expect(code(fp16, 65520, "nearest-even")).toBe(0x7c00);
    expect(code(fp16, 65519.99, "nearest-even")).toBe(0x7bff);
    // saturate-propagate: finite overflow saturates, ±Inf stays ±Inf; saturate maps ±Inf to ±max too.
    expect([code(fp16, 65520, "nearest-even", "saturate-propagate"), code(fp16, Infinity, "nearest-even", "saturate-propagate"), code(fp16, -Infinity, "toward-zero", "saturate-propagate")]).toEqual([0x7bff, 0x7c00, 0xfc00]);
    expect([code(fp16, Infinity, "nearest-even", "saturate"), code(fp16, -Infinity, "nearest-even", "saturate")]).toEqual([0x7bff, 0xfbff]);
  });
});

function resolved(name: string, element: WrittenSpec["element"]): ResolvedFormat {
  const resolution = resolveSpec({ name, summary: name, element, rounding: "nearest-even", overflow: "saturate", nanInput: "min", scaling: { kind: "none" } } as WrittenSpec);
  if (!("format" in resolution)) throw new Error(`${name}: ${resolution.reason}`);
  return resolution.format;
}

describe("stochastic rounding: exactly t of the 2^B draws round up, t = ⌊frac·2^B⌋ (P(up) = t/2^B)", () => {
  // frac = (|x| − lo)/(hi − lo) between the oracle's neighbours (exact: a power-of-two step); every draw r = 0..2^B − 1 is tried.
  for (const [name, oracle, bits] of [["e4m3", ORACLES[3][1], 3], ["fp16", ORACLES[0][1], 8], ["bf16", ORACLES[1][1], 5], ["e2m1", ORACLES[7][1], 4]] as const) {
    it(`${name}, ${bits} random bits, both signs`, () => {
      const format = builtin(name);
      const rounding: Rounding = { mode: "stochastic", bits };
      const failures: string[] = [];
      for (let i = 0; i < 300; i++) {
        const x = (counterRandom(12, i) & 1 ? -1 : 1) * (counterRandom(13, i) / 2 ** 32) * oracle.max;
        const a = Math.abs(x);
        const { lo, loCode, hi, hiCode } = oracle.neighbours(a);
        if (lo === hi) continue;
        const t = Math.floor(((a - lo) / (hi - lo)) * 2 ** bits);
        const sign = x < 0 ? oracle.signBit : 0;
        let up = 0;
        for (let r = 0; r < 2 ** bits; r++) {
          const code = encode(format, x, { rounding, overflow: "saturate", random: (r * 2 ** (32 - bits)) >>> 0 });
          if (code === hiCode + sign) up++;
          else if (code !== loCode + sign && failures.length < 5) failures.push(`x = ${x}, r = ${r}: code ${code} is neither neighbour (${loCode}, ${hiCode})`);
        }
        if (up !== t && failures.length < 5) failures.push(`x = ${x}: ${up} of ${2 ** bits} draws round up, want ${t}`);
      }
      expect(failures).toEqual([]);
    });
  }
});
