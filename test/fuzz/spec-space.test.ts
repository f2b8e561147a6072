/**
 * Kernels equal the semantics for every spec that validates (issue 15): a fixed, seeded sample of
 * generated specs over the whole element space and every scaling kind (spec-space.ts) — each validated and resolved as a
 * spec file is, compiled for JS, wasm and WGSL (on a real WebGPU device: lavapipe without a GPU),
 * and its encode, decode and fake-quantize plans compared with the semantics on every element of
 * random float32 bit patterns, specials, the format's ties and bands, and every code of a
 * ≤ 16-bit format. CI runs SAMPLE specs; `npm run fuzz` (NUMFORGE_FUZZ=large) runs LARGE_SAMPLE
 * with more inputs each, NUMFORGE_FUZZ_SEED / NUMFORGE_FUZZ_SPECS another seed or size. Specs the
 * schema or resolve reject are counted, and must stay few.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { acceptsStochastic, builtin, builtinNames } from "../support/formats.ts";
import { checkFormat } from "./check.ts";
import type { InputBudget } from "./inputs.ts";
import { resolveSpec, type WrittenSpec } from "./resolve-spec.ts";
import { formatSpec } from "./spec-space.ts";
import { openFuzzTargets, type FuzzTargets } from "./targets.ts";

const LARGE = process.env.NUMFORGE_FUZZ === "large";
/** The sample's seed and size; NUMFORGE_FUZZ_SEED and NUMFORGE_FUZZ_SPECS explore others (CI keeps these). */
const SEED = Number(process.env.NUMFORGE_FUZZ_SEED ?? 20261207);
const SAMPLE = 240;
const LARGE_SAMPLE = 2000;
const SPECS = Number(process.env.NUMFORGE_FUZZ_SPECS ?? (LARGE ? LARGE_SAMPLE : SAMPLE));
const BUDGET: InputBudget = LARGE ? { random: 16_384, pairs: 2048, codes: 16_384 } : { random: 1024, pairs: 160, codes: 1024 };
/** Specs per test case: small enough that a failing case names few specs, large enough that the run is not all bookkeeping. */
const CHUNK = 30;

if (!Number.isInteger(SEED) || !Number.isInteger(SPECS) || SPECS < 1) throw new Error("NUMFORGE_FUZZ_SEED and NUMFORGE_FUZZ_SPECS must be integers (the seed, and a positive number of specs)");
const specs: readonly WrittenSpec[] = fc.sample(formatSpec, { seed: SEED, numRuns: SPECS });
const resolutions = specs.map(resolveSpec);
const valid = resolutions.flatMap((r, i) => ("format" in r ? [{ index: i, spec: specs[i], format: r.format }] : []));

let targets: FuzzTargets | undefined;
beforeAll(async () => {
  targets = await openFuzzTargets();
});
afterAll(() => targets?.close());

describe("the generated specs", () => {
  it("pass the schema, and resolve accepts at least 80% of them (the rest name their reason)", () => {
    const schemaRejects = resolutions.flatMap((r) => ("stage" in r && r.stage === "schema" ? [r.reason] : []));
    expect(schemaRejects).toEqual([]);
    const rejected = resolutions.filter((r) => "stage" in r);
    expect(rejected.length / specs.length).toBeLessThan(0.2);
    for (const r of rejected) if ("reason" in r) expect(r.reason).toMatch(/^\/(element|rounding|overflow|nanInput|scaling)(\/\w+)*: \S/);
  });

  it("cover every element kind and flag, rounding and overflow", () => {
    const seen = new Set<string>();
    const note = (format: ResolvedFormat) => {
      const el = format.element;
      seen.add(`${el.kind}`).add(`rounding ${format.rounding.mode}`).add(`overflow ${format.overflow}`).add(`nanInput ${format.nanInput}`);
      if (el.kind === "float")
        for (const flag of ["signed", "infinity", "negativeZero", "subnormals", "zero"] as const) seen.add(`float ${flag} ${el[flag]}`).add(`float nan ${el.nan}`).add(`float wide ${el.bits > 16}`);
      if (el.kind === "int") seen.add(`int signed ${el.signed}`).add(`int symmetric ${el.minInt === -el.maxInt}`).add(`int fraction ${el.fractionBits > 0}`);
      if (el.kind === "posit") seen.add(`posit wide ${el.bits > 16}`);
      seen.add(`scaling ${format.scaling.kind}`);
      if (format.scaling.kind === "block") seen.add(`block ${format.scaling.scaleRounding}`).add(`block level ${format.scaling.tensorScale !== null}`).add(`block ${"tile" in format.scaling.granularity ? "tile" : "1-D"}`);
    };
    for (const { format } of valid) note(format);
    const wanted = [
      "float", "posit", "int", "rounding nearest-even", "rounding nearest-away", "rounding toward-zero", "rounding stochastic", "overflow saturate", "overflow infinity",
      "nanInput zero", "nanInput max", "nanInput min", "nanInput null", "float nan ieee", "float nan all-ones", "float nan negative-zero", "float nan none",
      ...["signed", "infinity", "negativeZero", "subnormals", "zero"].flatMap((f) => [`float ${f} true`, `float ${f} false`]),
      "float wide true", "float wide false",
      "int signed true", "int signed false", "int symmetric true", "int symmetric false", "int fraction true", "int fraction false", "posit wide true", "posit wide false",
      ...["none", "amax", "block", "shift-squeeze", "shift-groups"].map((k) => `scaling ${k}`),
      ...["floor", "ceil", "even", "nearest-even", "ceil-power-of-two"].map((r) => `block ${r}`),
      "block level true", "block level false", "block tile", "block 1-D",
    ];
    expect(wanted.filter((w) => !seen.has(w))).toEqual([]);
  });
});

describe("the harness on scaled formats", () => {
  it("holds the scaled built-ins, and the 1-D block ones rounded stochastically, to the tensor semantics on every target (the path a scaling kind added to SCALINGS takes)", async () => {
    if (targets === undefined) throw new Error("the targets did not open");
    const builtins = builtinNames.map(builtin).filter((format) => format.scaling.kind !== "none");
    expect(new Set(builtins.map((format) => format.scaling.kind)).size).toBeGreaterThanOrEqual(3);
    // Stochastically rounded 1-D blocks, as recipes round errors: their fakeQuantizeColumns keys each draw by the lane-major index.
    const stochasticBlocks = builtins
      .filter((format) => format.scaling.kind === "block" && "block" in format.scaling.granularity && acceptsStochastic(format))
      .map((format): ResolvedFormat => ({ ...format, name: `${format.name}-sr`, rounding: { mode: "stochastic", bits: 16 } }));
    expect(stochasticBlocks.map((format) => format.name)).toEqual(expect.arrayContaining(["mxfp8-sr", "nvfp4-sr"]));
    const failures: string[] = [];
    for (const format of [...builtins, ...stochasticBlocks]) {
      const asWritten = { name: format.name } as unknown as WrittenSpec; // only named in messages
      failures.push(...(await checkFormat(asWritten, format, await targets.compile(format), SEED, { random: 512, pairs: 32, codes: 256 })));
    }
    expect(failures).toEqual([]);
  });
});

describe(`JS, wasm and WGSL kernels equal the semantics on ${LARGE ? "the large" : "the CI"} sample`, () => {
  for (let start = 0; start < valid.length; start += CHUNK) {
    const chunk = valid.slice(start, start + CHUNK);
    it(`specs ${chunk[0].index}–${chunk[chunk.length - 1].index} of ${specs.length}: encode, decode and fake-quantize on every element`, async () => {
      if (targets === undefined) throw new Error("the targets did not open");
      const failures: string[] = [];
      for (const { index, spec, format } of chunk) {
        const compiled = await targets.compile(format);
        failures.push(...(await checkFormat(spec, format, compiled, (SEED + index) >>> 0, BUDGET)).map((f) => `spec #${index}: ${f}`));
      }
      expect(failures).toEqual([]);
    }, LARGE ? 1_800_000 : 300_000);
  }
});
