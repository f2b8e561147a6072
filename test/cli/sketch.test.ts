/** The one-line binade sketch under `numforge check` and `numforge table` (src/cli/render/sketch.ts). */
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { binadeSketch, codesPerBinade } from "../../src/cli/render/sketch.ts";
import { numforgeInProcess } from "./harness.ts";

const registry = createRegistry();
const format = (name: string) => Effect.runSync(registry.get(name));

describe("codes per binade", () => {
  it("fp16 (counted code by code): 2^j codes in the j-th subnormal binade, 1024 in each normal one", () => {
    const c = codesPerBinade(format("fp16"));
    expect(c.binade).toBe(-24);
    expect(c.counts).toEqual([...Array.from({ length: 10 }, (_, j) => 2 ** j), ...new Array(30).fill(1024)]);
  });

  it("fp32 (by binary search over ascending codes): the same shape at 2^23 codes a binade", () => {
    const c = codesPerBinade(format("fp32"));
    expect(c.binade).toBe(-149);
    expect(c.counts).toEqual([...Array.from({ length: 23 }, (_, j) => 2 ** j), ...new Array(254).fill(2 ** 23)]);
  });

  it("posit32es2: every positive code but zero counted once; 27 fraction bits next to 1, one code at minpos and maxpos", () => {
    const c = codesPerBinade(format("posit32es2"));
    expect(c.counts.reduce((a, b) => a + b, 0)).toBe(2 ** 31 - 1);
    expect([c.binade, c.counts.length]).toEqual([-120, 241]); // minpos 2^-120 .. maxpos 2^120
    const at = (b: number) => c.counts[b - c.binade];
    expect([at(-1), at(0), at(-120), at(120)]).toEqual([2 ** 27, 2 ** 27, 1, 1]);
  });

  it("an e4m3 sketch: one column per binade from 2^-9 to 2^8, rising through the subnormals, full over the normals", () => {
    const line = binadeSketch(codesPerBinade(format("e4m3")));
    const [, low, bar, high] = /^2\^(-?\d+) (\S+) 2\^(-?\d+) {2}\(one column per binade/.exec(line)!;
    expect([Number(low), Number(high)]).toEqual([-9, 8]);
    expect([...bar]).toHaveLength(18);
    const heights = [...bar].map((ch) => "▁▂▃▄▅▆▇█".indexOf(ch));
    expect(heights[0]).toBeLessThan(heights[1]);
    expect(heights[1]).toBeLessThan(heights[2]);
    expect(heights.slice(3).every((h) => h === 7)).toBe(true);
  });

  it("more binades than columns share them, and say so", () => {
    expect(binadeSketch(codesPerBinade(format("fp32")))).toMatch(/^2\^-149 \S{56} 2\^127 {2}\(one column per 5 binades/);
  });
});

describe("check and table print the sketch", () => {
  it("check: the last property line, under the facts", async () => {
    const r = await numforgeInProcess(["check", "e4m3"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.at(-2)).toMatch(/^codes per binade\s+2\^-9 \S{18} 2\^8 /);
    expect(lines.at(-1)).toBe("ok: e4m3 is a valid format");
  });

  it("table: the last line, after every code; --json stays the table alone", async () => {
    const r = await numforgeInProcess(["table", "e2m1"]);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe(`codes per binade  ${binadeSketch(codesPerBinade(format("e2m1")))}`);
    const json = await numforgeInProcess(["table", "e2m1", "--json"]);
    expect(JSON.parse(json.stdout)).toHaveLength(16);
  });
});
