/** SGD with momentum, L2 weight decay and optional Nesterov momentum (PyTorch's formulation). */
import { zeroGrad } from "../autograd.ts";
import type { Precision } from "../precision.ts";
import { zerosLike, type FloatArray, type Tensor } from "../tensor.ts";
import { checkParams, quantizeState, restoreState, writeMaster, type DecayFilter, type Optimizer, type OptimizerState } from "./optimizer.ts";

/** Hyper-parameters of SGD; all default to off (plain SGD). */
export interface SgdOptions {
  readonly momentum?: number;
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
  readonly decay?: DecayFilter;
}

/**
 * d = g + λ·w; v ← μ·v + d; w ← w − lr·(nesterov ? d + μ·v : v). The velocity buffer is the
 * "optimizerState" site `<param>.momentum`.
 */
export function sgd(params: readonly Tensor[], options: SgdOptions = {}): Optimizer {
  checkParams("sgd", params);
  const mu = options.momentum ?? 0;
  const wd = options.weightDecay ?? 0;
  const nesterov = options.nesterov ?? false;
  if (nesterov && mu <= 0) throw new RangeError("sgd: Nesterov momentum needs momentum > 0");
  const decay = options.decay ?? (() => true);
  const velocity: Array<FloatArray | null> = params.map((p) => (mu !== 0 ? zerosLike(p.data) : null));
  const state = (): OptimizerState => ({
    buffers: Object.fromEntries(params.flatMap((p, i) => (velocity[i] === null ? [] : [[`${p.name}.momentum`, velocity[i]]]))),
    counters: {},
  });
  return {
    params,
    state,
    restore: (saved) => restoreState("sgd", state(), saved, () => {}),
    zeroGrad: () => zeroGrad(params),
    step(lr: number, precision: Precision): void {
      params.forEach((p, idx) => {
        const g = p.grad;
        if (g === null) return;
        const w = p.data;
        const lam = decay(p) ? wd : 0;
        const v = velocity[idx];
        if (v === null) {
          for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + lam * w[i]);
        } else {
          for (let i = 0; i < w.length; i++) v[i] = mu * v[i] + g[i] + lam * w[i];
          quantizeState(precision, v, `${p.name}.momentum`);
          if (nesterov) for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + lam * w[i] + mu * v[i]);
          else for (let i = 0; i < w.length; i++) w[i] -= lr * v[i];
        }
        writeMaster(precision, p);
      });
    },
  };
}
