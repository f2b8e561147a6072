/**
 * Tape-based reverse-mode autograd. Ops running under a context with a tape record one
 * closure each; `backward` runs them newest first. Each closure reads its output's `grad`
 * (skipping when it is still null: the output did not reach the root) and adds into its
 * inputs' `grad`, so a tensor used twice gets the sum of both contributions.
 */
import { gradOf, type FloatArray, type Tensor } from "./tensor.ts";

/** The record of one forward pass; consumed by one backward. */
export class Tape {
  private steps: Array<() => void> = [];

  /** Number of recorded backward steps. */
  get length(): number {
    return this.steps.length;
  }

  record(backward: () => void): void {
    this.steps.push(backward);
  }

  /**
   * Propagates from `root` (seeded with 1 for a scalar, or with `seed` of the same length)
   * through every recorded op, then empties the tape so its closures can be collected.
   */
  backward(root: Tensor, seed?: FloatArray): void {
    if (!root.requiresGrad) throw new Error("backward: the root does not depend on any tensor that requires grad");
    const g = gradOf(root);
    if (seed !== undefined) {
      if (seed.length !== g.length) throw new RangeError(`backward: seed has ${seed.length} elements, root has ${g.length}`);
      for (let i = 0; i < g.length; i++) g[i] += seed[i];
    } else {
      if (g.length !== 1) throw new RangeError(`backward: root has ${g.length} elements; pass a seed gradient for a non-scalar root`);
      g[0] += 1;
    }
    const steps = this.steps;
    this.steps = [];
    for (let i = steps.length - 1; i >= 0; i--) steps[i]();
  }
}

/** Sets the gradients of `params` to zero (keeping their buffers). */
export function zeroGrad(params: readonly Tensor[]): void {
  for (const p of params) if (p.grad !== null) p.grad.fill(0);
}
