/**
 * numforge's WebAssembly kernels on several threads: one module instantiated on one shared memory
 * by the calling thread and by N − 1 workers (worker_threads in Node, Web Workers in browsers that
 * are cross-origin isolated). The calling thread runs its own share of each job, then waits for the
 * workers (Atomics.wait where the thread may block, a spin on Atomics.load on a browser's main
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
/** Per-worker slots in the control array: generation, done generation, error flag, started. */
const SLOT = 4;
/** Doubles per worker for one job's operations. */
const JOB_WORDS = 256;

const isNode = () => typeof process === "object" && process.versions?.node !== undefined;

export const OP_CALL = 1;
export const OP_GATHER_COLUMNS = 2;

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
 * The worker's side, as source text (a package ships no separate worker file): instantiate the
 * module on the shared memory, then run each job it is handed and mark it done.
 */
const WORKER_SOURCE = `"use strict";
const run = ({ module, memory, names, control, jobs, slot }) => {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = names.map((name) => instance.exports[name]);
  const ctl = new Int32Array(control);
  const job = new Float64Array(jobs, slot * ${JOB_WORDS} * 8, ${JOB_WORDS});
  const base = slot * ${SLOT};
  let seen = 0;
  Atomics.store(ctl, base + 3, 1);
  Atomics.notify(ctl, base + 3);
  return () => {
    for (;;) {
      Atomics.wait(ctl, base, seen);
      seen = Atomics.load(ctl, base);
      if (seen < 0) return;
      try {
        let p = 1;
        for (let op = 0; op < job[0]; op++) {
          const code = job[p];
          if (code === ${OP_CALL}) {
            const argc = job[p + 2];
            const args = [];
            for (let i = 0; i < argc; i++) args.push(job[p + 3 + i]);
            kernels[job[p + 1]](...args);
            p += 3 + argc;
          } else if (code === ${OP_GATHER_COLUMNS}) {
            // dst[r][j] = src[j][c0 + r] for r < count, j < depth: columns of a row-major matrix with \`stride\` columns, as rows.
            const [src, dst, stride, c0, count, depth] = [job[p + 1], job[p + 2], job[p + 3], job[p + 4], job[p + 5], job[p + 6]];
            const f32 = new Float32Array(memory.buffer);
            const s = src / 4, d = dst / 4;
            for (let j = 0; j < depth; j++) {
              const row = s + j * stride + c0;
              for (let r = 0; r < count; r++) f32[d + r * depth + j] = f32[row + r];
            }
            p += 7;
          } else throw new Error("unknown job operation " + code);
        }
      } catch (error) {
        Atomics.store(ctl, base + 2, 1);
      }
      Atomics.store(ctl, base + 1, seen);
      Atomics.notify(ctl, base + 1);
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
 * run(jobs) hands jobs[i] to worker i − 1 and runs jobs[0] here with `local`, then waits.
 * A job is a list of operations: [OP_CALL, kernelName, ...args] or
 * [OP_GATHER_COLUMNS, srcOffset, dstOffset, stride, c0, count, depth].
 * @param {{ module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], threads: number }} options
 */
export async function startThreadPool({ module, memory, names, threads }) {
  const shared = sharedState(threads);
  const workers = await Promise.all(Array.from({ length: Math.max(0, threads - 1) }, (_, slot) => startWorker({ module, memory, names, control: shared.control, jobs: shared.jobs, slot })));
  await awaitReady(shared.ctl, workers.length, false);
  return poolOf(workers, shared, names);
}

/**
 * startThreadPool, synchronously: in Node, where a thread may block until its workers are up
 * (after one asynchronous startThreadPool or loadNodeWorkers() in the process).
 */
export function startThreadPoolSync({ module, memory, names, threads }) {
  if (nodeWorker === undefined) throw new Error("threads: call loadNodeWorkers() first (synchronous pools are for Node)");
  const shared = sharedState(threads);
  const workers = Array.from({ length: Math.max(0, threads - 1) }, (_, slot) => startNodeWorker(nodeWorker, { module, memory, names, control: shared.control, jobs: shared.jobs, slot }));
  awaitReady(shared.ctl, workers.length, true);
  return poolOf(workers, shared, names);
}

/** Loads Node's worker_threads once, so that startThreadPoolSync can start workers. */
export async function loadNodeWorkers() {
  if (!isNode()) return false;
  nodeWorker ??= (await import("node:worker_threads")).Worker;
  return true;
}

function sharedState(threads) {
  const slots = Math.max(1, threads - 1);
  const control = new SharedArrayBuffer(slots * SLOT * 4);
  const jobs = new SharedArrayBuffer(slots * JOB_WORDS * 8);
  return { control, jobs, ctl: new Int32Array(control) };
}

/** Waits until every worker has instantiated the module (blocking, or yielding to the event loop). */
function awaitReady(ctl, count, block) {
  const pending = () => Array.from({ length: count }, (_, w) => w).filter((w) => Atomics.load(ctl, w * SLOT + 3) === 0);
  if (block) {
    for (const w of pending()) {
      if (Atomics.wait(ctl, w * SLOT + 3, 0, 30000) === "timed-out") throw new Error("threads: a kernel worker did not start within 30 s");
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

function poolOf(workers, { jobs, ctl }, names) {
  const kernelIndex = new Map(names.map((name, i) => [name, i]));
  const blocking = canBlock();
  let generation = 0;
  let closed = false;

  const encode = (slot, job) => {
    const words = new Float64Array(jobs, slot * JOB_WORDS * 8, JOB_WORDS);
    let p = 1;
    for (const op of job) {
      if (op[0] === OP_CALL) {
        const index = kernelIndex.get(op[1]);
        if (index === undefined) throw new Error(`threads: no kernel ${op[1]}`);
        words[p] = OP_CALL;
        words[p + 1] = index;
        words[p + 2] = op.length - 2;
        for (let i = 2; i < op.length; i++) words[p + 1 + i] = op[i];
        p += op.length + 1;
      } else {
        for (let i = 0; i < op.length; i++) words[p + i] = op[i];
        p += op.length;
      }
      if (p > JOB_WORDS) throw new Error("threads: job too long");
    }
    words[0] = job.length;
  };

  let splitCalls = 0;
  return {
    threads: workers.length + 1,
    /** How many run() calls handed work to workers (a diagnostic: tests check that work was split). */
    get splitCalls() {
      return splitCalls;
    },
    /**
     * Runs jobs[0] here (through `local`, which executes one job on this thread) and jobs[1..] on the workers; returns when all are done.
     * @param {readonly (readonly (string | number)[][])[]} jobList
     * @param {(job: readonly (string | number)[][]) => void} local
     */
    run(jobList, local) {
      if (closed) throw new Error("threads: the kernels were closed");
      if (jobList.length > workers.length + 1) throw new Error(`threads: ${jobList.length} jobs for ${workers.length + 1} threads`);
      generation++;
      if (jobList.length > 1) splitCalls++;
      for (let w = 1; w < jobList.length; w++) {
        encode(w - 1, jobList[w]);
        Atomics.store(ctl, (w - 1) * SLOT, generation);
        Atomics.notify(ctl, (w - 1) * SLOT);
      }
      let failure = null;
      try {
        if (jobList.length > 0) local(jobList[0]);
      } catch (error) {
        failure = error;
      }
      for (let w = 1; w < jobList.length; w++) {
        const at = (w - 1) * SLOT + 1;
        for (;;) {
          const done = Atomics.load(ctl, at);
          if (done === generation) break;
          if (blocking) Atomics.wait(ctl, at, done, 1000);
        }
        if (Atomics.load(ctl, at + 1) !== 0) {
          Atomics.store(ctl, at + 1, 0);
          failure ??= new Error(`a kernel failed on worker thread ${w}`);
        }
      }
      if (failure !== null) throw failure;
    },
    /** Stops the workers; later calls throw. */
    close() {
      if (closed) return;
      closed = true;
      for (let w = 0; w < workers.length; w++) {
        Atomics.store(ctl, w * SLOT, -1);
        Atomics.notify(ctl, w * SLOT);
      }
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
