/**
 * The launch rules a package ships (wgsl/kernels.js as data, wgsl/launch.js as bounds rendered
 * by the JS target) launch exactly what numforge's own launch.ts computes with the IR interpreter.
 * Both hand their bounds to the one geometry (wgsl-launch.js), so equal dispatches, workgroup
 * shapes, launch scalars and scratch lengths say that the shipped data and rendered bounds equal
 * the IR's, for every kernel of every scaling kind over empty, tiny, odd, per-channel and large
 * tensors — also when the workgroups per dimension are capped, so the kernels stride. The GEMM's
 * tiles are checked against their rule. No GPU needed.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as Effect from "effect/Effect";
import { lowerFormat } from "../../src/codegen/lower/plans.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { packageFiles } from "../../src/package/package-files.ts";
import { writePackage } from "../../src/package/write-package.ts";
import type { ShippedKernel } from "../../src/package-runtime/wgsl-runtime.js";
import { compileWgsl } from "../../src/targets/wgsl/compile.ts";
import { wgslTarget } from "../../src/targets/wgsl/index.ts";
import { dispatches, scratchLength } from "../../src/targets/wgsl/launch.ts";
import { builtin, e4m3AmaxVariants } from "../support/formats.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-wgsl-launch-"));

const FORMATS: readonly ResolvedFormat[] = [
  builtin("e4m3"),
  builtin("posit16"),
  builtin("s2fp8"),
  builtin("mxfp4"),
  builtin("shiftquant4"),
  ...e4m3AmaxVariants().filter((f) => f.name.includes("channel-delayed")),
];

/** (n, channel counts) as the plans test uses them: empty, one, odd, channels sharing words, many workgroups. */
const LAYOUTS: readonly (readonly [number, readonly number[]])[] = [
  [0, [1]],
  [1, [1]],
  [7, [1, 7]],
  [33, [1, 3, 11]],
  [1000, [1, 8, 125]],
  [20_007, [1, 3, 19, 1053]],
  [300_000, [1, 8]],
];

// biome-ignore lint: dynamically imported package modules
type Module = any;

const written = new Map<string, Promise<string>>();
/** The format's package for the wgsl target alone, written once per file. */
function packageDir(format: ResolvedFormat): Promise<string> {
  let dir = written.get(format.name);
  if (dir === undefined) {
    dir = packageFiles(format, [wgslTarget]).then(({ files, manifest }) => Effect.runSync(writePackage(join(root, format.name), files, manifest, false)));
    written.set(format.name, dir);
  }
  return dir;
}

describe("shipped launch rules = launch.ts", () => {
  for (const format of FORMATS) {
    it(format.name, async () => {
      const dir = await packageDir(format);
      const load = (path: string): Promise<Module> => import(pathToFileURL(join(dir, path)).href);
      const runtime = await load("wgsl-runtime.js");
      const { kernels } = (await load("wgsl/kernels.js")) as { kernels: ShippedKernel[] };
      const bounds = (await load("wgsl/launch.js")).default;
      const { kernels: source, plans } = lowerFormat(format);
      const compiled = new Map(compileWgsl({ kernels: source }).kernels.map((k) => [k.name, k] as const));
      let checked = 0;
      for (const [n, channelCounts] of LAYOUTS)
        for (const channels of format.scaling.kind === "amax" || format.scaling.kind === "shift-groups" ? channelCounts : [1])
          for (const step of [...plans.encode.steps, ...plans.decode.steps, ...plans.fakeQuantize.steps]) {
            const call: Record<string, number> = { n, channels, seed: 5, channelLength: n / channels };
            const scalars = Object.fromEntries(Object.entries(step.args).flatMap(([name, a]) => ("scalar" in a ? [[name, call[a.scalar]]] : "constant" in a ? [[name, a.constant]] : [])));
            const ir = compiled.get(step.kernel);
            const data = kernels.find((k) => k.name === step.kernel);
            if (ir === undefined || data === undefined) throw new Error(`${step.kernel} is not in the package`);
            const shipped = runtime.kernelFromData(data, bounds);
            const where = `${step.kernel} n=${n} channels=${channels}`;
            expect(shipped.scratchLength(scalars), where).toBe(scratchLength(ir.passes[0].launch, ir.params, ir.passes[0].kernel.tables, scalars));
            ir.passes.forEach((pass, k) => {
              expect(shipped.passes[k].dispatches(scalars), `${where} pass ${k}`).toEqual(dispatches(pass.launch, ir.params, pass.kernel.tables, scalars));
              const launch = data.passes[k].launch;
              if (launch.kind !== "grid") return;
              const values = new Int32Array(4);
              bounds[launch.bounds](...data.params.filter((p) => p.kind === "scalar").map((p) => scalars[p.name] ?? 0), values);
              const capped = runtime.gridDispatches(launch, runtime.gridSize(launch, values), 3);
              expect(capped, `${where} pass ${k}, 3 workgroups per dimension`).toEqual(dispatches(pass.launch, ir.params, pass.kernel.tables, scalars, 3));
              checked++;
            });
          }
      expect(checked).toBeGreaterThan(0);
    });
  }

  it("the GEMM's tiles: one dispatch of ⌈n/64⌉ × ⌈m/64⌉ workgroups, capped per dimension", async () => {
    const dir = await packageDir(builtin("e4m3"));
    const runtime: Module = await import(pathToFileURL(join(dir, "wgsl-runtime.js")).href);
    const { kernels } = (await import(pathToFileURL(join(dir, "wgsl/kernels.js")).href)) as { kernels: ShippedKernel[] };
    const gemm = kernels.find((k) => k.name === "gemm_cc");
    if (gemm === undefined) throw new Error("no gemm_cc in the e4m3 package");
    const launch = gemm.passes[0].launch;
    if (launch.kind !== "tiles") throw new Error(`gemm_cc launches as ${launch.kind}`);
    expect(launch).toEqual({ kind: "tiles", workgroupSize: [16, 16], tile: [64, 64], extents: ["n", "m"] });
    // [m, n, max] → workgroups along x (n) and y (m), or none.
    const cases: readonly (readonly [number, number, number, readonly [number, number] | null])[] = [
      [0, 5, 65535, null],
      [5, 0, 65535, null],
      [1, 1, 65535, [1, 1]],
      [64, 65, 65535, [2, 1]],
      [200, 3, 65535, [1, 4]],
      [5000, 70_000, 65535, [1094, 79]],
      [5000, 70_000, 3, [3, 3]],
      [64 * 70_000, 1, 65535, [1, 65535]],
    ];
    for (const [m, n, max, workgroups] of cases)
      expect(runtime.tileDispatches(launch, { m, n }, max), `m=${m} n=${n} max=${max}`).toEqual(workgroups === null ? [] : [{ workgroupSize: [16, 16], workgroups, scalars: {} }]);
  });
});
