/**
 * Codebook (`table`) encode of ≤ 16 values counts the thresholds below x with compares only
 * (table-element.ts, lowerChainEncode); it equals the semantics bit for bit: every value, tie and
 * ulp neighbour, float32 specials and 10^5 random bit patterns for nf4 on JS, wasm and WGSL, and
 * every deterministic rounding mode for nf4 and spec-fuzzed codebooks (exact ties, symmetric
 * values, ±0 between ±v, subnormal and huge values, 2 to 16 entries) on JS and wasm — both the
 * count on x itself (thresholds all normal floats, NaN counted by the compares' form) and the count
 * on integer keys, each under every NaN input policy.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { countsOnFloats } from "../../src/codegen/lower/table-element.ts";
import { fromF32Bits } from "../../src/dsl/semantics/bits.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { resolveSpec, type WrittenSpec } from "../fuzz/resolve-spec.ts";
import { openFuzzTargets, type FuzzTargets } from "../fuzz/targets.ts";
import { builtin, builtinNames } from "../support/formats.ts";
import { builtinMismatches, jsWasmMismatches, inputs, MODES } from "./encode-check.ts";

/** Built-in codebooks without scaling whose encode takes the compare chain (≤ 16 values). */
const CHAIN_BUILTINS = builtinNames.filter((name) => {
  const f = builtin(name);
  return f.scaling.kind === "none" && f.element.kind === "table" && f.element.values.length <= 16;
});

/** Values that make ties and sign questions: small halves (exact midpoints), ±v pairs, 0, subnormals, huge and random float32s. */
const tableValue = fc.oneof(
  fc.integer({ min: -16, max: 16 }).map((k) => k / 2),
  fc.integer({ min: 1, max: 0x7f7fffff }).map((b) => fromF32Bits(b)),
  fc.integer({ min: 1, max: 0x7f7fffff }).map((b) => -fromF32Bits(b)),
  fc.constantFrom(0, 2 ** -149, -(2 ** -149), 2 ** -126, -(2 ** -126), 3.4028234663852886e38, -3.4028234663852886e38, 0.07958029955625534),
);
const tableValues = fc
  .uniqueArray(tableValue, { minLength: 1, maxLength: 8, selector: Math.abs })
  .chain((magnitudes) => fc.array(fc.boolean(), { minLength: magnitudes.length, maxLength: magnitudes.length }).map((both) => ({ magnitudes, both })))
  // Each magnitude once or as a ±v pair (ties at 0 between −v and v), sorted and distinct.
  .map(({ magnitudes, both }) => [...new Set(magnitudes.flatMap((v, k) => (both[k] && v !== 0 ? [v, -v] : [v])).map((v) => v + 0))].sort((a, b) => a - b))
  .filter((values) => values.length >= 2 && values.length <= 16);

function tableFormat(values: readonly number[], mode: string, k: number): ResolvedFormat | null {
  const nanInput = values.includes(0) && k % 3 === 0 ? "zero" : k % 2 === 0 ? "max" : "min";
  const spec = { name: `table${k}`, summary: "fuzzed codebook", element: { kind: "table", values }, rounding: mode, overflow: "saturate", nanInput, scaling: { kind: "none" } };
  const r = resolveSpec(spec as unknown as WrittenSpec);
  return "format" in r ? r.format : null;
}

let assembler: WasmAssembler;
let targets: FuzzTargets | undefined;
beforeAll(async () => {
  assembler = await createWasmAssembler();
  targets = await openFuzzTargets();
});
afterAll(() => targets?.close());

describe("codebook encode by compares", () => {
  it("equals the semantics on 10^5 random bit patterns, specials and every edge of each built-in codebook, on JS, wasm and WGSL", async () => {
    if (targets === undefined) throw new Error("the targets did not open");
    expect(CHAIN_BUILTINS).toContain("nf4");
    expect(await builtinMismatches(targets, CHAIN_BUILTINS, 3000)).toEqual([]);
  }, 120_000);

  it("equals the semantics under every deterministic rounding mode, built-ins and fuzzed codebooks, on JS and wasm", () => {
    const failures: string[] = [];
    let checked = 0;
    // Paths exercised: counts on floats / on keys, by NaN input policy.
    const paths = new Set<string>();
    const fuzzed = fc.sample(tableValues, { seed: 20261207, numRuns: 24 });
    const cases: [string, readonly number[] | null][] = [...CHAIN_BUILTINS.map((n) => [n, null] as [string, null]), ...fuzzed.map((v, k) => [`fuzz${k}`, v] as [string, readonly number[]])];
    for (const [k, [name, values]] of cases.entries())
      for (const mode of MODES) {
        const format = values === null ? { ...builtin(name), rounding: { mode, bits: 0 } as ResolvedFormat["rounding"] } : tableFormat(values, mode, k);
        if (format === null) continue;
        paths.add(`${countsOnFloats(format) ? "floats" : "keys"} ${format.nanInput}`);
        const x = inputs(format, 4096, k);
        for (const [target, m] of jsWasmMismatches(assembler, format, x)) failures.push(`${name} ${mode} ${target}: ${m}${values === null ? "" : `; values ${JSON.stringify(values)}`}`);
        checked++;
      }
    expect(failures).toEqual([]);
    // Every fuzzed codebook resolves in every mode (not a vacuous pass).
    expect(checked).toBe(cases.length * MODES.length);
    expect([...paths].sort()).toEqual(expect.arrayContaining(["floats max", "floats min", "floats zero", "keys max", "keys min"]));
    expect(countsOnFloats(builtin("nf4"))).toBe(true);
  }, 120_000);
});
