/**
 * The WGSL target's IR passes without a GPU: which kernels run across invocations (and why the
 * others run on one), and every kernel of every format lowered as for WGSL — scheduled, packed,
 * folded — simulated invocation by invocation with the IR interpreter through the plans, equal
 * bit for bit to the JS target, with no word of any buffer written by two invocations of one
 * dispatch. Dispatches are capped at 2 workgroups per dimension so the grid-stride rounds run.
 */
import { describe, expect, it } from "vitest";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { lowerForWgsl } from "../../../src/targets/wgsl/compile.ts";
import { runPlan, type BufferArray, type PlanKernel } from "../../../src/package-runtime/run-plan.js";
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { builtin } from "../../support/formats.ts";
import { PLAN_FORMATS, byRow, tensor, words } from "./plan-support.ts";
import { simulatedKernel } from "./simulate.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

/** How each kernel of a format launches: "grid" (2d, units, phases), "reduction" or "single". */
function launches(format: ResolvedFormat | string): Record<string, string> {
  const { kernels } = lowerFormat(typeof format === "string" ? builtin(format) : format);
  return Object.fromEntries(
    kernels.map((k) => {
      const passes = lowerForWgsl(k).passes;
      const l = passes[0].launch;
      if (l.kind === "single") return [k.name, "single"];
      if (l.reduction !== null) return [k.name, `reduction (${passes.map((p) => (p.launch.kind === "grid" ? p.launch.reduction?.pass : "?")).join(", ")})`];
      return [k.name, `grid${l.inner === null ? "" : " 2d"}${l.outer.unit > 1 ? ` ×${l.outer.unit}` : ""}${l.outer.phases > 1 ? ` phases ${l.outer.phases}` : ""}`];
    }),
  );
}

describe("WGSL schedule: which loops run across invocations", () => {
  it("element kernels: one invocation per element, or per word of narrow codes", () => {
    expect(launches("e4m3")).toEqual({ encode_elements: "grid ×4", decode_elements: "grid", fake_quantize_elements: "grid" });
    expect(launches("fp16")).toEqual({ encode_elements: "grid ×2", decode_elements: "grid", fake_quantize_elements: "grid" });
    expect(launches("fp32")).toEqual({ encode_elements: "grid", decode_elements: "grid", fake_quantize_elements: "grid" });
  });

  it("block scaling: statistics per tile, finalize per 4 tiles (u8 scale codes), row segments × elements (codes of segments that may share a word in 4 phases)", () => {
    const tiles = { block_statistics: "grid", block_finalize: "grid ×4", block_encode: "grid 2d phases 4", block_decode: "grid 2d", block_fake_quantize: "grid 2d" };
    expect(launches("mxfp8")).toEqual(tiles);
    expect(launches("fp8-block128x128")).toEqual({ ...tiles, block_finalize: "grid" }); // fp32 scale codes: one word per tile
    expect(launches("nvfp4")).toEqual({ block_tensor_amax: "reduction (partials, combine)", block_tensor_scale: "single", ...tiles }); // e4m3 scale codes, 4-bit codes stored as u8
  });

  it("S2FP8: log2 per element and per-chunk statistics in parallel, the sequential sum over chunks on one invocation", () => {
    expect(launches("s2fp8")).toEqual({
      shift_squeeze_log2: "grid",
      shift_squeeze_statistics: "grid",
      shift_squeeze_finalize: "single",
      shift_squeeze_inverse: "single",
      shift_squeeze_encode: "grid ×4",
      shift_squeeze_code_values: "grid",
      shift_squeeze_decode: "grid",
      shift_squeeze_fake_quantize: "grid",
    });
  });

  it("ShiftQuant: channels × elements; codes of channels that may share a word go in 4 phases", () => {
    expect(launches("shiftquant4")).toEqual({
      shift_groups_statistics: "reduction (partials, combine)",
      shift_groups_finalize: "single",
      shift_groups_encode: "grid 2d phases 4",
      shift_groups_decode: "grid 2d",
      shift_groups_fake_quantize: "grid 2d",
    });
  });

  it("amax: the max over each group in two passes (partials, combine), the history update on one invocation", () => {
    const amax = PLAN_FORMATS.find((f) => f.name === "e4m3-amax-tensor-delayed-fp32");
    expect(amax && launches(amax)).toEqual({
      amax_statistics: "reduction (partials, combine)",
      amax_finalize: "single",
      amax_encode: "grid 2d phases 4",
      amax_decode: "grid 2d",
      amax_fake_quantize: "grid 2d",
    });
  });

  it("every encode, decode and fake-quantize kernel of every format runs across invocations", () => {
    const serial = PLAN_FORMATS.flatMap((f) =>
      lowerFormat(f)
        .kernels.filter((k) => /(encode|decode|fake_quantize)/.test(k.name))
        .flatMap((k) => {
          const l = lowerForWgsl(k).passes[0].launch;
          return l.kind === "single" ? [`${f.name} ${k.name}: ${l.reason}`] : [];
        }),
    );
    expect(serial).toEqual([]);
  });
});

describe("WGSL lowering simulated with the interpreter = JS target, race-free", () => {
  for (const format of PLAN_FORMATS) {
    it(format.name, () => {
      const { kernels, plans } = lowerFormat(format);
      const js = loadJs({ kernels }) as unknown as Kernels;
      const races: string[] = [];
      const sim = Object.fromEntries(kernels.map((k) => [k.name, simulatedKernel(k, races)])) as unknown as Kernels;
      for (const [n, channelCounts] of [[0, [1]], [1, [1]], [6, [1, 6]], [33, [1, 3, 11]], [130, [1, 26]], [300, [1]]] as const)
        for (const channels of byRow(format) ? channelCounts : [1]) {
          let stateJs: Record<string, BufferArray> = {};
          let stateSim: Record<string, BufferArray> = {};
          for (const seed of [1, 2]) {
            const x = tensor(n, 31 * n + 7 * channels + seed);
            const call = { n, channels, seed };
            const label = `n=${n} channels=${channels} seed=${seed}`;
            const encJs = runPlan(plans.encode, js, { x, ...stateJs }, call);
            const encSim = runPlan(plans.encode, sim, { x, ...stateSim }, call);
            expect(words(encSim), `${label} encode`).toEqual(words(encJs));
            stateJs = encJs.state;
            stateSim = encSim.state;
            const bindings = { codes: encJs.outputs.codes, ...encJs.meta };
            expect(words(runPlan(plans.decode, sim, bindings, call)), `${label} decode`).toEqual(words(runPlan(plans.decode, js, bindings, call)));
            expect(words(runPlan(plans.fakeQuantize, sim, { x }, call)), `${label} fakeQuantize`).toEqual(words(runPlan(plans.fakeQuantize, js, { x }, call)));
          }
        }
      expect(races).toEqual([]);
    });
  }
});
