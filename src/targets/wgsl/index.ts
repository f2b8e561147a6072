/**
 * The WGSL target for kernel packages: every kernel the format's plans call, compiled to WGSL
 * compute shaders (one `.wgsl` file per pass), the WGSL GEMM for each operand pair it covers, and
 * the shipped WebGPU entry (`<package>/wgsl`: createGpuKernels) with its runtime. WebGPU is
 * asynchronous and needs a device, so the synchronous entry skips this target (wgsl/backend.js).
 *
 * The runtime (src/package-runtime/wgsl-runtime.js, wgsl-launch.js) takes each kernel as data — WGSL, bindings,
 * uniform fields, tables, launch rule — in wgsl/kernels.js. A grid pass's launch bounds are IR
 * expressions of the call's scalars (schedule.ts) that numforge evaluates with the IR interpreter
 * (launch.ts), which a package cannot import. They ship as small functions rendered from that IR
 * by the JS target's renderer (wgsl/launch.js) rather than as serialized expressions plus an
 * evaluator: the renderer is already tested bit for bit against the interpreter, where an
 * evaluator in the runtime would be a third implementation of the IR's i32 semantics to keep
 * in step (and the bounds' lets may use any IR operation, tables included).
 */
import { readFileSync } from "node:fs";
import type { CompiledFormat } from "../../codegen/compile.ts";
import { assertNever, type Kernel, type KernelModule } from "../../codegen/ir/nodes.ts";
import { GemmUnsupportedError } from "../../codegen/lower/gemm/operand.ts";
import type { ShippedKernel, ShippedPass } from "../../package-runtime/wgsl-runtime.js";
import { renderJs } from "../js/render.ts";
import type { PackageFile, Target } from "../target.ts";
import { compileWgsl, pipelinePass, type CompiledWgslPass } from "./compile.ts";
import { compileWgslGemm, WGSL_GEMM_ALGORITHM, type CompiledWgslGemm } from "./gemm.ts";
import { boundsKernel } from "./launch.ts";
import { uniformParams } from "./render.ts";

const shipped = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const ENTRY = shipped("../../package/shipped/wgsl-index.js");
const ENTRY_TYPES = shipped("../../package/shipped/wgsl-index.d.ts");
const BACKEND = shipped("../../package/shipped/wgsl-backend.js");
const RUNTIME = shipped("../../package-runtime/wgsl-runtime.js");
const LAUNCH_RULES = shipped("../../package-runtime/wgsl-launch.js");

/** A pass as the runtime's data; `bounds` names its launch-bound function (grid passes). */
function passData(pass: CompiledWgslPass, file: string, bounds: string | null): ShippedPass {
  // What numforge's own device binds, plus what a package needs to launch it; tables as JSON-able words.
  const { launch: binding, tables, ...source } = pipelinePass(pass);
  const common = { ...source, file, tables: tables === null ? null : Array.from(tables), uniforms: uniformParams(pass).map((p) => ({ name: p.name, type: p.type })) };
  const launch = pass.launch;
  switch (launch.kind) {
    case "single":
      return { ...common, launch: { kind: "single" } };
    case "tiles":
      return { ...common, launch: { kind: "tiles", workgroupSize: launch.workgroupSize, tile: launch.tile, extents: launch.extents } };
    case "grid": {
      if (bounds === null || binding.kind !== "grid") throw new Error(`${pass.name}: a grid pass without launch bounds`);
      const { invocationX: _x, invocationY: _y, ...scalars } = launch.scalars;
      return {
        ...common,
        launch: {
          ...binding,
          bounds,
          outer: { step: launch.outer.step, unit: launch.outer.unit, phases: launch.outer.phases },
          inner: launch.inner === null ? null : { unit: launch.inner.unit },
          reduction: launch.reduction === null ? null : { pass: launch.reduction.pass },
          scalars,
        },
      };
    }
    default:
      return assertNever(launch, "launch");
  }
}

/**
 * The WGSL GEMM of each variant it covers: code operands of scaled formats need their metadata,
 * which the WGSL GEMM does not take, so those go through decode and the float32 variant.
 */
function gemmKernels(compiled: CompiledFormat): { kernels: CompiledWgslGemm[]; variants: Record<string, { kernel: string; maxK: number | null }> } {
  const { format } = compiled;
  const kernels: CompiledWgslGemm[] = [];
  const variants: Record<string, { kernel: string; maxK: number | null }> = {};
  for (const { key } of compiled.gemm) {
    if (format.scaling.kind !== "none" && key !== "ff") continue;
    try {
      const gemm = compileWgslGemm({ a: key[0] === "c" ? format : "f32", b: key[1] === "c" ? format : "f32", name: `gemm_${key}` });
      kernels.push(gemm);
      variants[key] = { kernel: gemm.name, maxK: gemm.gemm.maxK };
    } catch (error) {
      if (!(error instanceof GemmUnsupportedError)) throw error;
    }
  }
  return { kernels, variants };
}

/** The package files of the WGSL target for a compiled format. */
function wgslFiles(compiled: CompiledFormat): PackageFile[] {
  const { encode, decode, fakeQuantize } = compiled.plans;
  const planned = new Set([encode, decode, fakeQuantize].flatMap((plan) => plan.steps.map((s) => s.kernel)));
  // The IR GEMM kernels of the module would run on one invocation here: the tiled WGSL GEMM replaces them.
  const elementwise = compileWgsl({ kernels: compiled.module.kernels.filter((k) => planned.has(k.name)) }).kernels;
  const gemm = gemmKernels(compiled);
  const sources: PackageFile[] = [];
  const bounds: Kernel[] = [];
  const data: ShippedKernel[] = [...elementwise, ...gemm.kernels].map((kernel) => ({
    name: kernel.name,
    params: kernel.params,
    scratch: kernel.scratch,
    passes: kernel.passes.map((pass, k) => {
      const file = kernel.passes.length === 1 ? `${kernel.name}.wgsl` : `${kernel.name}.pass${k + 1}.wgsl`;
      sources.push({ path: `wgsl/${file}`, contents: pass.wgsl });
      if (pass.launch.kind !== "grid") return passData(pass, file, null);
      const name = `launch_${bounds.length}`;
      bounds.push(boundsKernel(name, kernel.params, pass.kernel.tables, pass.launch));
      return passData(pass, file, name);
    }),
  }));
  const boundsModule: KernelModule = { kernels: bounds };
  return [
    ...sources,
    {
      path: "wgsl/kernels.js",
      contents: `// Generated by numforge: the WGSL kernels and their launch rules, as data.\nexport const kernels = ${JSON.stringify(data)};\nexport const gemmVariants = ${JSON.stringify(gemm.variants)};\n`,
    },
    {
      path: "wgsl/launch.js",
      contents: `// Generated by numforge from the kernel IR: the launch bounds of the grid passes. Do not edit.\n${renderJs(boundsModule)}\nexport default kernels;\n`,
    },
    { path: "wgsl/index.js", contents: ENTRY },
    { path: "wgsl/index.d.ts", contents: ENTRY_TYPES },
    { path: "wgsl/backend.js", contents: BACKEND },
    { path: "wgsl-runtime.js", contents: RUNTIME },
    { path: "wgsl-launch.js", contents: LAUNCH_RULES },
  ];
}

export const wgslTarget: Target = {
  name: "wgsl",
  description: "WebGPU compute shaders (asynchronous: createGpuKernels from the package's ./wgsl entry)",
  gemmSchedule: WGSL_GEMM_ALGORITHM,
  files: (compiled) => ({ backend: "wgsl/backend.js", files: wgslFiles(compiled) }),
};
