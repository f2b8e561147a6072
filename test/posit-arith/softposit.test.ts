/**
 * Posit arithmetic against SoftPosit: every vector of the add and mul fixtures (a random quarter
 * of all pairs for posit⟨8,0⟩ and ⟨8,2⟩, a quarter of 20,000 chosen pairs for ⟨16,1⟩ and ⟨16,2⟩)
 * must match dsl/semantics/posit-arith bit for bit.
 */
import { describe, expect, it } from "vitest";
import { positOp, type PositShape } from "../../src/dsl/semantics/posit-arith.ts";
import { loadReference, numberField } from "../support/reference.ts";

const CASES: readonly { file: string; shape: PositShape; op: "add" | "mul" }[] = [
  { file: "posit8_es0", shape: { n: 8, es: 0 }, op: "add" },
  { file: "posit8_es0", shape: { n: 8, es: 0 }, op: "mul" },
  { file: "posit8_es2", shape: { n: 8, es: 2 }, op: "add" },
  { file: "posit8_es2", shape: { n: 8, es: 2 }, op: "mul" },
  { file: "posit16_es1", shape: { n: 16, es: 1 }, op: "add" },
  { file: "posit16_es1", shape: { n: 16, es: 1 }, op: "mul" },
  { file: "posit16_es2", shape: { n: 16, es: 2 }, op: "add" },
  { file: "posit16_es2", shape: { n: 16, es: 2 }, op: "mul" },
];

describe("posit add and mul match SoftPosit", () => {
  for (const { file, shape, op } of CASES) {
    it(`${file} ${op}`, () => {
      const ref = loadReference(`${file}_${op}`);
      expect(ref.format).toMatchObject({ nbits: shape.n, es: shape.es });
      const mismatches: string[] = [];
      for (const v of ref.vectors) {
        const a = numberField(v, "a");
        const b = numberField(v, "b");
        const r = numberField(v, "r");
        const got = positOp(shape, op, [a, b]);
        if (got !== r) mismatches.push(`${op}(${a}, ${b}) = ${got}, SoftPosit ${r}`);
      }
      expect(ref.vectors.length).toBeGreaterThan(4000);
      expect(mismatches.length, mismatches.slice(0, 8).join("\n")).toBe(0);
    });
  }
});
