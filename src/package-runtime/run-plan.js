/**
 * Runs one plan of a numforge kernel package: allocates its buffers by role and size, binds the
 * caller's inputs (and meta, and state), calls the steps in order with positional arguments in
 * each kernel's parameter order, and returns the outputs, the metadata and the next state. Also
 * what the runtimes that copy arguments into device memory share (wasm-runtime.js, wgsl-runtime.js):
 * staging a host argument as a typed array of its parameter's storage type.
 *
 * Shipped verbatim in generated packages and used by numforge itself: plain ES2022, no imports.
 * The plan types are declared in run-plan.d.ts; numforge's src/codegen/plan.ts re-exports them and sizeOf.
 */

/** @typedef {import("./run-plan.js").OpPlan} OpPlan */
/** @typedef {import("./run-plan.js").BufferDecl} BufferDecl */
/** @typedef {import("./run-plan.js").Size} Size */
/** @typedef {import("./run-plan.js").StorageType} StorageType */
/** @typedef {import("./run-plan.js").BufferArray} BufferArray */
/** @typedef {import("./run-plan.js").PlanKernel} PlanKernel */
/** @typedef {import("./run-plan.js").RunCall} RunCall */
/** @typedef {import("./run-plan.js").RunResult} RunResult */
/** @typedef {import("./run-plan.js").Step} Step */
/** @typedef {import("./run-plan.js").ResolvedCall} ResolvedCall */
/** @typedef {import("./run-plan.js").ResolvedBuffer} ResolvedBuffer */

/** The typed array class of each storage type (a kernel indexes it directly). */
const ARRAYS = {
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  u16: Uint16Array,
  u8: Uint8Array,
  i8: Int8Array,
};

/**
 * The concrete length of a buffer for a call with n elements as `channels` rows (of n / channels):
 * constant + perElement·n + perChannel·channels + perBlock.count·⌈n / perBlock.blockSize⌉
 * + perTile.count·(tiles of the call): for a fixed tile [r, c], ⌈rows / r⌉·⌈cols / c⌉; for a 1-D
 * block of B, blocks along the call's block axis (1: rows·⌈cols / B⌉, 0: ⌈rows / B⌉·cols).
 * @param {Size} size
 * @param {number} n
 * @param {number} channels
 * @param {0 | 1} [blockAxis]
 * @returns {number}
 */
export function sizeOf(size, n, channels, blockAxis = 1) {
  const blocks = size.perBlock === undefined ? 0 : size.perBlock.count * Math.ceil(n / size.perBlock.blockSize);
  const tiles = size.perTile === undefined ? 0 : size.perTile.count * tileCount(size.perTile.tile, channels, channels === 0 ? 0 : n / channels, blockAxis);
  return (size.constant ?? 0) + (size.perElement ?? 0) * n + (size.perChannel ?? 0) * channels + blocks + tiles;
}

/**
 * Tiles covering rows × cols: a fixed tile [r, c], or a 1-D block of `tile` along the block axis.
 * @param {number | readonly [number, number]} tile
 * @param {number} rows
 * @param {number} cols
 * @param {0 | 1} blockAxis
 */
function tileCount(tile, rows, cols, blockAxis) {
  const [r, c] = typeof tile === "number" ? (blockAxis === 0 ? [tile, 1] : [1, tile]) : tile;
  return Math.ceil(rows / r) * Math.ceil(cols / c);
}

/**
 * @param {StorageType} storage
 * @param {number} length
 * @returns {BufferArray}
 */
export function allocate(storage, length) {
  const Type = ARRAYS[storage];
  if (Type === undefined) throw new TypeError(`unknown storage type ${JSON.stringify(storage)}`);
  return new Type(length);
}

/** The typed arrays a kernel takes as is for each storage type: those of its width (bits reinterpreted, as u8 codes in an Int8Array). */
const SAME_WIDTH = {
  f32: [Float32Array],
  i32: [Int32Array, Uint32Array],
  u32: [Int32Array, Uint32Array],
  u16: [Int16Array, Uint16Array],
  u8: [Int8Array, Uint8Array],
  i8: [Int8Array, Uint8Array],
};

/**
 * A host argument (typed array or array-like) as a kernel buffer of a storage type, for runtimes
 * that copy arguments into device memory: `staged` is the array itself when it is a typed array
 * of the storage's width (`exact`), else a new one holding its elements converted (unstageArray
 * copies the results back).
 * @param {StorageType} storage
 * @param {ArrayLike<number>} array
 * @returns {{ staged: BufferArray, exact: boolean }}
 */
export function stageArray(storage, array) {
  const widths = SAME_WIDTH[storage];
  if (widths === undefined) throw new TypeError(`unknown storage type ${JSON.stringify(storage)}`);
  if (ArrayBuffer.isView(array) && widths.some((Type) => array instanceof Type)) return { staged: array, exact: true };
  const staged = allocate(storage, array.length);
  for (let k = 0; k < array.length; k++) staged[k] = array[k];
  return { staged, exact: false };
}

/**
 * Copies a staged argument's elements back into the host array it was staged from (nothing to
 * do when it was taken as is).
 * @param {{ length: number, [k: number]: number }} array
 * @param {{ staged: BufferArray, exact: boolean }} stage
 */
export function unstageArray(array, stage) {
  if (stage.exact) return;
  for (let k = 0; k < array.length; k++) array[k] = stage.staged[k];
}

/**
 * @param {BufferDecl} decl
 * @param {unknown} given
 * @param {number} length
 * @returns {string | null} why `given` cannot be bound to the buffer, or null
 */
function mismatch(decl, given, length) {
  const Type = ARRAYS[decl.storage];
  if (!(given instanceof Type)) return `must be a ${Type.name} (${decl.storage})`;
  if (given.length !== length) return `must have ${length} entries for this call, has ${given.length}`;
  return null;
}

/**
 * The element count: call.n, or the length of the first input sized one per element.
 * @param {OpPlan} plan
 * @param {Readonly<Record<string, BufferArray>>} bindings
 * @param {RunCall} call
 */
function elementCount(plan, bindings, call) {
  if (call.n !== undefined) return call.n;
  for (const d of plan.buffers) {
    const s = d.length;
    if (d.role === "input" && s.perElement === 1 && !s.constant && !s.perChannel && s.perBlock === undefined && s.perTile === undefined && bindings[d.name] !== undefined)
      return bindings[d.name].length;
  }
  throw new TypeError("runPlan: pass call.n (no input sized one per element is bound)");
}

/**
 * A byte range of `a` overlaps one of `b` (views of one buffer that share memory).
 * @param {ArrayBufferView} a
 * @param {ArrayBufferView} b
 */
function overlaps(a, b) {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * Checks a call and resolves every buffer of the plan for it: its length and how a runner sets it
 * up. `init`: "bind" — the kernels use `given` itself (inputs, given meta); "copy" — a fresh
 * buffer holding a copy of `given` (state that fits); "zero" — a zeroed buffer (scratch, outputs,
 * meta not given, state that is missing or does not fit). `into`: the caller's array a given
 * output is written to; `aliased`: it shares memory with another binding, so the kernels must
 * write elsewhere and the runner copy the result into it after the last step. runPlan and
 * wasm-runtime.js's resident runner share these rules through this function.
 * @param {OpPlan} plan
 * @param {Readonly<Record<string, BufferArray>>} bindings
 * @param {RunCall} call
 * @returns {ResolvedCall}
 */
export function resolveCall(plan, bindings, call = {}) {
  const n = elementCount(plan, bindings, call);
  const channels = call.channels ?? 1;
  const seed = call.seed ?? 0;
  const blockAxis = call.blockAxis ?? 1;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`runPlan: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(channels) || channels < 1 || n % channels !== 0)
    throw new RangeError(`runPlan: ${channels} channels do not divide a tensor of ${n} elements`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`runPlan: seed must be a u32, got ${seed}`);
  if (blockAxis !== 0 && blockAxis !== 1) throw new RangeError(`runPlan: blockAxis must be 0 or 1, got ${blockAxis}`);
  const scalars = { n, channels, seed, channelLength: n / channels, blockAxis };

  const state = plan.buffers.filter((d) => d.role === "state");
  const stateFits = state.every((d) => bindings[d.name] === undefined || mismatch(d, bindings[d.name], sizeOf(d.length, n, channels, blockAxis)) === null);
  const stateGiven = state.every((d) => bindings[d.name] !== undefined);
  /** @type {ResolvedBuffer[]} */
  const buffers = plan.buffers.map((decl) => {
    const length = sizeOf(decl.length, n, channels, blockAxis);
    const given = bindings[decl.name];
    const checked = (/** @type {string} */ what) => {
      const why = mismatch(decl, given, length);
      if (why !== null) throw new TypeError(`runPlan: ${what} ${decl.name} ${why}`);
      return given;
    };
    const zero = { decl, length, init: "zero", given: undefined, into: undefined, aliased: false };
    switch (decl.role) {
      case "input":
        if (given === undefined) throw new TypeError(`runPlan: missing input buffer ${decl.name}`);
        return { ...zero, init: "bind", given: checked("input") };
      case "state":
        return given !== undefined && stateFits && stateGiven ? { ...zero, init: "copy", given } : zero;
      case "meta":
        return given === undefined ? zero : { ...zero, init: "bind", given: checked("meta") };
      case "output": {
        if (given === undefined) return zero;
        const into = checked("output");
        const aliased = plan.buffers.some((other) => other !== decl && bindings[other.name] !== undefined && overlaps(bindings[other.name], into));
        return { ...zero, into, aliased };
      }
      default:
        return zero;
    }
  });
  return { scalars, buffers };
}

/**
 * The positional arguments of a step: `buffer(name)` for each buffer parameter, the call's scalars
 * and the step's constants for the rest.
 * @template T
 * @param {Step} step
 * @param {(name: string) => T | undefined} buffer
 * @param {ResolvedCall["scalars"]} scalars
 * @returns {(T | number)[]}
 */
export function stepArguments(step, buffer, scalars) {
  return step.params.map((name) => {
    const a = step.args[name];
    if (a === undefined) throw new TypeError(`runPlan: step ${step.kernel} binds no ${name}`);
    if ("buffer" in a) {
      const b = buffer(a.buffer);
      if (b === undefined) throw new TypeError(`runPlan: step ${step.kernel} names unknown buffer ${a.buffer}`);
      return b;
    }
    if ("scalar" in a) return scalars[a.scalar];
    return a.constant;
  });
}

/**
 * Runs `plan` with `kernels` (functions by kernel name taking positional arguments).
 * bindings: every "input" buffer by name; "meta" buffers may be given (else allocated and
 * returned); "state" buffers from the previous call's result (missing, or shaped for another
 * call layout such as a different channel count: a fresh, empty state), copied, never modified;
 * "output" buffers may be given to be overwritten (else allocated), also the very arrays bound
 * as inputs (fake-quantizing x into itself): the result is the same as with a fresh output.
 * Every buffer the kernels see that is not an input or given meta starts zeroed.
 * @param {OpPlan} plan
 * @param {Readonly<Record<string, PlanKernel>>} kernels
 * @param {Readonly<Record<string, BufferArray>>} bindings
 * @param {RunCall} call
 * @returns {RunResult}
 */
export function runPlan(plan, kernels, bindings, call = {}) {
  const { scalars, buffers: resolved } = resolveCall(plan, bindings, call);
  /** @type {Record<string, BufferArray>} */
  const buffers = {};
  for (const r of resolved) {
    if (r.init === "bind") buffers[r.decl.name] = /** @type {BufferArray} */ (r.given);
    else if (r.into !== undefined && !r.aliased) buffers[r.decl.name] = r.into.fill(0);
    else {
      const fresh = allocate(r.decl.storage, r.length);
      if (r.init === "copy") fresh.set(/** @type {ArrayLike<number>} */ (r.given));
      buffers[r.decl.name] = fresh;
    }
  }
  for (const step of plan.steps) {
    const kernel = kernels[step.kernel];
    if (typeof kernel !== "function") throw new TypeError(`runPlan: no kernel ${step.kernel}`);
    kernel(...stepArguments(step, (name) => buffers[name], scalars));
  }
  for (const r of resolved) {
    if (r.into === undefined || !r.aliased) continue;
    r.into.set(buffers[r.decl.name]);
    buffers[r.decl.name] = r.into;
  }
  return resultOf(plan, buffers);
}

/**
 * The outputs, meta and state of a plan, by name, from its buffers.
 * @param {OpPlan} plan
 * @param {Readonly<Record<string, BufferArray>>} buffers
 * @returns {RunResult}
 */
export function resultOf(plan, buffers) {
  /** @type {RunResult} */
  const result = { outputs: {}, meta: {}, state: {} };
  for (const d of plan.buffers) {
    if (d.role === "output") result.outputs[d.name] = buffers[d.name];
    else if (d.role === "meta") result.meta[d.name] = buffers[d.name];
    else if (d.role === "state") result.state[d.name] = buffers[d.name];
  }
  return result;
}
