/**
 * numforge's WebAssembly kernels on several threads: one module instantiated on one shared memory
 * by the calling thread and by N − 1 workers (worker_threads in Node, Web Workers in browsers that
 * are cross-origin isolated). The calling thread and the workers claim a job's parts one at a time
 * (a worker slow to wake leaves its part to the caller), then the caller waits for the last part
 * (Atomics.wait where the thread may block, a spin on Atomics.load on a browser's main
 * thread), so every call stays synchronous once the pool has started (which is asynchronous).
 *
 * The kernels themselves are unchanged: the shipped modules import a plain memory, so
 * sharedBinary() rewrites that one import's limits to a shared memory (the same code runs on it).
 * Work is split so that each part computes exactly what the single thread computes for it
 * (GEMM: whole register-tile rows of C; element plans: whole scale blocks), hence results are
 * bit-identical to one thread.
 *
 * Shipped verbatim in generated kernel packages and used by numforge itself: plain ES2022.
 */

const PAGE_BYTES = 65536;
/** Pages a shared memory may grow to, tried in order (a shared memory cannot move, so its maximum is reserved up front). */
const MAX_PAGES = [65536, 16384, 4096];

const isNode = () => typeof process === "object" && process.versions?.node !== undefined;

export const OP_CALL = 1;
export const OP_GATHER_COLUMNS = 2;
export const OP_COPY_ROWS = 3;

/** Why threads are unavailable in this engine, or null where they are. */
export function threadsUnavailable() {
  if (typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return "this engine has no SharedArrayBuffer (a browser page needs cross-origin isolation: COOP same-origin and COEP require-corp)";
  if (typeof globalThis.crossOriginIsolated === "boolean" && !globalThis.crossOriginIsolated) return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  if (!isNode() && typeof Worker !== "function") return "this engine has no Web Workers";
  return null;
}

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return { value, next: at };
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/**
 * The module with its imported memory declared shared, with `maxPages` as its maximum; everything
 * else byte for byte the same. Throws if the module imports no memory.
 * @param {Uint8Array} wasm
 * @param {number} maxPages
 */
export function sharedBinary(wasm, maxPages) {
  const bytes = wasm instanceof Uint8Array ? wasm : new Uint8Array(wasm);
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const size = readLeb(bytes, at + 1);
    const start = size.next;
    const end = start + size.value;
    if (id === 2) {
      let p = start;
      const count = readLeb(bytes, p);
      p = count.next;
      for (let i = 0; i < count.value; i++) {
        for (let s = 0; s < 2; s++) {
          const length = readLeb(bytes, p);
          p = length.next + length.value;
        }
        const kind = bytes[p++];
        if (kind === 0) p = readLeb(bytes, p).next;
        else if (kind === 1) p = skipLimits(bytes, p + 1);
        else if (kind === 3) p += 2;
        else if (kind === 2) {
          const flags = bytes[p];
          const min = readLeb(bytes, p + 1);
          const limitsEnd = skipLimits(bytes, p);
          const limits = [0x03, ...leb(min.value), ...leb(Math.max(maxPages, min.value))];
          const payload = [...bytes.subarray(start, p), ...limits, ...bytes.subarray(limitsEnd, end)];
          if (flags > 1) return bytes;
          return Uint8Array.from([...bytes.subarray(0, at), 2, ...leb(payload.length), ...payload, ...bytes.subarray(end)]);
        } else throw new Error(`wasm: unknown import kind ${kind}`);
      }
    }
    at = end;
  }
  throw new Error("wasm: the module imports no memory");
}

function skipLimits(bytes, p) {
  const flags = bytes[p];
  let q = readLeb(bytes, p + 1).next;
  if (flags & 1) q = readLeb(bytes, q).next;
  return q;
}

/**
 * A shared memory of at least `minPages` pages and the module rewritten to import it.
 * @param {Uint8Array} wasm
 * @param {number} minPages
 */
export function sharedModule(wasm, minPages) {
  for (const maxPages of MAX_PAGES) {
    if (maxPages < minPages) break;
    let memory;
    try {
      memory = new WebAssembly.Memory({ initial: minPages, maximum: maxPages, shared: true });
    } catch {
      continue;
    }
    return { memory, module: new WebAssembly.Module(sharedBinary(wasm, maxPages)) };
  }
  throw new Error(`a shared WebAssembly memory of ${minPages * PAGE_BYTES} bytes could not be reserved`);
}

/**
 * The control words (Int32Array over a SharedArrayBuffer): the job's generation (workers wait on
 * it); the claim word, generation·256 + next part (a part is claimed by compare-and-swap only
 * while the generation matches, so a worker that wakes late takes nothing of a later job); parts
 * done; an error flag; then one started flag per worker.
 */
const GEN = 0;
const CLAIM = 1;
const DONE = 2;
const FAILED = 3;
const STARTED = 4;
/** Parts per job at most (the claim word's low byte). */
export const MAX_PARTS = 255;
/** Doubles for one job: the part count, each part's start, then the parts' operations. */
const JOB_WORDS = 8192;

/**
 * Claims and runs parts of the current job until none is left: shared by the workers (in their
 * source text below) and the calling thread. `runPart(start)` runs the operations of the part
 * whose words begin at `start`.
 */
const CLAIM_LOOP = `(ctl, job, generation, runPart) => {
  const tag = (generation & 0x7fffff) * 256;
  for (;;) {
    const word = Atomics.load(ctl, ${CLAIM});
    if (word - (word % 256) !== tag) return;
    const part = word % 256;
    if (part >= job[0]) return;
    if (Atomics.compareExchange(ctl, ${CLAIM}, word, word + 1) !== word) continue;
    try {
      runPart(job[1 + part]);
    } catch (error) {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}`;

/** Runs the operations of one part (words from `p`: count, then each operation), with `kernels` by index. */
const RUN_PART = `(memory, kernels, job, p) => {
  const ops = job[p++];
  for (let op = 0; op < ops; op++) {
    const code = job[p];
    if (code === ${OP_CALL}) {
      const argc = job[p + 2];
      const args = [];
      for (let i = 0; i < argc; i++) args.push(job[p + 3 + i]);
      kernels[job[p + 1]](...args);
      p += 3 + argc;
    } else if (code === ${OP_GATHER_COLUMNS}) {
      // dst[r][j] = src[j][c0 + r] (r < count, j < depth): columns of a row-major float32 matrix of \`stride\` columns, as rows.
      const src = job[p + 1] / 4, dst = job[p + 2] / 4, stride = job[p + 3], c0 = job[p + 4], count = job[p + 5], depth = job[p + 6];
      const f32 = new Float32Array(memory.buffer);
      for (let j = 0; j < depth; j++) {
        const row = src + j * stride + c0;
        for (let r = 0; r < count; r++) f32[dst + r * depth + j] = f32[row + r];
      }
      p += 7;
    } else if (code === ${OP_COPY_ROWS}) {
      // rows rows of \`bytes\` bytes each, from src (rows \`srcStride\` bytes apart) to dst (\`dstStride\` apart).
      const src = job[p + 1], srcStride = job[p + 2], dst = job[p + 3], dstStride = job[p + 4], rows = job[p + 5], bytes = job[p + 6];
      const u8 = new Uint8Array(memory.buffer);
      for (let r = 0; r < rows; r++) u8.copyWithin(dst + r * dstStride, src + r * srcStride, src + r * srcStride + bytes);
      p += 7;
    } else throw new Error("unknown job operation " + code);
  }
}`;

/**
 * The worker's side, as source text (a package ships no separate worker file): instantiate the
 * module on the shared memory, then, each time the generation moves, claim and run parts.
 */
const WORKER_SOURCE = `"use strict";
const claimParts = ${CLAIM_LOOP};
const runPart = ${RUN_PART};
const run = ({ module, memory, names, control, jobs, slot }) => {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = names.map((name) => instance.exports[name]);
  const ctl = new Int32Array(control);
  const job = new Float64Array(jobs);
  let seen = 0;
  Atomics.store(ctl, ${STARTED} + slot, 1);
  Atomics.notify(ctl, ${STARTED} + slot);
  return () => {
    for (;;) {
      Atomics.wait(ctl, ${GEN}, seen);
      seen = Atomics.load(ctl, ${GEN});
      if (seen < 0) return;
      claimParts(ctl, job, seen, (p) => runPart(memory, kernels, job, p));
    }
  };
};
if (typeof self === "object" && typeof self.postMessage === "function" && typeof require !== "function") {
  self.onmessage = (event) => run(event.data)();
} else {
  run(require("node:worker_threads").workerData)();
}
`;

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock() {
  if (isNode()) return true;
  return typeof WorkerGlobalScope === "function" && typeof self === "object" && self instanceof WorkerGlobalScope;
}

/** Node's Worker class where this is Node (loaded once; synchronous after the first pool). */
let nodeWorker;

function startNodeWorker(Worker, data) {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
  // An idle pool must not keep the process alive.
  worker.unref();
  return { terminate: () => worker.terminate() };
}

async function startWorker(data) {
  if (isNode()) {
    nodeWorker ??= (await import("node:worker_threads")).Worker;
    return startNodeWorker(nodeWorker, data);
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  worker.postMessage(data);
  return { terminate: () => worker.terminate() };
}

/**
 * Starts `threads − 1` workers on `module` over `memory` (both from sharedModule). The pool's
 * run(parts) lets this thread and the workers claim the parts one at a time (so a worker that is
 * slow to wake leaves its part to whoever is free) and returns when all are done. A part is a
 * list of operations: [OP_CALL, kernelName, ...args],
 * [OP_GATHER_COLUMNS, srcOffset, dstOffset, stride, c0, count, depth] or
 * [OP_COPY_ROWS, src, srcStrideBytes, dst, dstStrideBytes, rows, rowBytes]. The calling thread runs its
 * parts through `raw`, its own instance's exports on the same memory.
 * @param {{ module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], threads: number, raw: Record<string, Function> }} options
 */
export async function startThreadPool({ module, memory, names, threads, raw }) {
  const shared = sharedState(threads);
  const workers = await Promise.all(Array.from({ length: Math.max(0, threads - 1) }, (_, slot) => startWorker({ module, memory, names, control: shared.control, jobs: shared.jobs, slot })));
  await awaitReady(shared.ctl, workers.length, false);
  return poolOf(workers, shared, names, raw, memory);
}

/**
 * startThreadPool, synchronously: in Node, where a thread may block until its workers are up
 * (after loadNodeWorkers() in the process).
 */
export function startThreadPoolSync({ module, memory, names, threads, raw }) {
  if (nodeWorker === undefined) throw new Error("threads: call loadNodeWorkers() first (synchronous pools are for Node)");
  const shared = sharedState(threads);
  const workers = Array.from({ length: Math.max(0, threads - 1) }, (_, slot) => startNodeWorker(nodeWorker, { module, memory, names, control: shared.control, jobs: shared.jobs, slot }));
  awaitReady(shared.ctl, workers.length, true);
  return poolOf(workers, shared, names, raw, memory);
}

/** Loads Node's worker_threads once, so that startThreadPoolSync can start workers. */
export async function loadNodeWorkers() {
  if (!isNode()) return false;
  nodeWorker ??= (await import("node:worker_threads")).Worker;
  return true;
}

function sharedState(threads) {
  const control = new SharedArrayBuffer((STARTED + Math.max(1, threads - 1)) * 4);
  const jobs = new SharedArrayBuffer(JOB_WORDS * 8);
  return { control, jobs, ctl: new Int32Array(control) };
}

/** Waits until every worker has instantiated the module (blocking, or yielding to the event loop). */
function awaitReady(ctl, count, block) {
  const pending = () => Array.from({ length: count }, (_, w) => w).filter((w) => Atomics.load(ctl, STARTED + w) === 0);
  if (block) {
    for (const w of pending()) {
      if (Atomics.wait(ctl, STARTED + w, 0, 30000) === "timed-out") throw new Error("threads: a kernel worker did not start within 30 s");
    }
    return undefined;
  }
  return (async () => {
    const started = Date.now();
    while (pending().length > 0) {
      if (Date.now() - started > 30000) throw new Error("threads: a kernel worker did not start within 30 s");
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
}

function poolOf(workers, { jobs, ctl }, names, raw, memory) {
  // The calling thread runs the workers' very source text (one definition of each). Compiled here,
  // when a pool starts, not at import: a page whose CSP forbids eval still loads the one-thread kernels.
  const claimParts = new Function(`return ${CLAIM_LOOP};`)();
  const runPart = new Function(`return ${RUN_PART};`)();
  const kernelIndex = new Map(names.map((name, i) => [name, i]));
  const kernels = names.map((name) => raw[name]);
  const job = new Float64Array(jobs);
  const blocking = canBlock();
  let generation = 0;
  let closed = false;
  let splitCalls = 0;

  /** Writes the parts into the job words: count, starts, then each part's operations. */
  const encode = (parts) => {
    if (parts.length > MAX_PARTS) throw new Error(`threads: ${parts.length} parts (at most ${MAX_PARTS})`);
    job[0] = parts.length;
    let p = 1 + parts.length;
    parts.forEach((ops, i) => {
      job[1 + i] = p;
      job[p++] = ops.length;
      for (const op of ops) {
        if (p + op.length + 1 > JOB_WORDS) throw new Error("threads: job too long");
        if (op[0] === OP_CALL) {
          const index = kernelIndex.get(op[1]);
          if (index === undefined) throw new Error(`threads: no kernel ${op[1]}`);
          job[p] = OP_CALL;
          job[p + 1] = index;
          job[p + 2] = op.length - 2;
          for (let i = 2; i < op.length; i++) job[p + 1 + i] = op[i];
          p += op.length + 1;
        } else {
          for (let i = 0; i < op.length; i++) job[p + i] = op[i];
          p += op.length;
        }
      }
    });
  };

  return {
    threads: workers.length + 1,
    /** How many run() calls had more than one part (a diagnostic: tests check that work was split). */
    get splitCalls() {
      return splitCalls;
    },
    /**
     * Runs the parts on this thread and the workers, each part claimed by whoever is free; returns when all are done.
     * @param {readonly (readonly (string | number)[][])[]} parts
     */
    run(parts) {
      if (closed) throw new Error("threads: the kernels were closed");
      if (parts.length === 0) return;
      // Claim word 0 matches no generation (they start at 1): a worker still in the last job's claim
      // loop can take nothing while the job words are rewritten.
      Atomics.store(ctl, CLAIM, 0);
      encode(parts);
      generation = (generation + 1) & 0x7fffff || 1;
      if (parts.length > 1) splitCalls++;
      Atomics.store(ctl, DONE, 0);
      Atomics.store(ctl, FAILED, 0);
      Atomics.store(ctl, CLAIM, generation * 256);
      if (parts.length > 1) {
        Atomics.store(ctl, GEN, generation);
        Atomics.notify(ctl, GEN, parts.length - 1);
      }
      let failure = null;
      claimParts(ctl, job, generation, (p) => {
        try {
          runPart(memory, kernels, job, p);
        } catch (error) {
          failure ??= error;
          throw error;
        }
      });
      for (;;) {
        const done = Atomics.load(ctl, DONE);
        if (done >= parts.length) break;
        if (blocking) Atomics.wait(ctl, DONE, done, 1000);
      }
      if (failure !== null) throw failure;
      if (Atomics.load(ctl, FAILED) !== 0) throw new Error("a kernel failed on a worker thread");
    },
    /** Stops the workers; later calls throw. */
    close() {
      if (closed) return;
      closed = true;
      Atomics.store(ctl, GEN, -1);
      Atomics.notify(ctl, GEN);
      return Promise.all(workers.map((w) => w.terminate())).then(() => undefined);
    },
  };
}

/**
 * Splits [0, total) into at most `parts` ranges whose boundaries are multiples of `granule`
 * (no range shorter than `minimum`, so small work stays on one thread).
 * @returns {[number, number][]}
 */
export function splitRange(total, parts, granule, minimum = granule) {
  const units = Math.ceil(total / granule);
  const count = Math.max(1, Math.min(parts, Math.floor(total / Math.max(minimum, granule)), units));
  const ranges = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = i === count - 1 ? total : Math.min(total, Math.round((units * (i + 1)) / count) * granule);
    if (end > start) ranges.push([start, end]);
    start = end;
  }
  return ranges;
}
