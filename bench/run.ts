/**
 * `npm run bench`: composes the benchmark sections and prints one table each.
 * Sections to run are named as arguments (`npm run bench -- gemm-f32 elementwise-wasm`) or with
 * `--section NAME` / `--section=NAME` (repeatable); default all, in the order below.
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
  gemm: () => gemmSection(),
  elementwise: () => elementwiseSection(),
  // Loaded on demand: it pulls in all of @tensorflow/tfjs (gradients, layers) for its peer.
  training: async () => (await import("./training.ts")).trainingSection(relaxed),
};

/** Section names from positional arguments and --section NAME / --section=NAME. */
function requestedSections(argv: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--section") names.push(argv[++i] ?? "");
    else if (arg.startsWith("--section=")) names.push(arg.slice("--section=".length));
    else names.push(arg);
  }
  return names;
}

const requested = requestedSections(process.argv.slice(2));
const unknown = requested.filter((name) => !(name in SECTIONS));
if (unknown.length > 0) {
  console.error(`unknown bench section ${unknown.map((u) => JSON.stringify(u)).join(", ")}; sections: ${Object.keys(SECTIONS).join(", ")}`);
  process.exit(2);
}

console.log(`${machineLine()}; relaxed SIMD ${relaxed ? `validated${process.env[CHILD] ? ` (${RELAXED_FLAG})` : ""}` : "not validated"}`);
const started = performance.now();
for (const name of requested.length > 0 ? requested : Object.keys(SECTIONS)) {
  const sectionStart = performance.now();
  const table = await SECTIONS[name]();
  console.log(`\n${renderTable(table)}\n  (${name}: ${((performance.now() - sectionStart) / 1000).toFixed(1)} s)`);
}
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s (${machineLine()})`);
