/**
 * formats/format.schema.json is standard JSON Schema: it compiles in a strict draft 2020-12
 * validator with no custom keywords, accepts every built-in format, and rejects every spec in
 * test/invalid whose mistake JSON Schema can state (fields, types, ranges and the rules across
 * fields) — the rest need numbers compared with numbers or other files, which only `check` can do.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const schema = JSON.parse(readFileSync(`${ROOT}formats/format.schema.json`, "utf8")) as object;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
const specs = (dir: string) => readdirSync(`${ROOT}${dir}`).filter((f) => f.endsWith(".json") && f !== "format.schema.json").sort();
const json = (path: string): unknown => JSON.parse(readFileSync(`${ROOT}${path}`, "utf8").replace(/^\uFEFF/, ""));

/** Invalid specs whose mistake JSON Schema cannot say, and why: `check` alone rejects them. */
const BEYOND_JSON_SCHEMA: Readonly<Record<string, string>> = {
  "bias-out-of-range.json": "the bias against the exponent and mantissa widths (float32's range)",
  "no-bias-fits.json": "the same, for every bias",
  "step-below-float32.json": "the lowest binade's step against float32's",
  "no-normal-binade.json": "the exponent width against the NaN and infinity encodings",
  "fraction-bits-too-many.json": "fractionBits against bits",
  "posit-es-too-large.json": "es against bits (the range must fit float32)",
  "block-elements-below-float32-normal.json": "the element's smallest value",
  "target-max-log2-too-large.json": "targetMaxLog2 against the element's max",
  "scale-format-not-power-of-two.json": "another format's fields",
  "unknown-scale-format.json": "another file",
  "builtin-name.json": "the names of the built-in formats",
  "duplicate-key.json": "JSON text, not the parsed value",
};

describe("the format schema in a strict draft 2020-12 validator", () => {
  it("compiles without custom keywords and accepts every built-in format", () => {
    const rejected = specs("formats").filter((f) => !validate(json(`formats/${f}`)));
    expect(rejected).toEqual([]);
  });

  it("rejects every invalid spec whose mistake JSON Schema can state; the others are listed with why", () => {
    const parsed = specs("test/invalid").flatMap((f) => {
      try {
        return [{ file: f, spec: json(`test/invalid/${f}`) }];
      } catch {
        return []; // malformed JSON, UTF-16: no value to validate
      }
    });
    const accepted = parsed.filter(({ spec }) => validate(spec)).map(({ file }) => file);
    expect(accepted).toEqual(Object.keys(BEYOND_JSON_SCHEMA).sort());
    expect(parsed.length - accepted.length).toBeGreaterThanOrEqual(25);
  });

  it("states the cross-field rules an editor should flag", () => {
    const base = { name: "x", summary: "x", rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" } };
    const float = (element: object, extra: object = {}) => ({
      ...base,
      element: { kind: "float", exponentBits: 4, mantissaBits: 3, bias: 7, negativeZero: true, subnormals: true, infinity: false, nan: "all-ones", ...element },
      ...extra,
    });
    expect(validate(float({}))).toBe(true);
    for (const [what, spec] of Object.entries({
      "infinity with all-ones NaN": float({ infinity: true }),
      "no NaN and no nanInput": float({ nan: "none" }),
      "nanInput with a NaN": float({}, { nanInput: "zero" }),
      "infinity overflow for an int": { ...base, element: { kind: "int", bits: 8, signed: true, range: "full" }, overflow: "infinity", nanInput: "zero" },
      "stochastic posit": { ...base, element: { kind: "posit", bits: 8, es: 0 }, rounding: { mode: "stochastic", bits: 8 } },
      "S2FP8 over an int": { ...base, element: { kind: "int", bits: 8, signed: true, range: "full" }, nanInput: "zero", scaling: { kind: "shift-squeeze", targetMaxLog2: 3 } },
      "a tensor scale over MX scales": float({}, { scaling: { kind: "block", granularity: { block: 16 }, scale: { format: "e8m0", rounding: "floor" }, tensorScale: { format: "fp32" } } }),
    }))
      expect(validate(spec), what).toBe(false);
  });
});
