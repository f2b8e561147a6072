/**
 * Every built-in format: its derived facts match the standards, and every code of every
 * ≤ 16-bit format decodes and re-encodes to itself (NaN codes to the canonical NaN).
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { decode, encode } from "../src/dsl/semantics/scalar.ts";
import { BUILTIN_FORMATS_DIR } from "../src/dsl/registry.ts";
import { formatSpecSchema } from "../src/dsl/spec-schema.ts";
import { SCHEMA_FILE, schemaFileText } from "../src/dsl/schema-file.ts";
import { builtin, builtinNames } from "./support/formats.ts";
import { FORMAT_FACTS } from "./format-expectations.ts";

describe("built-in formats", () => {
  it("every file in formats/ has expected facts (guard: a new format needs its test entry)", () => {
    expect([...builtinNames].sort()).toEqual(Object.keys(FORMAT_FACTS).sort());
  });

  it("formats/format.schema.json is exactly the schema in src/dsl/spec-schema.ts (npm run gen:schema)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(schemaFileText(formatSpecSchema));
  });

  for (const name of builtinNames) {
    const facts = FORMAT_FACTS[name];
    describe(name, () => {
      const format = builtin(name);
      it("names the schema and resolves to the standard's facts", () => {
        const raw = JSON.parse(readFileSync(`${BUILTIN_FORMATS_DIR}${name}.json`, "utf8")) as { $schema?: string };
        expect(raw.$schema).toBe("./format.schema.json");
        expect(Object.isFrozen(format) && Object.isFrozen(format.element) && Object.isFrozen(format.codes)).toBe(true);
        expect({
          bits: format.bits,
          maxFinite: format.maxFinite,
          minSubnormal: format.minSubnormal,
          hasNaN: format.hasNaN,
          hasInfinity: format.hasInfinity,
          scaling: format.scaling.kind,
        }).toEqual(facts);
        expect(format.codeCount).toBe(2 ** format.bits);
        expect(format.dynamicRangeBinades).toBeCloseTo(Math.log2(facts.maxFinite / facts.minSubnormal), 12);
        expect(decode(format, format.codes.maxFinite)).toBe(facts.maxFinite);
      });
      if (format.bits <= 16) {
        it(`all ${format.codeCount} codes decode and re-encode to themselves`, () => {
          const bad: string[] = [];
          const values: number[] = [];
          // A symmetric integer format never produces its most negative code.
          const unused = format.element.kind === "int" && format.element.minInt === -format.element.maxInt && format.element.signed ? 2 ** (format.bits - 1) : -1;
          if (unused >= 0) expect(encode(format, Number.NEGATIVE_INFINITY)).not.toBe(unused);
          for (let code = 0; code < format.codeCount; code++) {
            if (code === unused) continue;
            const value = decode(format, code);
            // Saturating formats map ±Inf to ±max by definition: infinity codes round-trip under "infinity".
            const back = encode(format, value, { overflow: Number.isFinite(value) ? format.overflow : "infinity" });
            if (Number.isNaN(value)) {
              const canonical = [format.codes.nan, format.codes.negativeNan];
              if (!canonical.includes(back)) bad.push(`NaN code ${code} re-encodes to ${back}, not a canonical NaN`);
              continue;
            }
            values.push(value);
            if (back !== code) bad.push(`code ${code} = ${value} re-encodes to ${back}`);
          }
          expect(bad.slice(0, 10)).toEqual([]);
          // Distinct codes are distinct values (−0 aside) and the sorted values have no holes.
          const sorted = [...new Set(values.map((v) => (Object.is(v, -0) ? 0 : v)))].sort((a, b) => a - b);
          for (let i = 1; i < sorted.length; i++) expect(sorted[i]).toBeGreaterThan(sorted[i - 1]);
          expect(sorted[sorted.length - 1]).toBe(format.hasInfinity ? Number.POSITIVE_INFINITY : format.maxFinite);
        });
      }
    });
  }
});
