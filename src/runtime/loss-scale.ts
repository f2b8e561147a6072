/**
 * Loss scaling (Micikevicius et al. 2018): the backward pass starts from scale·1 so small errors
 * stay representable in a narrow format; the gradients are divided by the scale before the
 * optimizer step. Dynamic scaling skips a step whose gradients overflowed and backs off, and
 * grows the scale after `growthInterval` clean steps.
 */
import type { Tensor } from "./tensor.ts";

/** How the loss is scaled (the recipe's lossScaling with its defaults filled in). */
export type LossScaleConfig =
  | { readonly kind: "none" }
  | { readonly kind: "static"; readonly scale: number }
  | { readonly kind: "dynamic"; readonly initial: number; readonly growthFactor: number; readonly backoffFactor: number; readonly growthInterval: number };

/** The scaler's state, for checkpoints. */
export interface LossScaleState {
  readonly scale: number;
  readonly cleanSteps: number;
  readonly skippedSteps: number;
}

/** Holds the current scale; `unscale` decides whether a step is applied. */
export class LossScaler {
  private scaleValue: number;
  private cleanSteps = 0;
  private skipped = 0;

  constructor(readonly config: LossScaleConfig) {
    this.scaleValue = config.kind === "none" ? 1 : config.kind === "static" ? config.scale : config.initial;
  }

  /** The factor the backward pass starts from. */
  get scale(): number {
    return this.scaleValue;
  }

  /** Steps skipped because their gradients overflowed (dynamic scaling only). */
  get skippedSteps(): number {
    return this.skipped;
  }

  /**
   * Divides every gradient by the scale. Dynamic scaling: a non-finite gradient instead backs
   * off, counts a skipped step and returns false (the caller drops the gradients).
   */
  unscale(params: readonly Tensor[]): boolean {
    const c = this.config;
    if (c.kind === "dynamic" && !allFinite(params)) {
      this.scaleValue = Math.max(this.scaleValue * c.backoffFactor, Number.MIN_VALUE);
      this.cleanSteps = 0;
      this.skipped++;
      return false;
    }
    if (this.scaleValue !== 1) {
      const inv = 1 / this.scaleValue;
      for (const p of params) {
        const g = p.grad;
        if (g !== null) for (let i = 0; i < g.length; i++) g[i] *= inv;
      }
    }
    if (c.kind === "dynamic" && ++this.cleanSteps >= c.growthInterval) {
      this.scaleValue = Math.min(this.scaleValue * c.growthFactor, 3.4e38);
      this.cleanSteps = 0;
    }
    return true;
  }

  state(): LossScaleState {
    return { scale: this.scaleValue, cleanSteps: this.cleanSteps, skippedSteps: this.skipped };
  }

  restore(state: LossScaleState): void {
    this.scaleValue = state.scale;
    this.cleanSteps = state.cleanSteps;
    this.skipped = state.skippedSteps;
  }
}

function allFinite(params: readonly Tensor[]): boolean {
  for (const p of params) {
    const g = p.grad;
    if (g === null) continue;
    for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i])) return false;
  }
  return true;
}
