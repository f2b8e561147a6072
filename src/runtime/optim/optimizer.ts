/** What the trainer needs from an optimizer; implementations keep their state per parameter. */
import type { Precision } from "../precision.ts";
import type { Tensor } from "../tensor.ts";

/** What an optimizer carries from one step to the next, for checkpoints. */
export interface OptimizerState {
  /** Per-parameter buffers by their optimizer-state site (`<param>.m`, `<param>.momentum`, …). */
  readonly buffers: Readonly<Record<string, Tensor["data"]>>;
  /** Scalar counters (Adam's step count). */
  readonly counters: Readonly<Record<string, number>>;
}

/** A parameter-update rule with its own per-parameter state. */
export interface Optimizer {
  readonly params: readonly Tensor[];
  /** The state buffers (live, not copies) and counters. */
  state(): OptimizerState;
  /** Copies a state taken from an optimizer over the same parameters into this one. */
  restore(state: OptimizerState): void;
  /**
   * Applies one update with learning rate `lr` from the accumulated gradients. State is
   * passed through `precision` as "optimizerState" (site `<param>.<slot>`), the written
   * weights as "master" (site `<param>`). Parameters whose grad is null are skipped.
   */
  step(lr: number, precision: Precision): void;
  zeroGrad(): void;
}

/** Which parameters weight decay applies to; by default all. */
export type DecayFilter = (param: Tensor) => boolean;

/** Decay weights only: skips rank-1 parameters (biases, norm scales and shifts). */
export const decayWeightsOnly: DecayFilter = (p) => p.shape.length > 1;

/** Quantizes a parameter's freshly written values when the recipe keeps masters in a format. */
export function writeMaster(precision: Precision, p: Tensor): void {
  if (precision.active("master", p.name)) precision.quantize("master", p.data, p.name);
}

/** Passes an optimizer state buffer through the recipe when it binds a format to that slot. */
export function quantizeState(precision: Precision, state: Tensor["data"], site: string): void {
  if (precision.active("optimizerState", site)) precision.quantize("optimizerState", state, site);
}

/** Every parameter requires grad and names are unique (they key precision sites and state). */
export function checkParams(op: string, params: readonly Tensor[]): void {
  const names = new Set<string>();
  for (const p of params) {
    if (!p.requiresGrad) throw new Error(`${op}: tensor ${p.name || "(unnamed)"} does not require grad`);
    if (p.name !== "" && names.has(p.name)) throw new Error(`${op}: two parameters are named ${p.name}`);
    names.add(p.name);
  }
}

/** Copies `state` into the live `buffers`/`counters`; throws naming the first buffer that is missing or mis-sized. */
export function restoreState(op: string, live: OptimizerState, state: OptimizerState, setCounter: (name: string, value: number) => void): void {
  for (const [site, buffer] of Object.entries(live.buffers)) {
    const saved = state.buffers[site];
    if (saved === undefined || saved.length !== buffer.length) throw new Error(`${op}: the saved state has no ${buffer.length}-element buffer ${site}`);
    buffer.set(saved);
  }
  for (const name of Object.keys(live.counters)) {
    const value = state.counters[name];
    if (typeof value !== "number") throw new Error(`${op}: the saved state has no counter ${name}`);
    setCounter(name, value);
  }
}
