/**
 * Running a compiled WGSL GEMM (gemm.ts) on a device: through the generic runner (runner.ts),
 * after the one check the calling convention cannot carry — on the exact integer path k must
 * not exceed maxK, past which the i32 sums would wrap into a silently wrong C.
 */
import type { WgslDevice } from "./device.ts";
import type { CompiledWgslGemm } from "./gemm.ts";
import { runWgslCalls, type WgslArg, type WgslCall, type WgslKernel } from "./runner.ts";

/** One GEMM call for runWgslCalls (batch several in one submission), after checking k against maxK. */
export function wgslGemmCall(gemm: CompiledWgslGemm, args: readonly WgslArg[]): WgslCall {
  const at = gemm.params.findIndex((p) => p.name === "k");
  const k = args[at];
  const { maxK } = gemm.gemm;
  if (maxK !== null && typeof k === "number" && k > maxK)
    throw new Error(`${gemm.name} (${gemm.gemm.a} × ${gemm.gemm.b}): k = ${k} exceeds ${maxK}, the largest depth whose i32 sums are exact; split the depth or dequantize to f32`);
  return { kernel: gemm, args };
}

/** The GEMM as a kernel with the JS target's positional convention; resolves once C is read back. */
export async function instantiateWgslGemm(gemm: CompiledWgslGemm, device: WgslDevice): Promise<WgslKernel> {
  await device.pipeline(gemm.passes[0], gemm.passes[0].launch.workgroupSize);
  return (...args: WgslArg[]) => runWgslCalls(device, [wgslGemmCall(gemm, args)]);
}
