// numforge kernel package entry. Generated packages ship this file unchanged: the format data and
// the plans come from ./format.js, the kernels from the first backend (./backends.js lists the
// package's targets fastest first) that is usable in this engine. Everything here is synchronous
// (no top-level await), so the package can be imported, and required where Node requires ES
// modules (20.19+, 22.12+). The API is the same for every target; every argument is checked
// (calls.js) before any kernel runs. createKernels({ threads }) gives the same API on several
// threads (asynchronous to start, synchronous to call). WebGPU kernels, when the package has
// them, are asynchronous: see ./wgsl/index.js.
import { format, gemmKernels } from "./format.js";
import { backends } from "./backends.js";
import { runPlan } from "./run-plan.js";
import { PreparedB, Resident, decodeCall, encodeCall, fakeQuantizeCall, gemmCall, prepareBCall, residentCall, unwrapPrepared } from "./calls.js";

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

function scratchLength(buffer, shape, kc) {
  if (buffer.needed === "k>kc" && shape.k <= kc) return 1;
  let length = 1;
  for (const f of buffer.factors) {
    const rounded = Math.ceil(shape[f.dim] / f.multiple) * f.multiple;
    length *= f.block === null ? rounded : Math.min(f.block, rounded);
  }
  return Math.max(1, length);
}

/** The package's functions over one backend (the synchronous entry's, or a threaded one's). */
function apiOf(backend) {
  const planRunner = backend.runPlan ?? ((plan, bindings, call) => runPlan(plan, backend.kernels, bindings, call));
  /** Whose resident arrays these calls take: each kernels object (and the package root) its own. */
  const owner = {};
  const run = (op) => {
    if (op.residents.some((r) => r.owner !== owner)) throw new TypeError(`${op.name}: a resident array belongs to the kernels that made it (another createKernels or the package root)`);
    return op.finish(planRunner(op.plan, op.bindings, op.call, op.placed));
  };
  /** The JS target's resident array: its own copy, passed to the kernels as is. */
  const ownCopy = (array) => {
    const own = array.slice();
    return { offset: undefined, view: () => own, read: (out) => out.set(own), write: (source) => own.set(source), release: () => {} };
  };
  const resident = (array) => {
    const { Type, array: checked } = residentCall(array);
    return new Resident(Type, checked.length, owner, backend.residentSlot?.(checked) ?? ownCopy(checked));
  };
  const encode = (x, out, options) => run(encodeCall(x, out, options));
  const decode = (codes, meta, out) => run(decodeCall(codes, meta, out));
  const fakeQuantize = (x, out, state, options) => run(fakeQuantizeCall(x, out, state, options));
  const variants = gemmKernels[backend.name];

  /** A ShiftQuant variant's a_NAME / b_NAME parameters: the lane-group buffers of that operand's metadata. */
  const laneMeta = (variant, g) => {
    const extra = {};
    for (const name of variant.params) {
      const meta = name.startsWith("a_") ? g.metaA : name.startsWith("b_") ? g.metaB : null;
      if (meta !== null && meta?.buffers[name.slice(2)] !== undefined) extra[name] = meta.buffers[name.slice(2)];
    }
    return extra;
  };

  const gemm = (input) => {
    const { params, prepared } = unwrapPrepared(input);
    const g = gemmCall(params, variants);
    const { variant } = g;
    const extra = laneMeta(variant, g);
    // A prepared B is used where it is what this call multiplies: float32 when B is float32 or the call decodes it, else codes.
    const multiplies = g.decodeB || g.b instanceof Float32Array ? "f" : "c";
    const residentB = prepared?.resident !== null && prepared?.resident !== undefined && prepared.resident.kind === multiplies && Object.keys(extra).every((name) => !name.startsWith("b_")) ? prepared.resident : null;
    const a = g.decodeA ? decode(g.a, g.metaA) : g.a;
    if (backend.gemm !== undefined) {
      const b = residentB !== null ? null : g.decodeB ? decode(g.b, g.metaB) : g.b;
      backend.gemm(g, a, b, residentB?.offset, extra);
      return g.c;
    }
    const b = g.decodeB ? decode(g.b, g.metaB) : g.b;
    const shape = { m: g.m, n: g.n, k: g.k };
    const scalars = { a, b, c: g.c, m: g.m, n: g.n, k: g.k, transA: g.transA, transB: g.transB, alpha: g.alpha, beta: g.beta };
    const args = variant.params.map((name) => {
      if (name in scalars) return scalars[name];
      if (extra[name] !== undefined) return extra[name];
      const scratch = variant.scratch.find((s) => s.name === name);
      if (scratch === undefined) throw new Error(`gemm: internal: no value for parameter ${name}`);
      return new (scratch.storage === "f32" ? Float32Array : Int32Array)(scratchLength(scratch, shape, variant.kc));
    });
    backend.kernels[variant.kernel](...args);
    return g.c;
  };

  const prepareB = (b, options) => {
    const p = prepareBCall(b, options);
    let resident = null;
    if (backend.keep !== undefined) {
      // Kept as the GEMM will multiply it: codes where a code variant takes them, else decoded to float32 once.
      const kind = b instanceof Float32Array ? "f" : variants.fc !== undefined || variants.cc !== undefined ? "c" : "f";
      const operand = kind === "c" || b instanceof Float32Array ? b.subarray(0, p.k * p.n) : decode(b, p.meta).subarray(0, p.k * p.n);
      resident = { ...backend.keep(operand), kind: b instanceof Float32Array ? "f" : kind };
    }
    return new PreparedB(p.b, p.k, p.n, p.transB, p.meta, resident);
  };

  return { encode, decode, fakeQuantize, gemm, prepareB, resident };
}

const backend = loadBackend();
const api = apiOf(backend);

export { format };
/** The target whose kernels run here ("wasm" when the engine has WebAssembly SIMD, else "js"). */
export const target = backend.name;

/** Encodes a float32 tensor: `{ codes, meta }` (meta holds the scaling kind's metadata). */
export const encode = api.encode;

/** Decodes codes with the meta encode returned: a Float32Array. */
export const decode = api.decode;

/** The values x takes when stored in the format: `{ values, meta, state }`; pass state to the next call. */
export const fakeQuantize = api.fakeQuantize;

/**
 * C = α·op(A)·op(B) + β·C, row-major; op transposes when transA / transB. A and B are Float32Arrays
 * or code arrays of this format (with metaA / metaB from encode for scaled formats); B may be a
 * handle from prepareB.
 */
export const gemm = api.gemm;

/** B kept in the kernels' memory for many gemm calls (a snapshot of b now): pass the handle as gemm's b; release() frees it. */
export const prepareB = api.prepareB;

/**
 * A copy of `array` (float32 values or this format's codes) kept in the kernels' memory: pass it as
 * x, codes or out of encode / decode / fakeQuantize and it is used where it lies, with no copy in
 * or out. read() copies it out, write(array) in, release() frees it.
 */
export const resident = api.resident;

/**
 * The same API on `threads` threads (wasm on shared memory: worker_threads in Node, Web Workers
 * in cross-origin-isolated pages). Resolves to { ...api, target, threads, note, close }: `threads`
 * is how many run, `note` says why it is one where more were asked (null otherwise),
 * `splitCalls()` how many calls so far ran on more than one thread (small ones stay on one).
 */
export async function createKernels(options = {}) {
  if (options === null || typeof options !== "object") throw new TypeError(`createKernels: takes { threads } (got ${options === null ? "null" : typeof options})`);
  for (const key of Object.keys(options)) {
    if (key !== "threads") throw new TypeError(`createKernels: unknown option "${key}"; the option is threads`);
  }
  const wanted = options.threads ?? 1;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 256) throw new RangeError(`createKernels: threads must be an integer in [1, 256] (got ${String(wanted)})`);
  const threadedModule = backends.find(([name]) => name === backend.name)?.[1];
  if (wanted === 1 || threadedModule?.createThreaded === undefined) {
    const note = wanted === 1 ? null : `one thread: the ${backend.name} target runs on one thread`;
    return { ...apiOf(backend), target: backend.name, threads: 1, note, splitCalls: () => 0, close: async () => undefined };
  }
  const { backend: threaded, note } = await threadedModule.createThreaded(wanted, /^stochastic/.test(format.rounding?.mode ?? ""));
  return { ...apiOf(threaded), target: threaded.name, threads: threaded.threads ?? 1, note, splitCalls: () => threaded.splitCalls?.() ?? 0, close: async () => threaded.close?.() };
}
