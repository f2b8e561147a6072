/** Central finite-difference gradient checks on the float64 path (test helper, not a test file). */
import { createReferenceBackend } from "../../src/runtime/backends/reference.ts";
import { trainContext, type Ctx } from "../../src/runtime/context.ts";
import { identityPrecision, type Precision } from "../../src/runtime/precision.ts";
import { Rng } from "../../src/runtime/random.ts";
import { parameter, Tensor } from "../../src/runtime/tensor.ts";

export const backend = createReferenceBackend();

/** A float64 tensor of uniform(−1, 1) values that requires grad. */
export function randParam(name: string, shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed).fork(name);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = (2 * rng.uniform() - 1) * scale;
  return parameter(name, shape, data);
}

export interface GradCheckResult {
  /** max over inputs of ‖analytic − numeric‖∞ / max(‖numeric‖∞, 1e-3). */
  readonly maxRelError: number;
  readonly perInput: Record<string, number>;
}

export interface GradCheckOptions {
  readonly h?: number;
  /** Check only this many randomly chosen elements of each input (all when absent). */
  readonly sample?: number;
  readonly training?: boolean;
  readonly precision?: Precision;
}

/**
 * Compares the tape's gradients of L = Σ R ⊙ f(inputs) (R fixed random) against central
 * differences (L(x + h) − L(x − h)) / 2h, element by element.
 */
export function gradCheck(f: (ctx: Ctx) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): GradCheckResult {
  const h = options.h ?? 1e-5;
  const training = options.training ?? true;
  const precision = options.precision ?? identityPrecision;
  for (const t of inputs) t.grad = null;
  const ctx = { ...trainContext(backend, precision), training };
  const out = f(ctx);
  const rng = new Rng(12345);
  const r = new Float64Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = 2 * rng.uniform() - 1;
  ctx.tape.backward(out, r);
  const plain: Ctx = { backend, precision, tape: null, training };
  const loss = (): number => {
    const y = f(plain).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += r[i] * y[i];
    return s;
  };
  const perInput: Record<string, number> = {};
  let maxRelError = 0;
  for (const t of inputs) {
    const analytic = t.grad;
    if (analytic === null) throw new Error(`gradCheck: ${t.name} received no gradient`);
    const idx = options.sample && options.sample < t.size
      ? Array.from({ length: options.sample }, () => rng.int(t.size))
      : Array.from({ length: t.size }, (_, i) => i);
    let maxDiff = 0;
    let maxNum = 0;
    for (const i of idx) {
      const keep = t.data[i];
      t.data[i] = keep + h;
      const up = loss();
      t.data[i] = keep - h;
      const down = loss();
      t.data[i] = keep;
      const numeric = (up - down) / (2 * h);
      maxDiff = Math.max(maxDiff, Math.abs(numeric - analytic[i]));
      maxNum = Math.max(maxNum, Math.abs(numeric));
    }
    const rel = maxDiff / Math.max(maxNum, 1e-3);
    perInput[t.name] = rel;
    maxRelError = Math.max(maxRelError, rel);
  }
  return { maxRelError, perInput };
}
