/**
 * What every op needs besides its tensors, passed explicitly: the GEMM backend, the
 * precision hook, the tape (null: no gradients are recorded) and the train/eval mode.
 */
import { Tape } from "./autograd.ts";
import type { Backend } from "./backend.ts";
import type { Precision } from "./precision.ts";
import { identityPrecision } from "./precision.ts";
import type { Tensor } from "./tensor.ts";

/** The per-call environment of an op; build one per training step (fresh tape) or for inference. */
export interface Ctx {
  readonly backend: Backend;
  readonly precision: Precision;
  readonly tape: Tape | null;
  /** Batch norm uses batch statistics and updates its running averages only when true. */
  readonly training: boolean;
}

/** A training-step context with a fresh tape. */
export function trainContext(backend: Backend, precision: Precision = identityPrecision): Ctx & { readonly tape: Tape } {
  return { backend, precision, tape: new Tape(), training: true };
}

/** An inference context: no tape, eval-mode normalization. */
export function evalContext(backend: Backend, precision: Precision = identityPrecision): Ctx {
  return { backend, precision, tape: null, training: false };
}

/** Whether an op over `inputs` must record a backward step: a tape is present and some input needs grad. */
export function recording(ctx: Ctx, ...inputs: ReadonlyArray<Tensor | null | undefined>): boolean {
  if (ctx.tape === null) return false;
  for (const t of inputs) if (t != null && t.requiresGrad) return true;
  return false;
}
