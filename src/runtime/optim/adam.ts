/** Adam (Kingma & Ba 2015) with L2 weight decay, and AdamW (Loshchilov & Hutter 2019) with decoupled decay. */
import { zeroGrad } from "../autograd.ts";
import type { Precision } from "../precision.ts";
import { zerosLike, type Tensor } from "../tensor.ts";
import { checkParams, quantizeState, restoreState, writeMaster, type DecayFilter, type Optimizer, type OptimizerState } from "./optimizer.ts";

/** Hyper-parameters of Adam and AdamW (PyTorch defaults unless stated). */
export interface AdamOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  /**
   * Added to √v̂. 1e-8 by default; in a 16-bit state format it underflows (FP16's smallest
   * subnormal is 6e-8), so standalone-FP16 recipes set something like 1e-4.
   */
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly decay?: DecayFilter;
}

/** Adam: weight decay is added to the gradient (L2). State sites `<param>.m`, `<param>.v`. */
export function adam(params: readonly Tensor[], options: AdamOptions = {}): Optimizer {
  return adamFamily("adam", params, options, false);
}

/** AdamW: weight decay shrinks the weights directly, w ← w − lr·λ·w, outside the adaptive step. */
export function adamW(params: readonly Tensor[], options: AdamOptions = {}): Optimizer {
  return adamFamily("adamW", params, { weightDecay: 0.01, ...options }, true);
}

function adamFamily(op: string, params: readonly Tensor[], options: AdamOptions, decoupled: boolean): Optimizer {
  checkParams(op, params);
  const b1 = options.beta1 ?? 0.9;
  const b2 = options.beta2 ?? 0.999;
  const eps = options.eps ?? 1e-8;
  const wd = options.weightDecay ?? 0;
  const decay = options.decay ?? (() => true);
  if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new RangeError(`${op}: betas must be in [0, 1), got ${b1}, ${b2}`);
  if (!(eps > 0)) throw new RangeError(`${op}: eps must be positive, got ${eps}`);
  const m = params.map((p) => zerosLike(p.data));
  const v = params.map((p) => zerosLike(p.data));
  let t = 0;
  const state = (): OptimizerState => ({
    buffers: Object.fromEntries(params.flatMap((p, i) => [[`${p.name}.m`, m[i]], [`${p.name}.v`, v[i]]])),
    counters: { t },
  });
  return {
    params,
    state,
    restore: (saved) => restoreState(op, state(), saved, (_, value) => (t = value)),
    zeroGrad: () => zeroGrad(params),
    step(lr: number, precision: Precision): void {
      t++;
      const c1 = 1 - Math.pow(b1, t);
      const c2 = 1 - Math.pow(b2, t);
      params.forEach((p, idx) => {
        const g = p.grad;
        if (g === null) return;
        const w = p.data;
        const mi = m[idx];
        const vi = v[idx];
        const lam = decay(p) ? wd : 0;
        const l2 = decoupled ? 0 : lam;
        for (let i = 0; i < w.length; i++) {
          const gi = g[i] + l2 * w[i];
          mi[i] = b1 * mi[i] + (1 - b1) * gi;
          vi[i] = b2 * vi[i] + (1 - b2) * gi * gi;
        }
        quantizeState(precision, mi, `${p.name}.m`);
        quantizeState(precision, vi, `${p.name}.v`);
        const shrink = decoupled ? 1 - lr * lam : 1;
        for (let i = 0; i < w.length; i++) {
          w[i] = w[i] * shrink - (lr * (mi[i] / c1)) / (Math.sqrt(vi[i] / c2) + eps);
        }
        writeMaster(precision, p);
      });
    },
  };
}
