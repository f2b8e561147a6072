/**
 * Three targets agree: every kernel of every format (statistics, finalize steps, scaled encode /
 * decode / fakeQuantize) run through the plans on a real WebGPU device — each plan one command
 * buffer, buffers resident between steps — gives the same bits as the JS target and as the wasm
 * target (the JS target is tested against the tensor semantics elsewhere), including the
 * delayed-amax state carried across calls, odd channel lengths whose codes share u32 words, and
 * tensors spanning many workgroups.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../../src/targets/wasm/load.ts";
import { compileWgsl } from "../../../src/targets/wgsl/compile.ts";
import { instantiateWgsl, runPlanWgsl } from "../../../src/targets/wgsl/runner.ts";
import { runPlan, type BufferArray, type PlanKernel } from "../../../src/package-runtime/run-plan.js";
import { useWgslDevice } from "./gpu.ts";
import { PLAN_FORMATS, byRow, tensor, words } from "./plan-support.ts";
import { builtin } from "../../support/formats.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

const device = useWgslDevice();
let assembler: WasmAssembler;
beforeAll(async () => {
  assembler = await createWasmAssembler();
});

const LAYOUTS: readonly (readonly [number, readonly number[]])[] = [
  [0, [1]],
  [1, [1]],
  [7, [1, 7]],
  [33, [1, 3, 11]],
  [257, [1]],
  [1000, [1, 8, 125]],
  [20_007, [1, 3, 19, 1053]],
];

describe("float32 subnormal inputs", () => {
  // bf16's fake-quantize rounds them on the bit pattern (lower/fake-element.ts onBits): a GPU must keep them, not flush them.
  it("bf16 fakeQuantize of every float32 subnormal exponent-field pattern around its ties equals JS", async () => {
    const format = builtin("bf16");
    const { kernels, plans } = lowerFormat(format);
    const js = loadJs({ kernels }) as unknown as Kernels;
    const gpu = await instantiateWgsl(compileWgsl({ kernels }), await device());
    // Exponent field 0: every bf16 subnormal (high half) with low halves at, and an ulp around, its ties.
    const bits: number[] = [];
    for (const sign of [0, 0x80000000]) for (let high = 0; high < 128; high++) for (const low of [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff]) bits.push((sign | (high << 16) | low) >>> 0);
    const x = new Float32Array(Uint32Array.from(bits).buffer);
    const want = words(runPlan(plans.fakeQuantize, js, { x }, {}));
    expect(want["outputs.values"].some((w) => w !== 0 && w !== 0x80000000), "some results are subnormal, not zero").toBe(true);
    expect(words(await runPlanWgsl(plans.fakeQuantize, gpu, { x }, {}))).toEqual(want);
  });
});

describe("large tensors: many workgroups, reductions over thousands of partial maxima", () => {
  for (const name of ["e4m3-amax-tensor-delayed-fp32", "e5m2-amax-channel-sr", "s2fp8", "mxfp4", "shiftquant4"]) {
    it(`${name}, n = 300 007`, async () => {
      const format = PLAN_FORMATS.find((f) => f.name === name);
      if (format === undefined) throw new Error(`no format ${name}`);
      const { kernels, plans } = lowerFormat(format);
      const js = loadJs({ kernels }) as unknown as Kernels;
      const gpu = await instantiateWgsl(compileWgsl({ kernels }), await device());
      const n = 300_007;
      const channels = byRow(format) ? 7 : 1;
      const x = tensor(n - (n % channels), 99);
      const call = { channels, seed: 5 };
      const encJs = runPlan(plans.encode, js, { x }, call);
      expect(words(await runPlanWgsl(plans.encode, gpu, { x }, call))).toEqual(words(encJs));
      expect(words(await runPlanWgsl(plans.fakeQuantize, gpu, { x }, call))).toEqual(words(runPlan(plans.fakeQuantize, js, { x }, call)));
    });
  }
});

describe("every format's plans: WGSL = JS = wasm", () => {
  for (const format of PLAN_FORMATS) {
    it(format.name, async () => {
      const { kernels, plans } = lowerFormat(format);
      const js = loadJs({ kernels }) as unknown as Kernels;
      const wasm = instantiateWasm(compileWasmWith(assembler, { kernels })).kernels as unknown as Kernels;
      const gpu = await instantiateWgsl(compileWgsl({ kernels }), await device());
      for (const [n, channelCounts] of LAYOUTS)
        for (const channels of byRow(format) ? channelCounts : [1]) {
          let stateJs: Record<string, BufferArray> = {};
          let stateGpu: Record<string, BufferArray> = {};
          for (const seed of [1, 2]) {
            const x = tensor(n, 31 * n + 7 * channels + seed);
            const call = { n, channels, seed };
            const label = `n=${n} channels=${channels} seed=${seed}`;
            const encJs = runPlan(plans.encode, js, { x, ...stateJs }, call);
            const encGpu = await runPlanWgsl(plans.encode, gpu, { x, ...stateGpu }, call);
            expect(words(encGpu), `${label} encode (WGSL)`).toEqual(words(encJs));
            expect(words(runPlan(plans.encode, wasm, { x, ...stateJs }, call)), `${label} encode (wasm)`).toEqual(words(encJs));
            stateJs = encJs.state;
            stateGpu = encGpu.state;
            const bindings = { codes: encJs.outputs.codes, ...encJs.meta };
            const decJs = words(runPlan(plans.decode, js, bindings, call));
            expect(words(await runPlanWgsl(plans.decode, gpu, bindings, call)), `${label} decode (WGSL)`).toEqual(decJs);
            expect(words(runPlan(plans.decode, wasm, bindings, call)), `${label} decode (wasm)`).toEqual(decJs);
            const fakeJs = words(runPlan(plans.fakeQuantize, js, { x }, call));
            expect(words(await runPlanWgsl(plans.fakeQuantize, gpu, { x }, call)), `${label} fakeQuantize (WGSL)`).toEqual(fakeJs);
            expect(words(runPlan(plans.fakeQuantize, wasm, { x }, call)), `${label} fakeQuantize (wasm)`).toEqual(fakeJs);
          }
        }
    });
  }
});
