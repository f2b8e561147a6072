// The calls of a numforge kernel package, shared by its synchronous entry (index.js) and its
// WebGPU entry (wgsl/index.js): every argument is checked here, before any kernel runs, and each
// operation is returned as the plan to run with its bindings, plus `finish`, which shapes the
// plan's result into what the API returns. Running it (now, or on a GPU later) is the entry's.
import { format, plans } from "./format.js";

/** The typed array holding this format's codes. */
export const CODE_ARRAY = format.bits <= 8 ? Uint8Array : format.bits <= 16 ? Uint16Array : Uint32Array;

/** A short description of a value for error messages ("Uint16Array(4)", "Array", "null"). */
export function describe(value) {
  if (value === null) return "null";
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.length})`;
  return typeof value === "object" ? value.constructor?.name ?? "object" : typeof value;
}

/**
 * A tensor kept in the kernels' memory across calls (the entry's `resident(array)`): pass it as
 * encode's x or out, decode's codes or out, or fakeQuantize's x or out, and the kernels read or
 * write it where it lies — no copy in or out for it. read() copies it out, write() copies new
 * contents in, release() frees its memory (the handle is refused afterwards). `slot` is the
 * backend's: { offset (a byte offset in the kernels' memory, or undefined where the array is
 * passed as is), view(), read(out), write(array), release() }.
 */
export class Resident {
  constructor(Type, length, owner, slot) {
    this.Type = Type;
    this.length = length;
    this.owner = owner;
    this.slot = slot;
    this.released = false;
  }

  /** The contents, copied into `out` (or a new array of the handle's type). */
  read(out) {
    this.#expectLive("read");
    const into = expectOut("read: out", out, this.Type, this.length);
    this.slot.read(into);
    return into;
  }

  /** Copies `array` (the handle's type and length) in. */
  write(array) {
    this.#expectLive("write");
    if (this.Type === CODE_ARRAY) expectCodes("write: array", array);
    else expectFloat32("write: array", array);
    if (array.length !== this.length) throw new RangeError(`write: array holds ${array.length} elements; the resident array holds ${this.length}`);
    this.slot.write(array);
  }

  /** Frees the kernels' memory holding it. */
  release() {
    if (this.released) return;
    this.released = true;
    this.slot.release();
  }

  #expectLive(what) {
    if (this.released) throw new TypeError(`${what}: the resident array was released`);
  }
}

/** The typed array a resident handle is a copy of: Float32Array, or this format's codes. */
export function residentCall(array) {
  if (!(array instanceof Float32Array) && !(array instanceof CODE_ARRAY))
    throw new TypeError(`resident: takes a Float32Array or a ${CODE_ARRAY.name} of ${format.name} codes (got ${describe(array)})`);
  if (array instanceof CODE_ARRAY) expectCodes("resident: array", array);
  return { Type: array instanceof Float32Array ? Float32Array : CODE_ARRAY, array };
}

function expectResident(name, value, Type) {
  if (value.released) throw new TypeError(`${name} was released (a resident array cannot be used after release())`);
  if (value.Type !== Type) throw new TypeError(`${name} must hold a ${Type.name}${Type === CODE_ARRAY ? ` of ${format.name} codes` : ""} (got a resident ${value.Type.name})`);
}

function expectFloat32(name, value) {
  if (value instanceof Resident) return expectResident(name, value, Float32Array);
  if (!(value instanceof Float32Array)) throw new TypeError(`${name} must be a Float32Array (got ${describe(value)})`);
}

function expectCodes(name, value) {
  if (value instanceof Resident) return expectResident(name, value, CODE_ARRAY);
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
  if (out instanceof Resident) expectResident(name, out, Type);
  else if (!(out instanceof Type)) throw new TypeError(`${name} must be a ${Type.name} (got ${describe(out)})`);
  if (out.length !== length) throw new RangeError(`${name} holds ${out.length} elements; ${length} are needed`);
  return out;
}

/**
 * A call's bindings with resident handles replaced by views of their memory, and where those lie
 * (`placed`: buffer name → byte offset, for runners that keep buffers resident). A handle may not
 * be both the input and the output: the kernels would read what they already wrote.
 */
function bound(op, named) {
  const bindings = { ...op.bindings };
  const placed = new Map();
  const residents = [];
  for (const [buffer, value] of Object.entries(named)) {
    if (!(value instanceof Resident)) continue;
    if (residents.includes(value)) throw new TypeError(`${op.name}: the same resident array is both the input and the output; pass another for out`);
    residents.push(value);
    bindings[buffer] = value.slot.view();
    if (value.slot.offset !== undefined) placed.set(buffer, value.slot.offset);
  }
  return { ...op, bindings, placed, residents };
}

/**
 * The call of an operation on n elements: `shape: [rows, cols]` (or `channels: rows`) lays them out
 * as a row-major matrix, default one row; `blockAxis` (0 | 1, default 1) is the axis 1-D scale
 * blocks run along; `seed` keys stochastic rounding.
 */
function callOf(n, options = {}) {
  if (options.shape !== undefined && options.channels !== undefined) throw new TypeError("give shape or channels, not both");
  let channels = options.channels ?? 1;
  if (options.shape !== undefined) {
    const [rows, cols] = Array.isArray(options.shape) ? options.shape : [];
    if (options.shape.length !== 2 || !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 0 || rows * cols !== n)
      throw new RangeError(`shape must be [rows, cols] with rows·cols = ${n} elements (got ${JSON.stringify(options.shape)})`);
    channels = rows;
  }
  if (!Number.isInteger(channels) || channels < 1 || n % channels !== 0) throw new RangeError(`channels = ${channels} must be a positive integer dividing the ${n} elements`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32) (got ${seed})`);
  const blockAxis = options.blockAxis ?? 1;
  if (blockAxis !== 0 && blockAxis !== 1) throw new RangeError(`blockAxis must be 0 or 1 (got ${JSON.stringify(blockAxis)})`);
  return { n, channels, seed, blockAxis };
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

/** Copies a plan's output into the caller's array, unless the runner already wrote it there (always, for a resident array). */
function copyUnlessSame(out, result) {
  if (out instanceof Resident) {
    // A runner without offsets (JS) wrote the view it was given: the handle's own array.
    if (out.slot.offset === undefined && result !== out.slot.view()) out.slot.write(result);
    return;
  }
  if (result !== out) out.set(result);
}

const metaOf = (call, result) => ({ kind: format.scaling.kind, n: call.n, channels: call.channels, blockAxis: call.blockAxis, buffers: result.meta });

/** encode(x, out?, options?): `{ codes, meta, state }` once finished. */
export function encodeCall(x, out, options) {
  expectFloat32("encode: x", x);
  const call = callOf(x.length, options);
  const codes = expectOut("encode: out", out, CODE_ARRAY, x.length);
  return bound({
    name: "encode",
    plan: plans.encode,
    // The output is bound, so the runner writes the codes into it (no second array, no second copy).
    bindings: { x, ...stateBuffers(options?.state), codes },
    call,
    finish: (result) => {
      copyUnlessSame(codes, result.outputs.codes);
      return { codes, meta: metaOf(call, result), state: { buffers: result.state } };
    },
  }, { x, codes });
}

/** decode(codes, meta?, out?): a Float32Array once finished. */
export function decodeCall(codes, meta, out) {
  expectCodes("decode: codes", codes);
  const call = callOf(codes.length, { channels: meta?.channels ?? 1, blockAxis: meta?.blockAxis ?? 1 });
  const values = expectOut("decode: out", out, Float32Array, codes.length);
  return bound({
    name: "decode",
    plan: plans.decode,
    bindings: { ...metaBuffers(meta, codes.length), codes, values },
    call,
    finish: (result) => {
      copyUnlessSame(values, result.outputs.values);
      return values;
    },
  }, { codes, values });
}

/** fakeQuantize(x, out?, state?, options?): `{ values, meta, state }` once finished. */
export function fakeQuantizeCall(x, out, state, options) {
  expectFloat32("fakeQuantize: x", x);
  const call = callOf(x.length, options);
  const values = expectOut("fakeQuantize: out", out, Float32Array, x.length);
  return bound({
    name: "fakeQuantize",
    plan: plans.fakeQuantize,
    bindings: { x, ...stateBuffers(state), values },
    call,
    finish: (result) => {
      copyUnlessSame(values, result.outputs.values);
      return { values, meta: metaOf(call, result), state: { buffers: result.state } };
    },
  }, { x, values });
}

function operandKind(value, name) {
  if (value instanceof Float32Array) return "f";
  if (value instanceof CODE_ARRAY) return "c";
  throw new TypeError(`gemm: ${name} must be a Float32Array or a ${CODE_ARRAY.name} of ${format.name} codes (got ${describe(value)})`);
}

/**
 * B prepared once for many GEMMs (prepareB): the operand, its metadata and layout, and where the
 * backend keeps it (resident: { offset, kind: "f" | "c", release }, or null to pass `b` itself).
 */
export class PreparedB {
  constructor(b, k, n, transB, metaB, resident) {
    this.b = b;
    this.k = k;
    this.n = n;
    this.transB = transB;
    this.metaB = metaB;
    this.resident = resident;
    this.released = false;
  }

  /** Frees the backend memory holding B; the handle may not be used afterwards. */
  release() {
    if (this.released) return;
    this.released = true;
    this.resident?.release();
  }
}

/** prepareB(b, { k, n, transB?, meta? }): the checked operand and layout, before the backend keeps it. */
export function prepareBCall(b, options) {
  if (options === null || typeof options !== "object") throw new TypeError(`prepareB: takes (b, { k, n, transB?, meta? }) (got ${describe(options)} as options)`);
  for (const key of Object.keys(options)) {
    if (!["k", "n", "transB", "meta"].includes(key)) throw new TypeError(`prepareB: unknown option "${key}"; the options are k, n, transB, meta`);
  }
  const { k, n, transB = false, meta } = options;
  dimension("k", k);
  dimension("n", n);
  flag("transB", transB);
  operandKind(b, "b");
  if (b.length < k * n) throw new RangeError(`prepareB: b holds ${b.length} elements but k·n = ${k * n}`);
  return { b, k, n, transB, meta };
}

/** gemm's parameters with a PreparedB in `b` replaced by its operand (its k, n and transB checked against the call's). */
export function unwrapPrepared(params) {
  if (params === null || typeof params !== "object" || !(params.b instanceof PreparedB)) return { params, prepared: null };
  const prepared = params.b;
  if (prepared.released) throw new TypeError("gemm: b was released (prepareB's handle cannot be used after release())");
  if (params.k !== prepared.k || params.n !== prepared.n) throw new RangeError(`gemm: b was prepared for k = ${prepared.k}, n = ${prepared.n}; this call has k = ${shown(params.k)}, n = ${shown(params.n)}`);
  if (params.transB !== undefined && params.transB !== prepared.transB) throw new TypeError(`gemm: b was prepared with transB = ${prepared.transB}; leave transB out or pass the same`);
  if (params.metaB !== undefined) throw new TypeError("gemm: b was prepared with its meta; leave metaB out");
  return { params: { ...params, b: prepared.b, transB: prepared.transB, ...(prepared.metaB === undefined ? {} : { metaB: prepared.metaB }) }, prepared };
}

const GEMM_PARAMS = ["a", "b", "c", "m", "n", "k", "transA", "transB", "alpha", "beta", "metaA", "metaB"];

/** A value as an error message shows it: strings quoted, so "false" is not read as false. */
const shown = (value) => (typeof value === "string" ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value === "number" || typeof value === "boolean" || value === undefined ? String(value) : describe(value));

/** transA / transB: a boolean, since a string such as "false" is truthy and would transpose. */
function flag(name, value) {
  if (typeof value !== "boolean") throw new TypeError(`gemm: ${name} must be true or false (got ${shown(value)})`);
}

function scalar(name, value) {
  if (typeof value !== "number") throw new TypeError(`gemm: ${name} must be a number (got ${shown(value)})`);
}

function dimension(name, value) {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`gemm: ${name} must be a non-negative integer (got ${shown(value)})`);
  return value;
}

/**
 * gemm's arguments, checked, with the variant to run among `variants` (by operand kinds "cc",
 * "cf", "fc", "ff"): a code operand without a variant of its own (scaled formats), or ShiftQuant
 * codes whose metadata does not have one channel per lane, is to be dequantized with its
 * metadata first (decodeA / decodeB), then multiplied in float32.
 */
export function gemmCall(params, variants) {
  if (params === null || typeof params !== "object") throw new TypeError(`gemm: takes one object { a, b, c, m, n, k, ... } (got ${describe(params)})`);
  for (const key of Object.keys(params)) {
    if (!GEMM_PARAMS.includes(key)) throw new TypeError(`gemm: unknown parameter "${key}"; the parameters are ${GEMM_PARAMS.join(", ")}`);
  }
  const { a, b, c, m, n, k, transA = false, transB = false, alpha = 1, beta = 0, metaA, metaB } = params;
  flag("transA", transA);
  flag("transB", transB);
  scalar("alpha", alpha);
  scalar("beta", beta);
  dimension("m", m);
  dimension("n", n);
  dimension("k", k);
  if (!(c instanceof Float32Array)) throw new TypeError(`gemm: c must be a Float32Array (got ${describe(c)})`);
  let kindA = operandKind(a, "a");
  let kindB = operandKind(b, "b");
  if (a.length < m * k) throw new RangeError(`gemm: a holds ${a.length} elements but m·k = ${m * k}`);
  if (b.length < k * n) throw new RangeError(`gemm: b holds ${b.length} elements but k·n = ${k * n}`);
  if (c.length < m * n) throw new RangeError(`gemm: c holds ${c.length} elements but m·n = ${m * n}`);
  // ShiftQuant codes (a cc variant with lane-group parameters) multiply as integers only when
  // their metadata has one channel per lane of the product: A stored m×k (encoded with
  // channels = m), B stored n×k with transB (channels = n). Otherwise both are dequantized.
  const laneGroups = variants.cc?.params?.includes("a_channel_group") === true;
  const lanesFit = (meta, lanes, laneMajor) => laneMajor && meta?.kind === format.scaling.kind && meta.channels === lanes && meta.n === lanes * k;
  const shiftCodes = laneGroups && kindA === "c" && kindB === "c" && lanesFit(metaA, m, !transA) && lanesFit(metaB, n, transB);
  const decodeA = kindA === "c" && (variants[`c${kindB}`] === undefined || (laneGroups && !shiftCodes));
  if (decodeA) kindA = "f";
  const decodeB = kindB === "c" && variants[`${kindA}c`] === undefined;
  if (decodeB) kindB = "f";
  const variant = variants[`${kindA}${kindB}`];
  if (variant.maxK !== null && k > variant.maxK) throw new RangeError(`gemm: k = ${k} exceeds ${variant.maxK}, the depth up to which the integer accumulation is exact`);
  return { a, b, c, m, n, k, transA: transA ? 1 : 0, transB: transB ? 1 : 0, alpha, beta, metaA, metaB, decodeA, decodeB, variant };
}
