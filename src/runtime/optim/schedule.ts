/**
 * Learning-rate schedules: pure functions of the 0-based step. They compose: a warm-up wraps
 * any schedule, which then sees the step counted from the end of the warm-up.
 */

/** Learning rate at a 0-based global step. */
export type Schedule = (step: number) => number;

/** The same rate at every step. */
export function constant(lr: number): Schedule {
  return () => lr;
}

/**
 * Ramps linearly from `then(0)·(1/warmupSteps)` to `then(0)` over `warmupSteps` steps
 * (Goyal et al. 2017), then follows `then(step − warmupSteps)`.
 */
export function linearWarmup(warmupSteps: number, then: Schedule): Schedule {
  if (!(warmupSteps >= 0) || !Number.isInteger(warmupSteps)) throw new RangeError(`linearWarmup: steps must be a non-negative integer, got ${warmupSteps}`);
  return (step) => (step < warmupSteps ? (then(0) * (step + 1)) / warmupSteps : then(step - warmupSteps));
}

/** Half-cosine from `base` at step 0 to `min` at `steps` (SGDR without restarts); `min` after. */
export function cosineDecay(base: number, steps: number, min = 0): Schedule {
  if (!(steps > 0)) throw new RangeError(`cosineDecay: steps must be positive, got ${steps}`);
  return (step) => (step >= steps ? min : min + 0.5 * (base - min) * (1 + Math.cos((Math.PI * step) / steps)));
}

/** base·gamma^⌊step / every⌋. */
export function stepDecay(base: number, every: number, gamma = 0.1): Schedule {
  if (!(every > 0)) throw new RangeError(`stepDecay: every must be positive, got ${every}`);
  return (step) => base * Math.pow(gamma, Math.floor(step / every));
}

/** Runs each phase for its step count (each seeing its own step from 0), then `rest`. */
export function sequence(phases: ReadonlyArray<{ readonly steps: number; readonly schedule: Schedule }>, rest: Schedule): Schedule {
  return (step) => {
    let s = step;
    for (const ph of phases) {
      if (s < ph.steps) return ph.schedule(s);
      s -= ph.steps;
    }
    return rest(s);
  };
}

/** factor·schedule(step): e.g. the same shape at another peak rate. */
export function scaled(schedule: Schedule, factor: number): Schedule {
  return (step) => factor * schedule(step);
}
