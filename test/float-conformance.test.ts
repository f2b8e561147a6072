/**
 * Conformance of float encode/decode with onnxruntime (FP8 E4M3FN/E5M2 and FNUZ, f16, bf16)
 * and @petamoriken/float16 (f16, including double inputs that would double-round through f32).
 */
import { describe, expect, it } from "vitest";
import { decode, encode, isNanCode } from "../src/dsl/semantics/scalar.ts";
import { signBit } from "../src/dsl/semantics/bits.ts";
import type { Overflow, ResolvedFormat } from "../src/dsl/resolved.ts";
import { float32FromBits, float64FromBits, loadReference, numberField, stringField, type ReferenceVector } from "./support/reference.ts";
import { builtin } from "./support/formats.ts";

/** Compares codes; NaN inputs only need a NaN code of the input's sign (payloads are not values). */
function sameCode(format: ResolvedFormat, x: number, got: number, want: number): boolean {
  if (!Number.isNaN(x)) return got === want;
  const signed = format.codes.negativeNan !== format.codes.nan;
  return isNanCode(format, got) && isNanCode(format, want) && (!signed || (got === format.codes.negativeNan) === (signBit(x) === 1));
}

function expectAllMatch(mismatches: string[], total: number): void {
  expect(mismatches.slice(0, 10), `${mismatches.length} of ${total} vectors differ`).toEqual([]);
  expect(total).toBeGreaterThan(0);
}

const fp8Files = [
  { file: "fp8_e4m3fn", format: "e4m3" },
  { file: "fp8_e4m3fnuz", format: "e4m3fnuz" },
  { file: "fp8_e5m2", format: "e5m2" },
  { file: "fp8_e5m2fnuz", format: "e5m2fnuz" },
] as const;

/** Where onnxruntime departs from the OCP spec (reference README): the spec's answer instead. */
function specOverride(formatName: string, x: number, overflow: Overflow, format: ResolvedFormat): number | undefined {
  const a = Math.abs(x);
  const neg = x < 0;
  if (formatName === "e4m3" && overflow === "infinity" && a >= 480 && a < 496) return neg ? format.codes.negativeNan! : format.codes.nan!;
  if (formatName === "e5m2" && overflow === "infinity" && a >= 61440 && a < 65536) return neg ? format.codes.negativeInfinity! : format.codes.positiveInfinity!;
  return undefined;
}

describe("FP8 against onnxruntime Cast", () => {
  for (const { file, format: name } of fp8Files) {
    const format = builtin(name);
    it(`${name}: decode of all 256 codes`, () => {
      const { vectors } = loadReference(`${file}_decode`);
      const mismatches: string[] = [];
      for (const v of vectors) {
        const code = numberField(v, "code");
        const want = float32FromBits(stringField(v, "value_bits"));
        const got = decode(format, code);
        if (!(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)))) mismatches.push(`code ${code}: ${got} vs ${want}`);
      }
      expect(vectors.length).toBe(256);
      expectAllMatch(mismatches, vectors.length);
    });
    for (const [overflow, field] of [["saturate", "code_sat1"], ["infinity", "code_sat0"]] as const) {
      it(`${name}: encode with overflow ${overflow} (onnx ${field})`, () => {
        const { vectors } = loadReference(`${file}_encode`);
        const mismatches: string[] = [];
        let overridden = 0;
        for (const v of vectors) {
          const x = float32FromBits(stringField(v, "x_bits"));
          const override = specOverride(name, x, overflow, format);
          if (override !== undefined) overridden++;
          const want = override ?? numberField(v, field);
          const got = encode(format, x, { overflow });
          if (!sameCode(format, x, got, want)) mismatches.push(`${stringField(v, "x_bits")} (${String(v.kind)}): ${got} vs ${want}`);
        }
        expectAllMatch(mismatches, vectors.length);
        if (name === "e4m3" && overflow === "infinity") expect(overridden).toBeGreaterThan(0);
      });
    }
  }
});

describe("f16 and bf16", () => {
  const f16 = builtin("fp16");
  const bf16 = builtin("bf16");
  it("decode of all 65536 codes matches onnxruntime and @petamoriken/float16", () => {
    const { vectors } = loadReference("f16_bf16_decode");
    const mismatches: string[] = [];
    const same = (got: number, bits: string) => {
      const want = float32FromBits(bits);
      return Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want));
    };
    for (const v of vectors) {
      const code = numberField(v, "code");
      if (!same(decode(f16, code), stringField(v, "f16_value_bits_ort"))) mismatches.push(`f16 ${code} (ort)`);
      if (!same(decode(f16, code), stringField(v, "f16_value_bits_petamoriken"))) mismatches.push(`f16 ${code} (petamoriken)`);
      if (!same(decode(bf16, code), stringField(v, "bf16_value_bits_ort"))) mismatches.push(`bf16 ${code}`);
    }
    expect(vectors.length).toBe(65536);
    expectAllMatch(mismatches, vectors.length);
  });
  it("float32 → f16/bf16 encode matches onnxruntime and @petamoriken/float16", () => {
    const { vectors } = loadReference("f32_to_f16_bf16_encode");
    const mismatches: string[] = [];
    for (const v of vectors) {
      const x = float32FromBits(stringField(v, "x_bits"));
      const check = (format: ResolvedFormat, field: string) => {
        const got = encode(format, x);
        if (!sameCode(format, x, got, numberField(v, field))) mismatches.push(`${field} ${stringField(v, "x_bits")}: ${got} vs ${numberField(v, field)}`);
      };
      check(f16, "f16_ort");
      check(f16, "f16_petamoriken");
      check(bf16, "bf16_ort");
    }
    expectAllMatch(mismatches, vectors.length);
  });
  it("bf16 NaN is exactly onnxruntime's canonical 0x7FC0 / 0xFFC0", () => {
    expect(encode(bf16, float32FromBits("0x7f800001"))).toBe(0x7fc0);
    expect(encode(bf16, float32FromBits("0xffffffff"))).toBe(0xffc0);
  });
  it("double → f16 rounds once, from the exact double (petamoriken)", () => {
    const { vectors } = loadReference("f64_to_f16_encode_petamoriken");
    const mismatches: string[] = [];
    let wouldDoubleRound = 0;
    for (const v of vectors) {
      const x = float64FromBits(stringField(v, "x_bits"));
      const want = numberField(v, "f16_petamoriken");
      if (encode(f16, Math.fround(x)) !== want) wouldDoubleRound++;
      const got = encode(f16, x);
      if (!sameCode(f16, x, got, want)) mismatches.push(`${stringField(v, "x_bits")}: ${got} vs ${want}`);
    }
    expectAllMatch(mismatches, vectors.length);
    // The file holds inputs where rounding through float32 first gives a different answer.
    expect(wouldDoubleRound).toBeGreaterThan(0);
  });
});

describe("int8 against onnxruntime QuantizeLinear", () => {
  it("clamp(roundHalfEven(f32(x / scale)) + zeroPoint), NaN → −128", () => {
    const int8 = builtin("int8");
    const { vectors } = loadReference("quantizelinear_int8");
    const mismatches: string[] = [];
    for (const v of vectors as readonly ReferenceVector[]) {
      const x = float32FromBits(stringField(v, "x_bits"));
      const scale = float32FromBits(stringField(v, "scale_bits"));
      const zeroPoint = numberField(v, "zero_point");
      const code = encode(int8, x, { scale, zeroPoint });
      const got = code >= 128 ? code - 256 : code;
      if (got !== numberField(v, "y")) mismatches.push(`x ${stringField(v, "x_bits")} scale ${scale} zp ${zeroPoint}: ${got} vs ${numberField(v, "y")}`);
    }
    expectAllMatch(mismatches, vectors.length);
  });
});
