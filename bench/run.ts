/**
 * `npm run bench`: composes the benchmark sections and prints one table each.
 * Sections to run are named as arguments (`npm run bench -- gemm-f32 elementwise-wasm`) or with
 * `--section NAME` / `--section=NAME` (repeatable); default all of the target's, in the order below.
 * `--target wgsl` (or `--target=wgsl`) runs the WGSL target's sections (bench/wgsl.ts) on a WebGPU
 * device instead of the CPU targets' (the default, `--target cpu`).
 *
 * Relaxed SIMD: Node 20 validates it only with --experimental-wasm-relaxed-simd. When this
 * engine does not, the bench re-runs itself once in a child process with that flag (the peers'
 * binaries do not use relaxed SIMD; the flag only lets our relaxed kernels load), and falls back
 * to measuring without relaxed kernels if the child cannot start.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createWasmAssembler, engineHasRelaxedSimd } from "../src/targets/wasm/assemble.ts";
import { elementwiseSection } from "./elementwise-js.ts";
import { elementwiseWasmSection } from "./elementwise-wasm.ts";
import { gemmF32Section, gemmLowPrecisionSection } from "./gemm-compare.ts";
import { gemmSection } from "./gemm-js.ts";
import { machineLine } from "./measure.ts";
import { renderTable, type Table } from "./table.ts";
import type { WgslDevice } from "../src/targets/wgsl/device.ts";

const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";
const CHILD = "NUMFORGE_BENCH_RELAXED_CHILD";

const assembler = await createWasmAssembler();
const relaxed = engineHasRelaxedSimd(assembler);

if (!relaxed && process.env[CHILD] === undefined) {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [RELAXED_FLAG, "--import", "tsx", script, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, [CHILD]: "1" },
  });
  if (child.error === undefined && child.status !== null && child.status !== 9) process.exit(child.status);
  console.error(`(could not re-run with ${RELAXED_FLAG}: ${child.error?.message ?? `exit ${child.status}`}; measuring without relaxed SIMD)`);
}

const SECTIONS: Readonly<Record<string, () => Table | Promise<Table>>> = {
  "gemm-f32": () => gemmF32Section(assembler, relaxed),
  "gemm-lowp": () => gemmLowPrecisionSection(assembler, relaxed),
  "elementwise-wasm": () => elementwiseWasmSection(assembler),
  "elementwise-resident": async () => (await import("./elementwise-resident.ts")).elementwiseResidentSection(assembler),
  gemm: () => gemmSection(),
  elementwise: () => elementwiseSection(),
  // Loaded on demand: it pulls in all of @tensorflow/tfjs (gradients, layers) for its peer.
  training: async () => (await import("./training.ts")).trainingSection(relaxed),
  "training-cost": async () => (await import("./training-cost.ts")).trainingCostSection(),
  "gemm-declared": async () => (await import("./gemm-declared.ts")).gemmDeclaredSection(),
  // Threads and the package API (wall-clock): bench/threads.ts.
  "threads-gemm": async () => (await import("./threads.ts")).threadsGemmSection(),
  "threads-elementwise": async () => (await import("./threads.ts")).threadsElementwiseSection(),
  "threads-training": async () => (await import("./threads.ts")).threadsTrainingSection(),
  // Recording numerics during compare (docs/numerics.md): in-process timers, minutes.
  "numerics-overhead": async () => (await import("./numerics-overhead.ts")).numericsOverheadSection(),
};

/**
 * The WGSL sections' module and WebGPU device (Dawn; Mesa lavapipe without a GPU): loaded and
 * opened on first use, when the adapter's line is printed.
 */
let wgslBench: Promise<{ readonly bench: typeof import("./wgsl.ts"); readonly device: WgslDevice }> | undefined;
const wgsl = () =>
  (wgslBench ??= (async () => {
    const bench = await import("./wgsl.ts");
    const device = await bench.openBenchDevice();
    console.log(bench.adapterLine(device));
    return { bench, device };
  })());

const TARGETS: Readonly<Record<string, Readonly<Record<string, () => Table | Promise<Table>>>>> = {
  cpu: SECTIONS,
  wgsl: {
    "wgsl-gemm": async () => {
      const { bench, device } = await wgsl();
      return bench.wgslGemmSection(assembler, device);
    },
    "wgsl-encode": async () => {
      const { bench, device } = await wgsl();
      return bench.wgslEncodeSection(assembler, device);
    },
  },
};

/** The target (--target NAME / --target=NAME, default cpu) and section names (positional, --section NAME / --section=NAME). */
function parseArguments(argv: readonly string[]): { target: string; sections: string[] } {
  const sections: string[] = [];
  let target = "cpu";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--section") sections.push(argv[++i] ?? "");
    else if (arg.startsWith("--section=")) sections.push(arg.slice("--section=".length));
    else if (arg === "--target") target = argv[++i] ?? "";
    else if (arg.startsWith("--target=")) target = arg.slice("--target=".length);
    else sections.push(arg);
  }
  return { target, sections };
}

const { target, sections: requested } = parseArguments(process.argv.slice(2));
const targetSections = TARGETS[target];
if (targetSections === undefined) {
  console.error(`unknown bench target ${JSON.stringify(target)}; targets: ${Object.keys(TARGETS).join(", ")}`);
  process.exit(2);
}
const unknown = requested.filter((name) => !(name in targetSections));
if (unknown.length > 0) {
  console.error(`unknown bench section ${unknown.map((u) => JSON.stringify(u)).join(", ")} for target ${target}; sections: ${Object.keys(targetSections).join(", ")}`);
  process.exit(2);
}

console.log(`${machineLine()}; relaxed SIMD ${relaxed ? `validated${process.env[CHILD] ? ` (${RELAXED_FLAG})` : ""}` : "not validated"}`);
const started = performance.now();
for (const name of requested.length > 0 ? requested : Object.keys(targetSections)) {
  const sectionStart = performance.now();
  const table = await targetSections[name]();
  console.log(`\n${renderTable(table)}\n  (${name}: ${((performance.now() - sectionStart) / 1000).toFixed(1)} s)`);
}
// Dawn keeps the process alive while a device lives.
if (wgslBench !== undefined) (await wgslBench).device.close();
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s (${machineLine()})`);
