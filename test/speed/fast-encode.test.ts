/**
 * The fast element encodes (src/codegen/lower/fast-encode) equal the semantics bit for bit: every
 * code's value, the ties between neighbours and one ulp either side, the overflow and underflow
 * bands (edgeInputs), float32 specials (±0, ±∞, NaNs of both signs, subnormal edges) and random
 * float32 bit patterns — 10^5 for each built-in in its own rounding on JS, wasm and WGSL, and under
 * every rounding mode and overflow policy the format schema lists for built-ins and spec-fuzzed
 * formats on JS and wasm. The modes and policies are read from the schema, so one added there is
 * tested here (and, if the semantics' probes cannot describe it, must leave the fast path).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fastEncodePlan } from "../../src/codegen/lower/fast-encode/index.ts";
import type { Overflow, ResolvedFormat, Rounding } from "../../src/dsl/resolved.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { resolveSpec, type WrittenSpec } from "../fuzz/resolve-spec.ts";
import { floatElement, intElement } from "../fuzz/spec-space.ts";
import { openFuzzTargets, type FuzzTargets } from "../fuzz/targets.ts";
import { builtin, builtinNames } from "../support/formats.ts";
import { builtinMismatches, jsWasmMismatches, inputs, MODES, OVERFLOWS } from "./encode-check.ts";

/** The format under another deterministic rounding and overflow, if resolve's rules allow the pair for it. */
function variant(spec: WrittenSpec, mode: string, overflow: string): ResolvedFormat | null {
  const r = resolveSpec({ ...spec, rounding: mode, overflow } as WrittenSpec);
  return "format" in r ? r.format : null;
}

/** Built-in element formats (no scaling) the fast path is for: floats with subnormals, powers of two (no mantissa, no zero), ints. */
const FAST_BUILTINS = builtinNames.filter((name) => {
  const f = builtin(name);
  const el = f.element;
  const float = el.kind === "float" && ((el.subnormals && el.mantissaBits > 0) || (el.mantissaBits === 0 && !el.zero));
  return f.scaling.kind === "none" && f.bits <= 16 && (el.kind === "int" || float);
});

let assembler: WasmAssembler;
let targets: FuzzTargets | undefined;
beforeAll(async () => {
  assembler = await createWasmAssembler();
  targets = await openFuzzTargets();
});
afterAll(() => targets?.close());

describe("fast element encode", () => {
  it("is what every ≤ 16-bit float with subnormals and every int built-in takes, in every deterministic mode and policy resolve allows", () => {
    expect(FAST_BUILTINS).toEqual(expect.arrayContaining(["e4m3", "e5m2", "fp16", "bf16", "e2m1", "e8m0", "int8", "int4", "uint4-zp8"]));
    expect(builtinNames.some((n) => builtin(n).element.kind === "table")).toBe(true);
    for (const name of FAST_BUILTINS) {
      const format = builtin(name);
      expect(fastEncodePlan(format, format.rounding, format.overflow), name).not.toBeNull();
      for (const mode of MODES)
        for (const overflow of OVERFLOWS) expect(fastEncodePlan(format, { mode, bits: 0 } as Rounding, overflow as Overflow), `${name} ${mode} ${overflow}`).not.toBeNull();
    }
    // Stochastic rounding keeps its own path (its decision is a draw, not a function of the neighbours),
    // and so do tables (codebooks: no grid) and posits (tapered precision).
    expect(fastEncodePlan(builtin("e4m3"), { mode: "stochastic", bits: 8 }, "saturate")).toBeNull();
    for (const name of builtinNames.filter((n) => builtin(n).element.kind === "table" || builtin(n).element.kind === "posit")) {
      const format = builtin(name);
      expect(fastEncodePlan(format, format.rounding, format.overflow), name).toBeNull();
    }
  });

  it("equals the semantics on 10^5 random bit patterns, specials and every edge of each built-in, on JS, wasm and WGSL", async () => {
    if (targets === undefined) throw new Error("the targets did not open");
    expect(await builtinMismatches(targets, FAST_BUILTINS, 1000)).toEqual([]);
  }, 120_000);

  it("equals the semantics under every rounding mode and overflow policy, built-ins, on JS and wasm", () => {
    const failures: string[] = [];
    let checked = 0;
    for (const name of FAST_BUILTINS) {
      const base = builtin(name);
      for (const mode of MODES)
        for (const overflow of OVERFLOWS) {
          const format: ResolvedFormat = { ...base, rounding: { mode, bits: 0 } as Rounding, overflow: overflow as Overflow };
          const x = inputs(format, 4096, checked, 512);
          for (const [target, m] of jsWasmMismatches(assembler, format, x)) failures.push(`${name} ${mode} ${overflow} ${target}: ${m}`);
          checked++;
        }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe(FAST_BUILTINS.length * MODES.length * OVERFLOWS.length);
  }, 120_000);

  it("equals the semantics under every rounding mode and overflow policy for spec-fuzzed float and int elements (ints with and without zero points), on JS and wasm", () => {
    // Fuzzed floats mostly lie outside the fast path (no subnormals, binades beyond float32's): these
    // keep the generator's flags but take subnormals and a bias near the usual 2^(e−1) − 1.
    const nearUsualBias = fc
      .tuple(floatElement.filter((el) => el.subnormals && el.zero !== false && el.exponentBits <= 8), fc.integer({ min: -2, max: 2 }))
      .map(([el, delta]) => ({ ...el, bias: Math.max(0, 2 ** (el.exponentBits - 1) - 1 + delta) }));
    // Powers of two (E8M0's shape): no mantissa, no zero, NaN (if any) at all ones.
    const powersOfTwo = fc
      .tuple(floatElement.filter((el) => el.exponentBits >= 3 && el.exponentBits <= 8), fc.integer({ min: -3, max: 3 }))
      .map(([el, delta]) => {
        const nan = el.nan === "none" ? "none" : "all-ones";
        return { ...el, mantissaBits: 0, zero: false, subnormals: false, negativeZero: false, infinity: false, nan, bias: Math.max(0, 2 ** (el.exponentBits - 1) - 1 + delta) } as typeof el;
      });
    const elements = [
      ...fc.sample(nearUsualBias, { seed: 20261207, numRuns: 12 }),
      ...fc.sample(intElement, { seed: 20261207, numRuns: 12 }),
      ...fc.sample(powersOfTwo, { seed: 20261207, numRuns: 6 }),
    ];
    const failures: string[] = [];
    let fast = 0;
    let zeroPoints = 0;
    let floats = 0;
    let powers = 0;
    for (const [k, written] of elements.entries()) {
      const hasNan = written.kind === "float" && written.nan !== "none";
      const base = { name: `fuzz${k}`, summary: "fuzzed", element: written, rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" } } as WrittenSpec;
      const spec = (hasNan ? base : { ...base, nanInput: (["zero", "max", "min"] as const)[k % 3] }) as WrittenSpec;
      let element = written;
      // Every other int takes a zero point somewhere in its code range (asymmetric quantization).
      const plain = variant(spec, "nearest-even", "saturate");
      if (written.kind === "int" && k % 2 === 1 && plain !== null && plain.element.kind === "int") {
        const { minInt, maxInt } = plain.element;
        element = { ...written, zeroPoint: minInt + Math.floor(((maxInt - minInt) * ((k * 7) % 11)) / 10) } as typeof written;
      }
      for (const mode of MODES)
        for (const overflow of OVERFLOWS) {
          const format = variant({ ...spec, element } as WrittenSpec, mode, overflow);
          if (format === null || fastEncodePlan(format, format.rounding, format.overflow) === null) continue;
          fast++;
          if (format.element.kind === "int" && format.element.zeroPoint !== 0) zeroPoints++;
          if (format.element.kind === "float") floats++;
          if (format.element.kind === "float" && format.element.mantissaBits === 0) powers++;
          const x = inputs(format, 1024, k, 128);
          for (const [target, m] of jsWasmMismatches(assembler, format, x)) failures.push(`${target} ${mode} ${overflow}: ${m}; element ${JSON.stringify(element)}`);
        }
    }
    expect(failures).toEqual([]);
    // The sample reaches the fast path for most of its formats and modes, zero points included (not a vacuous pass).
    // (floats without mantissa bits stay on the general path: half a sample's modes is the floor here).
    expect(fast).toBeGreaterThan((elements.length * MODES.length) / 2);
    expect(zeroPoints).toBeGreaterThan(0);
    expect(floats).toBeGreaterThan(0);
    expect(powers).toBeGreaterThan(MODES.length);
  }, 120_000);
  it("equals the semantics for powers of two of both signs, odd and even biases, with and without NaN, in every mode and policy, on JS and wasm", () => {
    const failures: string[] = [];
    let fast = 0;
    for (const exponentBits of [3, 8])
      for (const signed of [false, true])
        for (const nan of ["none", "all-ones"])
          for (const delta of [-1, 0, 1]) {
            const bias = 2 ** (exponentBits - 1) - 1 + delta;
            const element = { kind: "float", signed, exponentBits, mantissaBits: 0, bias, infinity: false, nan, negativeZero: false, subnormals: false, zero: false };
            const spec = { name: "pow2", summary: "powers of two", element, rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" }, ...(nan === "none" ? { nanInput: "max" } : {}) };
            for (const mode of MODES)
              for (const overflow of OVERFLOWS) {
                const format = variant(spec as unknown as WrittenSpec, mode, overflow);
                if (format === null || format.element.kind !== "float") continue;
                // Every format that resolves takes the path, but those whose smallest power is below 2^−127.
                const kind = fastEncodePlan(format, format.rounding, format.overflow)?.kind;
                if (format.element.minNormalExponent < -127) {
                  expect(kind).toBeUndefined();
                  continue;
                }
                expect(kind, JSON.stringify(element)).toBe("pow2");
                fast++;
                const x = inputs(format, 2048, fast, 256);
                for (const [target, m] of jsWasmMismatches(assembler, format, x)) failures.push(`${target} ${mode} ${overflow}: ${m}; element ${JSON.stringify(element)}`);
              }
          }
    expect(failures).toEqual([]);
    expect(fast).toBeGreaterThan(12 * MODES.length);
  }, 120_000);
  it("equals the semantics for floats on float32's grid with fewer mantissa bits (bf16's shape), both signs, every NaN encoding, mode and policy, on JS and wasm", () => {
    const failures: string[] = [];
    let aligned = 0;
    for (const mantissaBits of [2, 7])
      for (const signed of [false, true])
        for (const nan of ["ieee", "all-ones", "none"]) {
          const element = { kind: "float", signed, exponentBits: 8, mantissaBits, bias: 127, infinity: nan === "ieee", nan, negativeZero: signed, subnormals: true, zero: true };
          const spec = { name: "aligned", summary: "float32's grid, fewer mantissa bits", element, rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" }, ...(nan === "none" ? { nanInput: "zero" } : {}) };
          for (const mode of MODES)
            for (const overflow of OVERFLOWS) {
              const format = variant(spec as unknown as WrittenSpec, mode, overflow);
              if (format === null) continue;
              expect(fastEncodePlan(format, format.rounding, format.overflow)?.kind, `${JSON.stringify(element)} ${mode} ${overflow}`).toBe("aligned");
              aligned++;
              const x = inputs(format, 2048, aligned, 256);
              for (const [target, m] of jsWasmMismatches(assembler, format, x)) failures.push(`${target} ${mode} ${overflow}: ${m}; element ${JSON.stringify(element)}`);
            }
        }
    expect(failures).toEqual([]);
    expect(aligned).toBeGreaterThan(8 * MODES.length);
  }, 120_000);
  it("equals the semantics for unsigned floats with mantissa bits (every negative input one code), every NaN encoding, mode and policy, on JS and wasm", () => {
    const failures: string[] = [];
    let unsigned = 0;
    for (const [exponentBits, mantissaBits] of [[4, 3], [5, 2], [3, 1]])
      for (const nan of ["ieee", "all-ones", "none"]) {
        const element = { kind: "float", signed: false, exponentBits, mantissaBits, bias: 2 ** (exponentBits - 1) - 1, infinity: nan === "ieee", nan, negativeZero: false, subnormals: true, zero: true };
        const spec = { name: "unsigned", summary: "unsigned float", element, rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" }, ...(nan === "none" ? { nanInput: "zero" } : {}) };
        for (const mode of MODES)
          for (const overflow of OVERFLOWS) {
            const format = variant(spec as unknown as WrittenSpec, mode, overflow);
            if (format === null || fastEncodePlan(format, format.rounding, format.overflow)?.kind !== "float") continue;
            unsigned++;
            const x = inputs(format, 2048, unsigned, 256);
            for (const [target, m] of jsWasmMismatches(assembler, format, x)) failures.push(`${target} ${mode} ${overflow}: ${m}; element ${JSON.stringify(element)}`);
          }
      }
    expect(failures).toEqual([]);
    expect(unsigned).toBeGreaterThan(3 * MODES.length);
  }, 120_000);
});
