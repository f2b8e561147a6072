/**
 * compile: a ResolvedFormat → every kernel of the format (element, scaling and GEMM kernels) and
 * the plans that sequence them. Reads numbers only; a target passes its GEMM schedule.
 */
import type { ResolvedFormat } from "../dsl/resolved.ts";
import type { Kernel, KernelModule } from "./ir/nodes.ts";
import type { FormatPlans } from "./plan.ts";
import { lowerFormat } from "./lower/plans.ts";
import { describeGemm, lowerGemm, type GemmDescription } from "./lower/gemm/gemm.ts";
import type { GemmSchedule } from "./schedule.ts";

/** Operand kinds of a GEMM variant: codes of the format (c) or float32 (f), for A then B. */
export type GemmVariantKey = "cc" | "cf" | "fc" | "ff";

export interface GemmVariant {
  readonly key: GemmVariantKey;
  readonly description: GemmDescription;
}

export interface CompiledFormat {
  readonly format: ResolvedFormat;
  readonly module: KernelModule;
  readonly plans: FormatPlans;
  /**
   * GEMM kernels by operand kinds. Unscaled formats: cc, cf, fc, ff. ShiftQuant (shift-groups):
   * cc — exact integer products, each lane's power-of-two group scale applied after
   * accumulation, with a_/b_channel_group and a_/b_group_exponent parameters (the metadata of
   * codes quantized with one channel per row of op(A) / column of op(B), see
   * lower/gemm/operand.ts shiftGroupsOperand) — and ff. Code operands of other scaled formats
   * are dequantized first (ff).
   */
  readonly gemm: readonly GemmVariant[];
}

/** The GEMM variants a format's scaling gets. */
function gemmKeys(format: ResolvedFormat): GemmVariantKey[] {
  if (format.scaling.kind === "none") return ["cc", "cf", "fc", "ff"];
  if (format.scaling.kind === "shift-groups") return ["cc", "ff"];
  return ["ff"];
}

/** Lowers every kernel of `format`, with the GEMM laid out by `gemmSchedule`. */
export function compileFormat(format: ResolvedFormat, gemmSchedule: GemmSchedule): CompiledFormat {
  const { kernels, plans } = lowerFormat(format);
  const keys = gemmKeys(format);
  const gemmKernels: Kernel[] = [];
  const gemm = keys.map((key) => {
    const options = { a: key[0] === "c" ? format : "f32", b: key[1] === "c" ? format : "f32", schedule: gemmSchedule, name: `gemm_${key}` } as const;
    gemmKernels.push(...lowerGemm(options));
    return { key, description: describeGemm(options) };
  });
  return { format, module: { kernels: [...kernels, ...gemmKernels] }, plans, gemm };
}
