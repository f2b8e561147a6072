/**
 * Kernels as functions: compileKernels gives a program the kernel package `numforge compile`
 * would write, already imported (same entry, same argument checks, same results); writePackage
 * writes that package to a folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Manifest } from "../package/write-package.ts";
import type * as KernelPackageModule from "../package/shipped/index.js";
import type * as GpuPackageModule from "../package/shipped/wgsl-index.js";
import type { Target } from "../targets/target.ts";
import type { Format } from "./formats.ts";
import { inputError, runAsync } from "./errors.ts";

/** A kernel package's API: encode(Float32Array) → { codes, meta }, decode, fakeQuantize, gemm, format, target. */
export type Kernels = typeof KernelPackageModule;
/** The WebGPU entry of a package (`<package>/wgsl`): createGpuKernels(device?) → asynchronous kernels. */
export type GpuKernelsModule = typeof GpuPackageModule;
/** A target name: "wasm" (SIMD where it validates, scalar wasm otherwise), "js", "wgsl". */
export type TargetName = "wasm" | "js" | "wgsl";

export interface WritePackageOptions {
  /** Targets to compile (default: every target). */
  readonly targets?: readonly TargetName[];
  /** The package folder to write. */
  readonly out: string;
  /** Replace `out` even if it is not a numforge package (default false: refused). */
  readonly force?: boolean;
}

export interface WrittenPackage {
  /** The absolute path of the package folder. */
  readonly dir: string;
  readonly manifest: Manifest;
}

/** Compiles a format for one target and returns its kernels with the package API, loaded in this process. */
export async function compileKernels(format: Format, options: { readonly target: "wasm" | "js" }): Promise<Kernels>;
export async function compileKernels(format: Format, options: { readonly target: "wgsl" }): Promise<GpuKernelsModule>;
export async function compileKernels(format: Format, options: { readonly target: TargetName }): Promise<Kernels | GpuKernelsModule> {
  const targets = await targetsNamed([options.target]);
  // The package's own entry, imported from a private folder removed once loaded: the modules it
  // imports are in memory by then (wasm binaries are embedded in them), and the kernels are exactly
  // the ones a written package runs.
  const scratch = mkdtempSync(join(tmpdir(), "numforge-kernels-"));
  try {
    const { dir } = await writeFiles(format, targets, join(scratch, "package"), false);
    const entry = options.target === "wgsl" ? "wgsl/index.js" : "index.js";
    return (await import(pathToFileURL(join(dir, entry)).href)) as Kernels | GpuKernelsModule;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Writes the kernel package of a format (what `numforge compile` writes). A folder numforge wrote is
 * updated (only the files its manifest lists); another non-empty folder is refused unless `force`,
 * which adds the package beside the files there and never replaces one of them.
 */
export async function writePackage(format: Format, options: WritePackageOptions): Promise<WrittenPackage> {
  if (typeof options?.out !== "string" || options.out === "") inputError("out", "the package folder to write is required");
  const { TARGETS } = await import("../targets/registry.ts");
  const targets = await targetsNamed(options.targets ?? TARGETS.map((t) => t.name as TargetName));
  return writeFiles(format, targets, options.out, options.force === true);
}

async function writeFiles(format: Format, targets: readonly Target[], out: string, force: boolean): Promise<WrittenPackage> {
  const [{ packageFiles }, { writePackage: write }] = await Promise.all([import("../package/package-files.ts"), import("../package/write-package.ts")]);
  const { files, manifest } = await packageFiles(format, targets);
  const dir = await runAsync(write(out, files, manifest, force));
  return { dir, manifest };
}

/** The registry's targets by name, in the order given; an unknown name is refused as `numforge compile` refuses it. */
async function targetsNamed(names: readonly string[]): Promise<Target[]> {
  const { TARGETS } = await import("../targets/registry.ts");
  const targets: Target[] = [];
  for (const name of names) {
    const target = TARGETS.find((t) => t.name === name);
    if (target === undefined) inputError("target", `unknown target "${name}"; available: ${TARGETS.map((t) => t.name).join(", ")}`);
    targets.push(target);
  }
  if (targets.length === 0) inputError("targets", "name at least one target");
  return targets;
}
