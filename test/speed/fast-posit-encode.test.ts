/**
 * Posits of ≤ 16 bits encode lane-wise (posit-element.ts, lowerLaneWisePositEncode); the codes
 * equal the semantics bit for bit: every posit, tie and ulp neighbour, minpos/maxpos bands,
 * float32 specials and 10^5 random bit patterns for each such built-in on JS, wasm and WGSL, and
 * for spec-fuzzed posits (every es the range allows, 3 to 16 bits) on JS and wasm.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { resolveSpec, type WrittenSpec } from "../fuzz/resolve-spec.ts";
import { positElement } from "../fuzz/spec-space.ts";
import { openFuzzTargets, type FuzzTargets } from "../fuzz/targets.ts";
import { builtin, builtinNames } from "../support/formats.ts";
import { builtinMismatches, jsWasmMismatches, inputs } from "./encode-check.ts";

const LANE_WISE_BUILTINS = builtinNames.filter((name) => {
  const f = builtin(name);
  return f.scaling.kind === "none" && f.element.kind === "posit" && f.bits <= 16;
});

let assembler: WasmAssembler;
let targets: FuzzTargets | undefined;
beforeAll(async () => {
  assembler = await createWasmAssembler();
  targets = await openFuzzTargets();
});
afterAll(() => targets?.close());

describe("lane-wise posit encode", () => {
  it("equals the semantics on 10^5 random bit patterns, specials and every edge of each ≤ 16-bit built-in posit, on JS, wasm and WGSL", async () => {
    if (targets === undefined) throw new Error("the targets did not open");
    expect(LANE_WISE_BUILTINS).toEqual(expect.arrayContaining(["posit8", "posit16"]));
    expect(await builtinMismatches(targets, LANE_WISE_BUILTINS, 5000)).toEqual([]);
  }, 120_000);

  it("equals the semantics for spec-fuzzed posits of 3 to 16 bits, every es in range, on JS and wasm", () => {
    const narrow = positElement.filter((el) => el.bits <= 16);
    const elements = fc.sample(narrow, { seed: 20261207, numRuns: 40 });
    // Every width and the widest es each allows, beside the sample.
    for (let bits = 3; bits <= 16; bits++) for (let es = 0; 2 ** es * (bits - 2) <= 126 && es <= 5; es++) if (es === 0 || 2 ** (es + 1) * (bits - 2) > 126) elements.push({ kind: "posit", bits, es });
    const failures: string[] = [];
    let checked = 0;
    for (const [k, element] of elements.entries()) {
      const spec = { name: `posit${k}`, summary: "fuzzed", element, rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" } };
      const r = resolveSpec(spec as unknown as WrittenSpec);
      if (!("format" in r)) continue;
      const x = inputs(r.format, 2048, k, 512);
      for (const [target, m] of jsWasmMismatches(assembler, r.format, x)) failures.push(`${target}: ${m}; element ${JSON.stringify(element)}`);
      checked++;
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  }, 120_000);
});
