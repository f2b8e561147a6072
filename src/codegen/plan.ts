/**
 * Plans: how the kernels of a format are sequenced for each API operation (encode, decode,
 * fakeQuantize). A plan is plain data — buffers with sizes and an ordered list of kernel calls
 * — so every target's runner (JS, WebAssembly, WebGPU) executes the same steps and only the
 * kernels differ. Statistics phases (amax, block maxima, S2FP8 log2 sums) are separate steps so
 * a GPU can run them as reductions between dispatches.
 *
 * The plan types and sizeOf live in src/package-runtime/run-plan.js (+ .d.ts), which kernel
 * packages ship verbatim; this module re-exports them so there is one definition.
 */
import type { OpPlan } from "../package-runtime/run-plan.js";

export type { BufferDecl, BufferRole, OpPlan, Size, Step, StepArg } from "../package-runtime/run-plan.js";
/** The concrete length of a buffer for a call with n elements in `channels` channels. */
export { sizeOf } from "../package-runtime/run-plan.js";

/** The plans of one format for each elementwise API operation. */
export interface FormatPlans {
  readonly encode: OpPlan;
  readonly decode: OpPlan;
  readonly fakeQuantize: OpPlan;
  /**
   * Per-channel kinds, and stochastically rounded 1-D blocks (whose draws are keyed by the
   * lane-major index): fakeQuantize of a tensor whose scaling channels are its columns. Called
   * as fakeQuantize is (n elements, `channels` = the lanes), on a row-major matrix of
   * n / channels rows × channels columns, lane c being column c; every value, stochastic draws
   * included, is the one fakeQuantize gives on the transposed copy (lanes as rows), so a GEMM
   * operand whose channels are its columns is quantized where it lies. The runtime's recipes use it.
   */
  readonly fakeQuantizeColumns?: OpPlan;
}
