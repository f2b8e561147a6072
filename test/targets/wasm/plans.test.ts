/**
 * Every kernel of every built-in format (statistics reductions, finalize steps, scaled encode /
 * decode / fakeQuantize) rendered to wasm and run through the package runner's plans, against
 * the JS target bit for bit (the JS target is tested against the tensor semantics elsewhere):
 * the wasm kernels are a drop-in replacement under the same calling convention.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { runPlan, type BufferArray, type PlanKernel } from "../../../src/package-runtime/run-plan.js";
import { planTensor as tensor } from "../../support/inputs.ts";
import { byRow, resultWords as words } from "../../support/plans.ts";
import { builtin, e4m3AmaxVariants, builtinNames } from "../../support/formats.ts";

let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

type Kernels = Readonly<Record<string, PlanKernel>>;


const FORMATS: readonly ResolvedFormat[] = [
  ...builtinNames.map(builtin),
  ...e4m3AmaxVariants(),
  { ...builtin("mxfp8"), name: "mxfp8-sr", rounding: { mode: "stochastic", bits: 9 } },
  { ...builtin("shiftquant4"), name: "shiftquant4-sr", rounding: { mode: "stochastic", bits: 9 } },
];

describe("every format's kernels through the plans: wasm = JS", () => {
  for (const format of FORMATS) {
    it(format.name, () => {
      const { kernels, plans } = lowerFormat(format);
      const js = loadJs({ kernels }) as unknown as Kernels;
      const compiled = compileWasmWith(assembler, { kernels });
      expect(compiled.simd).toBe(true);
      const wasm = instantiateWasm(compiled).kernels as unknown as Kernels;
      for (const [n, channelCounts] of [[0, [1]], [1, [1]], [7, [1, 7]], [33, [1, 3, 11]], [257, [1]], [1000, [1, 8, 125]]] as const)
        for (const channels of byRow(format) ? channelCounts : [1]) {
          let stateJs: Record<string, BufferArray> = {};
          let stateWasm: Record<string, BufferArray> = {};
          for (const seed of [1, 2]) {
            const x = tensor(n, 31 * n + 7 * channels + seed);
            const call = { n, channels, seed };
            const label = `n=${n} channels=${channels} seed=${seed}`;
            const encJs = runPlan(plans.encode, js, { x, ...stateJs }, call);
            const encWasm = runPlan(plans.encode, wasm, { x, ...stateWasm }, call);
            expect(words(encWasm), `${label} encode`).toEqual(words(encJs));
            stateJs = encJs.state;
            stateWasm = encWasm.state;
            const bindings = { codes: encJs.outputs.codes, ...encJs.meta };
            expect(words(runPlan(plans.decode, wasm, bindings, call)), `${label} decode`).toEqual(words(runPlan(plans.decode, js, bindings, call)));
            expect(words(runPlan(plans.fakeQuantize, wasm, { x }, call)), `${label} fakeQuantize`).toEqual(words(runPlan(plans.fakeQuantize, js, { x }, call)));
          }
        }
    });
  }
});
