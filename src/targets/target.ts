/**
 * What a target is: one folder under src/targets exporting one factory. A target turns the
 * compiled kernels of a format into files of a kernel package (its source and a backend module
 * the package entry can load). Adding a target is one folder and one line in registry.ts.
 */
import type { CompiledFormat } from "../codegen/compile.ts";
import type { GemmSchedule } from "../codegen/schedule.ts";

/** One file of a kernel package, relative to the package root. */
export interface PackageFile {
  readonly path: string;
  readonly contents: string | Uint8Array;
}

export interface TargetFiles {
  readonly files: readonly PackageFile[];
  /** The module the package entry imports to get this target's kernels. */
  readonly backend: string;
}

export interface Target {
  readonly name: string;
  /** One line for `numforge compile --help`. */
  readonly description: string;
  /** How this target lays out the GEMM loop nest. */
  readonly gemmSchedule: GemmSchedule;
  /** The files this target adds to a kernel package. */
  files(compiled: CompiledFormat): TargetFiles | Promise<TargetFiles>;
}
