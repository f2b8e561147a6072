/**
 * Recipes declare accumulators: per GEMM (gemms.*.accumulator) or for all three (accumulation), a
 * format reference (built-in name or spec path relative to the recipe) with promotion and Kahan;
 * "fp32" is the kernels' own accumulation (nothing declared, fingerprint unchanged). Bad specs are
 * refused with one line naming the file, the JSON pointer and what is allowed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry, RECIPES_DIR } from "../../src/recipes/load.ts";

const recipes = createRecipeRegistry(createRegistry());
const dir = mkdtempSync(join(tmpdir(), "nf-acc-recipes-"));
const ROLES = { weights: "bf16", activations: "bf16", errors: "bf16", weightGradients: "fp32", optimizerState: "fp32" };

function write(name: string, extra: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, summary: "test", roles: ROLES, master: "fp32", ...extra }));
  return file;
}
const load = (file: string) => Effect.runSync(recipes.get(file));
const refusal = (file: string) => Effect.runSync(Effect.flip(recipes.get(file))).toString();

describe("recipes declare GEMM accumulators", () => {
  it("per GEMM, with a spec path relative to the recipe, promotion and Kahan; the others keep the default", () => {
    writeFileSync(join(dir, "acc10.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(RECIPES_DIR, "formats/acc14.json"), "utf8")), $schema: undefined, name: "acc10", element: { kind: "float", exponentBits: 8, mantissaBits: 9, bias: 127, infinity: true, nan: "ieee", negativeZero: true, subnormals: true } }));
    const r = load(write("per-gemm", { gemms: { forward: { accumulator: { format: "acc10.json", promoteEvery: 128 } }, weightGradient: { accumulator: { format: "fp16", compensated: true } } } }));
    expect(r.gemms.forward.accumulator?.format.name).toBe("acc10");
    expect(r.gemms.forward.accumulator?.promoteEvery).toBe(128);
    expect(r.gemms.forward.accumulator?.compensated).toBe(false);
    expect(r.gemms.weightGradient.accumulator).toMatchObject({ promoteEvery: null, compensated: true });
    expect(r.gemms.weightGradient.accumulator?.format.name).toBe("fp16");
    expect(r.gemms.inputGradient.accumulator).toBeUndefined();
  });

  it("accumulation applies to every GEMM, a GEMM's own accumulator wins, and \"fp32\" declares nothing", () => {
    const r = load(write("all", { accumulation: { format: "bf16" }, gemms: { inputGradient: { accumulator: "fp32" } } }));
    expect(r.gemms.forward.accumulator?.format.name).toBe("bf16");
    expect(r.gemms.weightGradient.accumulator?.format.name).toBe("bf16");
    expect(r.gemms.inputGradient.accumulator).toBeUndefined();
    const plain = load(write("plain", {}));
    const explicit = load(write("plain", { accumulation: "fp32" }));
    expect(explicit.fingerprint).toBe(plain.fingerprint);
    expect(load(write("plain", { accumulation: { format: "fp32" } })).fingerprint).not.toBe(plain.fingerprint);
  });

  it("fp8-deepseek accumulates its three GEMMs in acc14, promoted every 128 products", () => {
    const r = load(join(RECIPES_DIR, "fp8-deepseek.json"));
    for (const gemm of ["forward", "inputGradient", "weightGradient"] as const) {
      expect(r.gemms[gemm].accumulator?.format.name, gemm).toBe("acc14");
      expect(r.gemms[gemm].accumulator?.format.element).toMatchObject({ kind: "float", exponentBits: 8, mantissaBits: 13 });
      expect(r.gemms[gemm].accumulator?.promoteEvery, gemm).toBe(128);
    }
  });

  it("refuses formats that cannot hold partial sums, with the file, pointer and what is allowed", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ gemms: { forward: { accumulator: { format: "int8" } } } }, "/gemms/forward/accumulator/format: int8 cannot accumulate: it is an int format; an accumulator is a float format"],
      [{ accumulation: { format: "posit8" } }, "/accumulation/format: posit8 cannot accumulate: it is a posit format"],
      [{ accumulation: { format: "mxfp8" } }, "/accumulation/format: mxfp8 cannot accumulate: it has tensor scaling"],
      [{ accumulation: { format: { format: "bf16", rounding: { mode: "stochastic", bits: 8 } } } }, "cannot accumulate: it rounds stochastically; an accumulator's rounding must be deterministic"],
      [{ accumulation: { format: { format: "fp32", overflow: "saturate" } } }, "cannot accumulate: it keeps 23 mantissa bits; an accumulator other than fp32 keeps at most 21"],
      [{ accumulation: { format: "no-such-format" } }, "/accumulation/format"],
    ];
    for (const [extra, message] of cases) {
      const text = refusal(write("bad", extra));
      expect(text, JSON.stringify(extra)).toContain(message);
      expect(text.startsWith(join(dir, "bad.json"))).toBe(true);
      expect(text.split("\n")).toHaveLength(1);
    }
  });

  it("the schema refuses a promotion that is no positive integer and unknown fields", () => {
    for (const [extra, pointer] of [
      [{ accumulation: { format: "bf16", promoteEvery: 0 } }, "/accumulation"],
      [{ gemms: { forward: { accumulator: { format: "bf16", promoteEvery: 2.5 } } } }, "/gemms/forward/accumulator"],
      [{ gemms: { forward: { accumulator: { format: "bf16", kahan: true } } } }, "/gemms/forward/accumulator"],
      [{ accumulation: "fp16" }, "/accumulation"],
    ] as const) {
      const text = refusal(write("schema", extra));
      expect(text, JSON.stringify(extra)).toContain(pointer);
      expect(text.split("\n")).toHaveLength(1);
    }
  });
});
