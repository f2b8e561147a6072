/**
 * Every target a generated format's kernels run on, set up once for a whole fuzz run (one wasm
 * assembler, one WebGPU device — Dawn on lavapipe where there is no GPU, as the WGSL tests): the
 * format is lowered once (lowerFormat, what `numforge compile` does) and each op's plan is run
 * through each target's runner — the JS target and wasm (SIMD) through runPlan, WGSL through
 * runPlanWgsl — so any scaling kind runs the same way.
 */
import type { FormatPlans } from "../../src/codegen/plan.ts";
import { lowerFormat } from "../../src/codegen/lower/plans.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { runPlan, type BufferArray, type OpPlan, type PlanKernel, type RunCall, type RunResult } from "../../src/package-runtime/run-plan.js";
import { loadJs } from "../../src/targets/js/load.ts";
import { createWasmAssembler, type WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { compileWgsl } from "../../src/targets/wgsl/compile.ts";
import { openWgslDevice, type WgslDevice } from "../../src/targets/wgsl/device.ts";
import { instantiateWgsl, runPlanWgsl } from "../../src/targets/wgsl/runner.ts";

export type TargetName = "js" | "wasm" | "wgsl";
export const TARGETS: readonly TargetName[] = ["js", "wasm", "wgsl"];

/** Runs one plan of the format on one target. */
export type PlanRunner = (plan: OpPlan, bindings: Readonly<Record<string, BufferArray>>, call: RunCall) => Promise<RunResult>;

/** A format compiled for every target. */
export interface CompiledTargets {
  readonly plans: FormatPlans;
  readonly run: Readonly<Record<TargetName, PlanRunner>>;
}

/** The shared assembler and device of a fuzz run. */
export interface FuzzTargets {
  compile(format: ResolvedFormat): Promise<CompiledTargets>;
  close(): void;
}

type Kernels = Readonly<Record<string, PlanKernel>>;

/** Opens the assembler and the WebGPU device (rejects with the install hint when there is no adapter). */
export async function openFuzzTargets(): Promise<FuzzTargets> {
  const assembler: WasmAssembler = await createWasmAssembler();
  const device: WgslDevice = await openWgslDevice();
  return {
    async compile(format) {
      const { kernels, plans } = lowerFormat(format);
      const js = loadJs({ kernels }) as unknown as Kernels;
      const wasm = instantiateWasm(compileWasmWith(assembler, { kernels })).kernels as unknown as Kernels;
      const gpu = await instantiateWgsl(compileWgsl({ kernels }), device);
      return {
        plans,
        run: {
          js: async (plan, bindings, call) => runPlan(plan, js, bindings, call),
          wasm: async (plan, bindings, call) => runPlan(plan, wasm, bindings, call),
          wgsl: (plan, bindings, call) => runPlanWgsl(plan, gpu, bindings, call),
        },
      };
    },
    close: () => device.close(),
  };
}
