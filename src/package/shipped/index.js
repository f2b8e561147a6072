// numforge kernel package entry. Generated packages ship this file unchanged: the format data and
// the plans come from ./format.js, the kernels from the first backend (./backends.js lists the
// package's targets fastest first) that is usable in this engine. Everything here is synchronous
// (no top-level await), so the package can be imported, and required where Node requires ES
// modules (20.19+, 22.12+). The API is the same for every target; every argument is checked
// (calls.js) before any kernel runs. WebGPU kernels, when the package has them, are
// asynchronous: see ./wgsl/index.js.
import { format, gemmKernels } from "./format.js";
import { backends } from "./backends.js";
import { runPlan } from "./run-plan.js";
import { decodeCall, encodeCall, fakeQuantizeCall, gemmCall } from "./calls.js";

function loadBackend() {
  const reasons = [];
  for (const [target, module] of backends) {
    try {
      const backend = module.create();
      if (backend !== null) return backend;
      reasons.push(`${target}: not available in this engine`);
    } catch (error) {
      reasons.push(`${target}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no usable backend for ${format.name}: ${reasons.join("; ")}`);
}

const backend = loadBackend();

export { format };
/** The target whose kernels run here ("wasm" when the engine has WebAssembly SIMD, else "js"). */
export const target = backend.name;

const run = (op) => op.finish(runPlan(op.plan, backend.kernels, op.bindings, op.call));

/** Encodes a float32 tensor: `{ codes, meta }` (meta holds the scaling kind's metadata). */
export function encode(x, out, options) {
  return run(encodeCall(x, out, options));
}

/** Decodes codes with the meta encode returned: a Float32Array. */
export function decode(codes, meta, out) {
  return run(decodeCall(codes, meta, out));
}

/** The values x takes when stored in the format: `{ values, meta, state }`; pass state to the next call. */
export function fakeQuantize(x, out, state, options) {
  return run(fakeQuantizeCall(x, out, state, options));
}

function scratchLength(buffer, shape, kc) {
  if (buffer.needed === "k>kc" && shape.k <= kc) return 1;
  let length = 1;
  for (const f of buffer.factors) {
    const rounded = Math.ceil(shape[f.dim] / f.multiple) * f.multiple;
    length *= f.block === null ? rounded : Math.min(f.block, rounded);
  }
  return Math.max(1, length);
}

/**
 * C = α·op(A)·op(B) + β·C, row-major; op transposes when transA / transB. A and B are Float32Arrays
 * or code arrays of this format (with metaA / metaB from encode for scaled formats).
 */
export function gemm(params) {
  const g = gemmCall(params, gemmKernels[backend.name]);
  const a = g.decodeA ? decode(g.a, g.metaA) : g.a;
  const b = g.decodeB ? decode(g.b, g.metaB) : g.b;
  const { variant } = g;
  const shape = { m: g.m, n: g.n, k: g.k };
  const scalars = { a, b, c: g.c, m: g.m, n: g.n, k: g.k, transA: g.transA, transB: g.transB, alpha: g.alpha, beta: g.beta };
  const args = variant.params.map((name) => {
    if (name in scalars) return scalars[name];
    // a_NAME / b_NAME: buffer NAME of that operand's metadata (ShiftQuant lane groups).
    const meta = name.startsWith("a_") ? g.metaA : name.startsWith("b_") ? g.metaB : null;
    if (meta !== null && meta.buffers[name.slice(2)] !== undefined) return meta.buffers[name.slice(2)];
    const scratch = variant.scratch.find((s) => s.name === name);
    if (scratch === undefined) throw new Error(`gemm: internal: no value for parameter ${name}`);
    return new (scratch.storage === "f32" ? Float32Array : Int32Array)(scratchLength(scratch, shape, variant.kc));
  });
  backend.kernels[variant.kernel](...args);
  return g.c;
}
