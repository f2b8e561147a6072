/**
 * The WGSL target's IR passes without a GPU: which kernels run across invocations (and why the
 * others run on one), and every kernel of every format lowered as for WGSL — scheduled, packed,
 * folded — simulated invocation by invocation with the IR interpreter through the plans, equal
 * bit for bit to the JS target, with no word of any buffer written by two invocations of one
 * dispatch. Dispatches are capped at 2 workgroups per dimension so the grid-stride rounds run.
 */
import { describe, expect, it } from "vitest";
import { add, bitsOf, div, eq, i32, kernel, load, min, mul, ref, select, sub, type Builder } from "../../../src/codegen/ir/build.ts";
import type { Expr, Kernel, Param } from "../../../src/codegen/ir/nodes.ts";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { lowerForWgsl } from "../../../src/targets/wgsl/compile.ts";
import { runPlan, type BufferArray, type PlanKernel } from "../../../src/package-runtime/run-plan.js";
import type { ResolvedFormat } from "../../../src/dsl/resolved.ts";
import { builtin } from "../../support/formats.ts";
import { PLAN_FORMATS, byRow, tensor, words } from "./plan-support.ts";
import { simulatedKernel } from "./simulate.ts";

type Kernels = Readonly<Record<string, PlanKernel>>;

/** How a kernel launches: "grid" (2d, units, phases), "reduction" or "single". */
function launch(k: Kernel): string {
  const passes = lowerForWgsl(k).passes;
  const l = passes[0].launch;
  if (l.kind === "single") return "single";
  if (l.reduction !== null) return `reduction (${passes.map((p) => (p.launch.kind === "grid" ? p.launch.reduction?.pass : "?")).join(", ")})`;
  return `grid${l.inner === null ? "" : " 2d"}${l.outer.unit > 1 ? ` ×${l.outer.unit}` : ""}${l.outer.phases > 1 ? ` phases ${l.outer.phases}` : ""}`;
}

/** How each kernel of a format launches. */
function launches(format: ResolvedFormat | string): Record<string, string> {
  const { kernels } = lowerFormat(typeof format === "string" ? builtin(format) : format);
  return Object.fromEntries(kernels.map((k) => [k.name, launch(k)]));
}

/**
 * Row segments as scaling/block/lower.ts writes them (segment s: row s / G, tile column s − row·G,
 * elements [row·cols + c0, row·cols + min(c0 + T, cols))), storing u8 codes, with the tile width
 * T and the grid width G given.
 */
function segmentKernel(tileWidth: (b: Builder) => Expr, gridCols: (cols: Expr, t: Expr) => Expr): Kernel {
  const params: Param[] = [
    { kind: "buffer", name: "x", storage: "f32", access: "read" },
    { kind: "buffer", name: "codes", storage: "u8", access: "write" },
    { kind: "scalar", name: "rows", type: "i32" },
    { kind: "scalar", name: "cols", type: "i32" },
    { kind: "scalar", name: "axis", type: "i32" },
  ];
  return kernel("segments", params, (b) => {
    const cols = ref("i32", "cols");
    const t = tileWidth(b);
    const g = b.let("grid_cols", gridCols(cols, t));
    b.for("s", i32(0), mul(ref("i32", "rows"), g), (s, sb) => {
      const row = sb.let("row", div(s, g));
      const c0 = sb.let("c0", mul(sb.let("tile_col", sub(s, mul(row, g))), t));
      const base = sb.let("row_base", mul(row, cols));
      sb.for("i", add(base, c0), add(base, min(add(c0, t), cols)), (i, ib) => ib.store("codes", i, bitsOf(load("f32", "x", i))));
    });
  });
}

describe("WGSL schedule: which loops run across invocations", () => {
  it("element kernels: one invocation per element, or per word of narrow codes", () => {
    expect(launches("e4m3")).toEqual({ encode_elements: "grid ×4", decode_elements: "grid", fake_quantize_elements: "grid" });
    expect(launches("fp16")).toEqual({ encode_elements: "grid ×2", decode_elements: "grid", fake_quantize_elements: "grid" });
    expect(launches("fp32")).toEqual({ encode_elements: "grid", decode_elements: "grid", fake_quantize_elements: "grid" });
  });

  it("block scaling: statistics per tile, finalize per 4 tiles (u8 scale codes), row segments × elements; [B, 1] blocks: bands × tiles, rows × elements (codes that may share a word in 4 phases)", () => {
    const tiles = { block_statistics: "grid", block_finalize: "grid ×4", block_encode: "grid 2d phases 4", block_decode: "grid 2d", block_fake_quantize: "grid 2d" };
    // [B, 1] blocks: each tile's factors once per tile (grid), then rows × elements reading them.
    const columns = {
      block_statistics_columns: "grid 2d", block_encode_factors: "grid", block_encode_columns: "grid 2d phases 4", block_decode_factors: "grid", block_decode_columns: "grid 2d",
      block_fake_quantize_factors: "grid", block_fake_quantize_columns: "grid 2d",
    };
    // [1, B] blocks end to end: B elements from t·B (no phases where B is a multiple of the codes per word)
    const flat = { block_statistics_flat: "reduction (partials, combine)", block_encode_flat: "grid 2d", block_decode_flat: "grid 2d", block_fake_quantize_flat: "grid 2d" };
    // The [B, 1] statistics of a last band shorter than B: one kernel per height 8, 16, … below B, each bands × tiles too.
    const heights = (...h: number[]) => Object.fromEntries(h.map((k) => [`block_statistics_columns_${k}`, "grid 2d"]));
    expect(launches("mxfp8")).toEqual({ ...tiles, ...columns, ...heights(8, 16), ...flat });
    expect(launches("fp8-block128x128")).toEqual({ ...tiles, block_finalize: "grid" }); // fp32 scale codes: one word per tile; 2-D tiles: no [B, 1] kernels
    expect(launches("fp8-block1x128")).toEqual({ ...tiles, block_finalize: "grid", ...columns, ...heights(8, 16, 32, 64), ...flat });
    expect(launches("nvfp4")).toEqual({ block_tensor_amax: "reduction (partials, combine)", block_tensor_scale: "single", ...tiles, ...columns, ...heights(8), ...flat, block_statistics_flat: "grid" }); // e4m3 scale codes, 4-bit codes stored as u8; 16-blocks' amax as a select (one block per wasm lane), one block per invocation
  });

  it("row segments run across invocations only where they provably tile the row: T ≥ 1 and G = ⌈cols / T⌉", () => {
    const ceil = (cols: Expr, t: Expr) => div(sub(add(cols, t), i32(1)), t);
    const perAxis = (b: Builder) => b.let("tile_cols", select(eq(ref("i32", "axis"), i32(0)), i32(1), i32(32)));
    expect(launch(segmentKernel(() => i32(16), ceil))).toBe("grid 2d phases 4");
    expect(launch(segmentKernel(perAxis, ceil))).toBe("grid 2d phases 4");
    // Other grid widths are not the proven form (G = ⌈cols / T⌉: every segment nonempty, in order, so phases separate words).
    expect(launch(segmentKernel(() => i32(16), (cols, t) => div(cols, t)))).toBe("single");
    // A tile width that may be 0 or negative.
    expect(launch(segmentKernel((b) => b.let("tile_cols", select(eq(ref("i32", "axis"), i32(0)), i32(0), i32(32))), ceil))).toBe("single");
    expect(launch(segmentKernel(() => ref("i32", "axis"), ceil))).toBe("single");
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
      // Channels as columns (the runtime's plan, run on the CPU): each column's running maximum is
      // advanced row by row in one invocation; the factors and the elements run across invocations.
      shift_groups_statistics_columns: "single",
      shift_groups_factors: "grid",
      shift_groups_fake_quantize_columns: "grid 2d",
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
