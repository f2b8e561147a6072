/**
 * The resident plan runner (wasm-runtime.js residentPlanRunner) against runPlan over the copying
 * kernels of the same instance, bit for bit, for every built-in format's encode, decode and
 * fakeQuantize: odd lengths, channel counts, delayed-scaling state carried between calls, NaN,
 * ±∞ and zeros; outputs written into the caller's arrays, also into the input itself; the same
 * errors; and the heap left as it was found, after a failed call too. The free heap is filled with
 * garbage before each resident call: the runner does not clear outputs, which the kernels must
 * write in full. runPlan's own in-place
 * output on the JS target is held to the same results.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { residentPlanRunner } from "../../../src/package-runtime/wasm-runtime.js";
import { runPlan, type BufferArray, type PlanKernel, type RunResult } from "../../../src/package-runtime/run-plan.js";
import { loadJs } from "../../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { planTensor } from "../../support/inputs.ts";
import { byRow, resultWords } from "../../support/plans.ts";
import { builtin, builtinNames, e4m3AmaxVariants } from "../../support/formats.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const FORMATS: readonly ResolvedFormat[] = [
  ...builtinNames.map(builtin),
  ...e4m3AmaxVariants(),
  { ...builtin("e5m2"), name: "e5m2-sr", rounding: { mode: "stochastic", bits: 12 } },
  { ...builtin("shiftquant4"), name: "shiftquant4-sr", rounding: { mode: "stochastic", bits: 9 } },
];

/** The plan tests' tensor with 5% specials (short tensors here still get some). */
const tensor = (n: number, seed: number): Float32Array => planTensor(n, seed, 0.05);

/** Every word of a result, NaN payloads included: both runners run the same instance. */
const words = (result: RunResult) => resultWords(result, false);

describe("resident plans = runPlan over the copying kernels", () => {
  for (const format of FORMATS) {
    it(format.name, () => {
      const { kernels, plans } = lowerFormat(format);
      const compiled = compileWasmWith(assembler, { kernels });
      const instance = instantiateWasm(compiled);
      const copying = instance.kernels as unknown as Kernels;
      const resident = residentPlanRunner(compiled.kernels, instance.raw, instance.heap);
      const base = instance.heap.mark();
      const memory = instance.heap.memory;
      const dirty = () => new Uint8Array(memory.buffer, instance.heap.mark()).fill(0xa5);
      for (const [n, channelCounts] of [[0, [1]], [1, [1]], [7, [1, 7]], [33, [1, 3, 11]], [257, [1]], [1001, [1, 7, 143]]] as const)
        for (const channels of byRow(format) ? channelCounts : [1]) {
          let stateCopying: Record<string, BufferArray> = {};
          let stateResident: Record<string, BufferArray> = {};
          for (const seed of [1, 2, 3]) {
            const x = tensor(n, 97 * n + 5 * channels + seed);
            const call = { n, channels, seed };
            const label = `n=${n} channels=${channels} seed=${seed}`;
            const encoded = runPlan(plans.encode, copying, { x, ...stateCopying }, call);
            dirty();
            const encodedResident = resident(plans.encode, { x, ...stateResident }, call);
            expect(words(encodedResident), `${label} encode`).toEqual(words(encoded));
            stateCopying = encoded.state;
            stateResident = encodedResident.state;

            const decodeBindings = { codes: encoded.outputs.codes, ...encoded.meta };
            dirty();
            expect(words(resident(plans.decode, decodeBindings, call)), `${label} decode`).toEqual(words(runPlan(plans.decode, copying, decodeBindings, call)));

            const fake = runPlan(plans.fakeQuantize, copying, { x }, call);
            dirty();
            expect(words(resident(plans.fakeQuantize, { x }, call)), `${label} fakeQuantize`).toEqual(words(fake));
            // Into the input itself: x ends up holding the values, and the result hands x back.
            const inPlace = x.slice();
            dirty();
            const result = resident(plans.fakeQuantize, { x: inPlace, values: inPlace }, call);
            expect(result.outputs.values).toBe(inPlace);
            expect(words(result), `${label} fakeQuantize in place`).toEqual(words(fake));
          }
        }
      expect(instance.heap.mark(), "the heap is released after every call").toBe(base);
    });
  }
});

describe("bindings and errors", () => {
  it("a given output of another array is overwritten, the input untouched; the same refusals as runPlan, with the heap released", () => {
    const format = builtin("e4m3");
    const { kernels, plans } = lowerFormat(format);
    const compiled = compileWasmWith(assembler, { kernels });
    const instance = instantiateWasm(compiled);
    const resident = residentPlanRunner(compiled.kernels, instance.raw, instance.heap);
    const x = tensor(37, 9);
    const before = x.slice();
    const out = new Float32Array(37).fill(123);
    const result = resident(plans.fakeQuantize, { x, values: out });
    expect(result.outputs.values).toBe(out);
    expect(words(result)).toEqual(words(runPlan(plans.fakeQuantize, instance.kernels as unknown as Kernels, { x })));
    expect(Array.from(x)).toEqual(Array.from(before));

    const mark = instance.heap.mark();
    const refusals: [string, Record<string, BufferArray>, object][] = [
      ["missing input", {}, {}],
      ["mistyped input", { x: new Int32Array(4) }, {}],
      ["short output", { x, values: new Float32Array(3) }, {}],
      ["channels that do not divide n", { x }, { channels: 5 }],
    ];
    for (const [label, bindings, call] of refusals) {
      const message = (run: () => unknown) => {
        try {
          run();
        } catch (e) {
          return String(e);
        }
        return "no error";
      };
      const want = message(() => runPlan(plans.fakeQuantize, instance.kernels as unknown as Kernels, bindings, call));
      expect(want, label).toMatch(/runPlan: /);
      expect(message(() => resident(plans.fakeQuantize, bindings, call)), label).toBe(want);
      expect(instance.heap.mark(), label).toBe(mark);
    }
  });

  it("runPlan on the JS target writes a given output in place, also over its own input, as a fresh one would be", () => {
    for (const name of ["e4m3", "s2fp8", "mxfp4", "int8"]) {
      const { kernels, plans } = lowerFormat(builtin(name));
      const js = loadJs({ kernels }) as unknown as Kernels;
      const x = tensor(515, 3);
      const fresh = runPlan(plans.fakeQuantize, js, { x });
      const inPlace = x.slice();
      const result = runPlan(plans.fakeQuantize, js, { x: inPlace, values: inPlace });
      expect(result.outputs.values, name).toBe(inPlace);
      expect(words(result), name).toEqual(words(fresh));
      // An output overlapping the input without being it is written after the steps as well.
      const shared = new Float32Array(x.length + 8);
      shared.set(x, 0);
      const view = shared.subarray(0, x.length);
      const shifted = shared.subarray(8);
      expect(Array.from(runPlan(plans.fakeQuantize, js, { x: view, values: shifted }).outputs.values), name).toEqual(Array.from(fresh.outputs.values));
    }
  });
});
