/**
 * Runs one plan of a numforge kernel package: allocates its buffers by role and size, binds the
 * caller's inputs (and meta, and state), calls the steps in order with positional arguments in
 * each kernel's parameter order, and returns the outputs, the metadata and the next state.
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
 * The concrete length of a buffer for a call with n elements in `channels` channels:
 * constant + perElement·n + perChannel·channels + perBlock.count·⌈n / perBlock.blockSize⌉.
 * @param {Size} size
 * @param {number} n
 * @param {number} channels
 * @returns {number}
 */
export function sizeOf(size, n, channels) {
  const blocks = size.perBlock === undefined ? 0 : size.perBlock.count * Math.ceil(n / size.perBlock.blockSize);
  return (size.constant ?? 0) + (size.perElement ?? 0) * n + (size.perChannel ?? 0) * channels + blocks;
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
    if (d.role === "input" && s.perElement === 1 && !s.constant && !s.perChannel && s.perBlock === undefined && bindings[d.name] !== undefined)
      return bindings[d.name].length;
  }
  throw new TypeError("runPlan: pass call.n (no input sized one per element is bound)");
}

/**
 * Runs `plan` with `kernels` (functions by kernel name taking positional arguments).
 * bindings: every "input" buffer by name; "meta" buffers may be given (else allocated and
 * returned); "state" buffers from the previous call's result (missing, or shaped for another
 * call layout such as a different channel count: a fresh, empty state). Given state is copied,
 * never modified.
 * @param {OpPlan} plan
 * @param {Readonly<Record<string, PlanKernel>>} kernels
 * @param {Readonly<Record<string, BufferArray>>} bindings
 * @param {RunCall} call
 * @returns {RunResult}
 */
export function runPlan(plan, kernels, bindings, call = {}) {
  const n = elementCount(plan, bindings, call);
  const channels = call.channels ?? 1;
  const seed = call.seed ?? 0;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`runPlan: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(channels) || channels < 1 || n % channels !== 0)
    throw new RangeError(`runPlan: ${channels} channels do not divide a tensor of ${n} elements`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`runPlan: seed must be a u32, got ${seed}`);
  const scalars = { n, channels, seed, channelLength: n / channels };

  /** @type {Record<string, BufferArray>} */
  const buffers = {};
  const state = plan.buffers.filter((d) => d.role === "state");
  const stateFits = state.every((d) => bindings[d.name] === undefined || mismatch(d, bindings[d.name], sizeOf(d.length, n, channels)) === null);
  const stateGiven = state.every((d) => bindings[d.name] !== undefined);
  for (const d of plan.buffers) {
    const length = sizeOf(d.length, n, channels);
    const given = bindings[d.name];
    if (d.role === "input") {
      if (given === undefined) throw new TypeError(`runPlan: missing input buffer ${d.name}`);
      const why = mismatch(d, given, length);
      if (why !== null) throw new TypeError(`runPlan: input ${d.name} ${why}`);
      buffers[d.name] = given;
    } else if (d.role === "state") {
      const fresh = allocate(d.storage, length);
      if (stateFits && stateGiven) fresh.set(/** @type {ArrayLike<number>} */ (given));
      buffers[d.name] = fresh;
    } else if (d.role === "meta" && given !== undefined) {
      const why = mismatch(d, given, length);
      if (why !== null) throw new TypeError(`runPlan: meta ${d.name} ${why}`);
      buffers[d.name] = given;
    } else {
      buffers[d.name] = allocate(d.storage, length);
    }
  }

  for (const step of plan.steps) {
    const kernel = kernels[step.kernel];
    if (typeof kernel !== "function") throw new TypeError(`runPlan: no kernel ${step.kernel}`);
    const args = step.params.map((name) => {
      const a = step.args[name];
      if (a === undefined) throw new TypeError(`runPlan: step ${step.kernel} binds no ${name}`);
      if ("buffer" in a) {
        const b = buffers[a.buffer];
        if (b === undefined) throw new TypeError(`runPlan: step ${step.kernel} names unknown buffer ${a.buffer}`);
        return b;
      }
      if ("scalar" in a) return scalars[a.scalar];
      return a.constant;
    });
    kernel(...args);
  }

  /** @type {RunResult} */
  const result = { outputs: {}, meta: {}, state: {} };
  for (const d of plan.buffers) {
    if (d.role === "output") result.outputs[d.name] = buffers[d.name];
    else if (d.role === "meta") result.meta[d.name] = buffers[d.name];
    else if (d.role === "state") result.state[d.name] = buffers[d.name];
  }
  return result;
}
