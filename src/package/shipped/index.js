// numforge kernel package entry. Generated packages ship this file unchanged: the format data and
// the plans come from ./format.js, the kernels from the first target whose backend loads here.
// The API is the same for every target; every argument is checked before any kernel runs.
import { format, plans, gemmKernels, targets } from "./format.js";
import { runPlan } from "./run-plan.js";

const CODE_ARRAY = format.bits <= 8 ? Uint8Array : format.bits <= 16 ? Uint16Array : Uint32Array;

async function loadBackend() {
  const reasons = [];
  for (const target of targets) {
    try {
      const module = await import(`./${target}/backend.js`);
      const backend = await module.create();
      if (backend !== null) return backend;
      reasons.push(`${target}: not available in this engine`);
    } catch (error) {
      reasons.push(`${target}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no usable backend for ${format.name}: ${reasons.join("; ")}`);
}

const backend = await loadBackend();

export { format };
/** The target whose kernels run here ("wasm" when the engine has WebAssembly SIMD, else "js"). */
export const target = backend.name;

function describe(value) {
  if (value === null) return "null";
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.length})`;
  return typeof value === "object" ? value.constructor?.name ?? "object" : typeof value;
}

function expectFloat32(name, value) {
  if (!(value instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array (got ${describe(value)})`);
}

function expectCodes(name, value) {
  if (!(value instanceof CODE_ARRAY)) throw new TypeError(`${name} must be a ${CODE_ARRAY.name} of ${format.name} codes (got ${describe(value)})`);
  const limit = 2 ** format.bits;
  if (format.bits < 8 || (format.bits > 8 && format.bits < 16)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] >= limit) throw new RangeError(`${name}[${i}] = ${value[i]} is not a ${format.bits}-bit code`);
    }
  }
}

function expectOut(name, out, Type, length) {
  if (out === undefined) return new Type(length);
  if (!(out instanceof Type)) throw new TypeError(`${name} must be a ${Type.name} (got ${describe(out)})`);
  if (out.length !== length) throw new RangeError(`${name} holds ${out.length} elements; ${length} are needed`);
  return out;
}

function callOf(n, options = {}) {
  const channels = options.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1 || n % channels !== 0) throw new RangeError(`channels = ${channels} must be a positive integer dividing the ${n} elements`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32) (got ${seed})`);
  return { n, channels, seed };
}

/** The metadata encode returned, checked to belong to this format and tensor. */
function metaBuffers(meta, n) {
  if (format.scaling.kind === "none") return {};
  if (meta?.kind !== format.scaling.kind || typeof meta.buffers !== "object") throw new TypeError(`decode: meta must be the ${format.scaling.kind} metadata returned by encode`);
  if (meta.n !== n) throw new RangeError(`decode: meta describes ${meta.n} elements but codes holds ${n}`);
  return meta.buffers;
}

/** Delayed-scaling state from the previous call; runPlan starts afresh when it does not fit the tensor. */
function stateBuffers(state) {
  return state?.buffers ?? {};
}

/** Encodes a float32 tensor: `{ codes, meta }` (meta holds the scaling kind's metadata). */
export function encode(x, out, options) {
  expectFloat32("encode: x", x);
  const call = callOf(x.length, options);
  const codes = expectOut("encode: out", out, CODE_ARRAY, x.length);
  const result = runPlan(plans.encode, backend.kernels, { x, ...stateBuffers(options?.state) }, call);
  codes.set(result.outputs.codes);
  return { codes, meta: { kind: format.scaling.kind, n: call.n, channels: call.channels, buffers: result.meta }, state: { buffers: result.state } };
}

/** Decodes codes with the meta encode returned: a Float32Array. */
export function decode(codes, meta, out) {
  expectCodes("decode: codes", codes);
  const call = callOf(codes.length, { channels: meta?.channels ?? 1 });
  const values = expectOut("decode: out", out, Float32Array, codes.length);
  values.set(runPlan(plans.decode, backend.kernels, { ...metaBuffers(meta, codes.length), codes }, call).outputs.values);
  return values;
}

/** The values x takes when stored in the format: `{ values, meta, state }`; pass state to the next call. */
export function fakeQuantize(x, out, state, options) {
  expectFloat32("fakeQuantize: x", x);
  const call = callOf(x.length, options);
  const values = expectOut("fakeQuantize: out", out, Float32Array, x.length);
  const result = runPlan(plans.fakeQuantize, backend.kernels, { x, ...stateBuffers(state) }, call);
  values.set(result.outputs.values);
  return { values, meta: { kind: format.scaling.kind, n: call.n, channels: call.channels, buffers: result.meta }, state: { buffers: result.state } };
}



const OPERAND_KIND = (value, name) => {
  if (value instanceof Float32Array) return "f";
  if (value instanceof CODE_ARRAY) return "c";
  throw new TypeError(`gemm: ${name} must be a Float32Array or a ${CODE_ARRAY.name} of ${format.name} codes (got ${describe(value)})`);
};

function dimension(name, value) {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`gemm: ${name} must be a non-negative integer (got ${value})`);
  return value;
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
export function gemm({ a, b, c, m, n, k, transA = false, transB = false, alpha = 1, beta = 0, metaA, metaB }) {
  dimension("m", m);
  dimension("n", n);
  dimension("k", k);
  if (!(c instanceof Float32Array)) throw new TypeError(`gemm: c must be a Float32Array (got ${describe(c)})`);
  let kindA = OPERAND_KIND(a, "a");
  let kindB = OPERAND_KIND(b, "b");
  if (a.length < m * k) throw new RangeError(`gemm: a holds ${a.length} elements but m·k = ${m * k}`);
  if (b.length < k * n) throw new RangeError(`gemm: b holds ${b.length} elements but k·n = ${k * n}`);
  if (c.length < m * n) throw new RangeError(`gemm: c holds ${c.length} elements but m·n = ${m * n}`);
  if (typeof alpha !== "number" || typeof beta !== "number") throw new TypeError("gemm: alpha and beta must be numbers");
  const variants = gemmKernels[backend.name];
  // Scaled code operands are dequantized with their metadata, then multiplied in float32.
  if (kindA === "c" && variants[`c${kindB}`] === undefined) {
    a = decode(a, metaA);
    kindA = "f";
  }
  if (kindB === "c" && variants[`${kindA}c`] === undefined) {
    b = decode(b, metaB);
    kindB = "f";
  }
  const variant = variants[`${kindA}${kindB}`];
  if (variant.maxK !== null && k > variant.maxK) throw new RangeError(`gemm: k = ${k} exceeds ${variant.maxK}, the depth up to which the integer accumulation is exact`);
  const shape = { m, n, k };
  const scalars = { a, b, c, m, n, k, transA: transA ? 1 : 0, transB: transB ? 1 : 0, alpha, beta };
  const args = variant.params.map((name) => {
    if (name in scalars) return scalars[name];
    const scratch = variant.scratch.find((s) => s.name === name);
    if (scratch === undefined) throw new Error(`gemm: internal: no value for parameter ${name}`);
    return new (scratch.storage === "f32" ? Float32Array : Int32Array)(scratchLength(scratch, shape, variant.kc));
  });
  backend.kernels[variant.kernel](...args);
  return c;
}
