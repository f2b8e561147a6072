/**
 * Every rounding mode × every overflow a format allows × every unscaled float and int built-in
 * (and the table built-ins): the JS, wasm and WGSL kernels (encode, decode, fake-quantize) equal
 * the semantics bit for bit on every code and on random float32 patterns plus each format's ties,
 * bands and specials (the fuzz harness's inputs). Each mode runs under the format's own overflow
 * with RANDOM random patterns, and under the other overflows it allows with a small sample (the
 * overflow bands past ±max and ±Inf, which is where overflow acts, are in every sample).
 * NUMFORGE_ELEMENTS_RANDOM sets RANDOM (CI: 8192; the 10^5: NUMFORGE_ELEMENTS_RANDOM=100000).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Rounding } from "../../src/dsl/resolved.ts";
import { builtin, builtinNames } from "../support/formats.ts";
import { checkFormat } from "../fuzz/check.ts";
import type { WrittenSpec } from "../fuzz/resolve-spec.ts";
import { openFuzzTargets, type FuzzTargets } from "../fuzz/targets.ts";
import { DETERMINISTIC, overflowsOf, variant } from "./modes.ts";

const RANDOM = Number(process.env.NUMFORGE_ELEMENTS_RANDOM ?? 8192);
const SEED = 20261207;

const elementBuiltins = builtinNames.map(builtin).filter((f) => f.scaling.kind === "none" && f.element.kind !== "posit");

let targets: FuzzTargets | undefined;
beforeAll(async () => {
  targets = await openFuzzTargets();
});
afterAll(() => targets?.close());

describe("rounding modes and overflows: kernels = semantics on every target", () => {
  it("covers the float, int and table built-ins", () => {
    expect(new Set(elementBuiltins.map((f) => f.element.kind))).toEqual(new Set(["float", "int", "table"]));
  });
  for (const format of elementBuiltins) {
    it(`${format.name}: every mode × overflow, encode / decode / fake-quantize`, async () => {
      if (targets === undefined) throw new Error("the targets did not open");
      const modes: Rounding[] = DETERMINISTIC.map((mode) => ({ mode, bits: 0 }));
      if (format.element.kind !== "table") modes.push({ mode: "stochastic", bits: 8 });
      const failures: string[] = [];
      for (const rounding of modes)
        for (const overflow of overflowsOf(format)) {
          const v = variant(format, rounding, overflow);
          const asWritten = { name: v.name } as unknown as WrittenSpec;
          const budget = overflow === format.overflow ? { random: RANDOM, pairs: 256, codes: 4096 } : { random: 256, pairs: 16, codes: 256 };
          failures.push(...(await checkFormat(asWritten, v, await targets.compile(v), SEED, budget)));
        }
      expect(failures).toEqual([]);
    }, 300_000);
  }
});
