/**
 * Threads and the package API (issue 17 items 2 and 4), in wall-clock time (threads are only
 * visible there; CPU time adds the threads up):
 * - threadsGemmSection: the f32 GEMM through a compiled package's public API (A copied in and C
 *   out per call; B as given, or kept resident by prepareB) on 1 and 2 threads (createKernels),
 *   beside tfjs-wasm's matMul (A and B resident, B packed once by XNNPACK, C read back);
 * - threadsElementwiseSection: encode / decode / fakeQuantize of 1M elements through the package
 *   API on 1 and 2 threads;
 * - threadsTrainingSection: training images/s of the wasm backend at NUMFORGE_THREADS 1 and 2,
 *   and the share of a one-thread step that threads split (hence Amdahl's bound on idle cores).
 * Every threaded result is checked bit-identical to one thread's before timing.
 */
import * as Effect from "effect/Effect";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createRegistry } from "../src/dsl/registry.ts";
import { packageFiles } from "../src/package/package-files.ts";
import { writePackage } from "../src/package/write-package.ts";
import { createRecipeRegistry } from "../src/recipes/load.ts";
import { createBackend } from "../src/runtime/backends/select.ts";
import { fp32Format, type KernelBackend } from "../src/runtime/backends/js.ts";
import type { LoadedFormat } from "../src/runtime/backends/kernel-source.ts";
import { batches, type Batch } from "../src/runtime/data/batches.ts";
import { loadMnist } from "../src/runtime/data/mnist.ts";
import { TARGETS } from "../src/targets/registry.ts";
import { format, uniform } from "./formats.ts";
import { measure, pairedRatio } from "./measure.ts";
import * as tfjsWasm from "./peers/tfjs-wasm.ts";
import { fixed, times, type Table } from "./table.ts";
import { numforgeTrainer, resnetOfWidth } from "./training.ts";

const THREADS = 2;
const root = mkdtempSync(join(tmpdir(), "numforge-bench-threads-"));

// biome-ignore lint: a generated package, imported at run time
type Pkg = any;

/** A package of `name` (wasm and js targets) compiled into a temporary folder, imported, and its 2-thread kernels. */
async function packageOf(name: string): Promise<{ one: Pkg; many: Pkg }> {
  const { files, manifest } = await packageFiles(format(name), TARGETS.filter((t) => t.name !== "wgsl"));
  const dir = Effect.runSync(writePackage(join(root, name), files, manifest, false));
  const one = await import(pathToFileURL(join(dir, "index.js")).href);
  const many = await one.createKernels({ threads: THREADS });
  if (many.threads !== THREADS) throw new Error(`threads bench: ${many.threads} threads (${many.note})`);
  return { one, many };
}

const sameBits = (x: ArrayBufferView, y: ArrayBufferView) => Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;
const wall = (runs: number) => ({ runs, warmupRuns: 2, warmupMs: 100, clock: "wall" as const });

const WORK_NOTE = `work ${THREADS}t/1t: CPU time of the whole process (every thread) per call on ${THREADS} threads over one thread's (prepareB for the GEMM), medians, interleaved: the work threading adds, which the machine's load hardly changes (wall-clock ratios on a busy machine mostly measure the other processes); on ${THREADS} idle cores a call fully split would take about work/${THREADS} of one thread's time`;

/** Median process CPU time (all threads) per call of `threaded` over `single`'s, the two interleaved. */
function cpuWork(single: () => void, threaded: () => void, runs: number): number {
  const t = measure(
    [
      { name: "1", run: single },
      { name: "n", run: threaded },
    ],
    { runs, warmupRuns: 1, warmupMs: 0, clock: "cpu" },
  );
  return (t.get("n") ?? Number.NaN) / (t.get("1") ?? Number.NaN);
}

const GEMM_SHAPES = [
  { label: "256³", m: 256, k: 256, n: 256 },
  { label: "512³", m: 512, k: 512, n: 512 },
  { label: "1024³", m: 1024, k: 1024, n: 1024 },
  { label: "256×784×128", m: 256, k: 784, n: 128 },
];

export async function threadsGemmSection(): Promise<Table> {
  const { one, many } = await packageOf("fp32");
  const rows: string[][] = [];
  const notes = new Set<string>();
  try {
    for (const { label, m, n, k } of GEMM_SHAPES) {
      const a = uniform(m * k, 1);
      const b = uniform(k * n, 2);
      const c = new Float32Array(m * n);
      const reference = new Float32Array(m * n);
      one.gemm({ a, b, c: reference, m, n, k });
      const pOne = one.prepareB(b, { k, n });
      const pMany = many.prepareB(b, { k, n });
      for (const [name, run] of [["2 threads", () => many.gemm({ a, b, c, m, n, k })], ["prepared", () => one.gemm({ a, b: pOne, c, m, n, k })], ["prepared 2 threads", () => many.gemm({ a, b: pMany, c, m, n, k })]] as const) {
        c.fill(0);
        run();
        if (!sameBits(c, reference)) throw new Error(`threads bench: gemm ${label} ${name} differs from one thread`);
      }
      const tfjs = await tfjsWasm.prepareMatmul(a, b, m, n, k);
      try {
        notes.add(tfjs.label);
        const t = measure(
          [
            { name: "api", run: () => one.gemm({ a, b, c, m, n, k }) },
            { name: "api2", run: () => many.gemm({ a, b, c, m, n, k }) },
            { name: "prep", run: () => one.gemm({ a, b: pOne, c, m, n, k }) },
            { name: "prep2", run: () => many.gemm({ a, b: pMany, c, m, n, k }) },
            { name: "tfjs", run: tfjs.readback },
          ],
          wall(2 * m * n * k >= 1e9 ? 7 : 15),
        );
        const g = (key: string) => (2 * m * n * k) / (t.get(key) ?? Number.NaN) / 1e9;
        const work = cpuWork(() => one.gemm({ a, b: pOne, c, m, n, k }), () => many.gemm({ a, b: pMany, c, m, n, k }), 2 * m * n * k >= 1e9 ? 5 : 9);
        rows.push([label, fixed(g("api")), fixed(g("prep")), fixed(g("api2")), fixed(g("prep2")), fixed(g("tfjs")), times(g("api") / g("tfjs")), times(g("prep") / g("tfjs")), times(g("api2") / g("api")), times(g("prep2") / g("prep")), times(work)]);
      } finally {
        tfjs.dispose();
        pOne.release();
        pMany.release();
      }
    }
  } finally {
    await many.close();
  }
  return {
    title: `f32 GEMM through a package's API, 1 and ${THREADS} threads (GFLOP/s, wall-clock median after warm-up)`,
    header: ["m×k×n", "api 1t", "prepareB 1t", `api ${THREADS}t`, `prepareB ${THREADS}t`, "tfjs-wasm 1t", "api/tfjs", "prepareB/tfjs", `api ${THREADS}t/1t`, `prepareB ${THREADS}t/1t`, `work ${THREADS}t/1t`],
    rows,
    notes: [
      "api: gemm({ a, b, c }) of the fp32 package (A and B copied into wasm memory, C out, every call); prepareB: B kept resident by prepareB(b, { k, n }) and passed as the handle (A in, C out per call)",
      `${THREADS}t: createKernels({ threads: ${THREADS} }) — rows of C split over this thread and a worker on one shared memory (parts claimed as threads come free); checked bit-identical to one thread`,
      WORK_NOTE,
      "tfjs-wasm: matMul + dataSync on resident A and B (B packed once by XNNPACK), one thread: in Node its multithreaded binary does not start (WASM_HAS_MULTITHREAD_SUPPORT is false; forced, its pthread pool runs one thread), so the peer at 2 threads is not measured",
      ...notes,
    ],
  };
}

const ELEMENTS = 1 << 20;

export async function threadsElementwiseSection(): Promise<Table> {
  const cases: { format: string; op: "encode" | "decode" | "fakeQuantize" }[] = [
    { format: "e4m3", op: "encode" },
    { format: "e4m3", op: "decode" },
    { format: "int8", op: "encode" },
    { format: "e4m3", op: "fakeQuantize" },
    { format: "mxfp8", op: "encode" },
    { format: "mxfp8", op: "fakeQuantize" },
    { format: "nvfp4", op: "fakeQuantize" },
    { format: "s2fp8", op: "fakeQuantize" },
  ];
  const x = uniform(ELEMENTS, 7).map((v) => v * 300);
  const loaded = new Map<string, { one: Pkg; many: Pkg }>();
  const rows: string[][] = [];
  try {
    for (const c of cases) {
      if (!loaded.has(c.format)) loaded.set(c.format, await packageOf(c.format));
      const { one, many } = loaded.get(c.format)!;
      const encoded = one.encode(x);
      const codes = encoded.codes;
      const values = new Float32Array(ELEMENTS);
      const out = c.op === "encode" ? new codes.constructor(ELEMENTS) : values;
      const call = (k: Pkg) =>
        c.op === "encode" ? () => k.encode(x, out) : c.op === "decode" ? () => k.decode(codes, encoded.meta, out) : () => k.fakeQuantize(x, out);
      call(one)();
      const expected = out.slice();
      const splitBefore = many.splitCalls();
      call(many)();
      if (!sameBits(out, expected)) throw new Error(`threads bench: ${c.format} ${c.op} on ${THREADS} threads differs from one thread`);
      const split = many.splitCalls() > splitBefore;
      const t = measure(
        [
          { name: "1", run: call(one) },
          { name: "2", run: call(many) },
        ],
        wall(21),
      );
      const rate = (key: string) => ELEMENTS / (t.get(key) ?? Number.NaN) / 1e6;
      // The same call on resident arrays (input and output kept in each kernels' memory): the kernels alone.
      const residentCall = (k: Pkg) => {
        const input = k.resident(c.op === "decode" ? codes : x);
        const output = k.resident(out);
        return {
          run: c.op === "encode" ? () => k.encode(input, output) : c.op === "decode" ? () => k.decode(input, encoded.meta, output) : () => k.fakeQuantize(input, output),
          result: () => output.read(),
          release: () => [input, output].forEach((r) => r.release()),
        };
      };
      const [rOne, rMany] = [residentCall(one), residentCall(many)];
      for (const r of [rOne, rMany]) {
        r.run();
        if (!sameBits(r.result(), expected)) throw new Error(`threads bench: ${c.format} ${c.op} on resident arrays differs from the copying call`);
      }
      const tr = measure([{ name: "1", run: rOne.run }, { name: "2", run: rMany.run }], wall(21));
      [rOne, rMany].forEach((r) => r.release());
      const residentRate = (key: string) => ELEMENTS / (tr.get(key) ?? Number.NaN) / 1e6;
      rows.push([
        `${c.format} ${c.op}`, fixed(rate("1"), 0), fixed(rate("2"), 0), times(rate("2") / rate("1")), times(cpuWork(call(one), call(many), 9)),
        fixed(residentRate("1"), 0), fixed(residentRate("2"), 0), times(residentRate("2") / residentRate("1")), split ? "yes" : "no",
      ]);
    }
  } finally {
    for (const { many } of loaded.values()) await many.close();
  }
  return {
    title: `Element kernels through a package's API, 1M elements, 1 and ${THREADS} threads (M elements/s, wall-clock median after warm-up)`,
    header: ["kernel", "1 thread", `${THREADS} threads`, `${THREADS}t/1t`, `work ${THREADS}t/1t`, "resident 1t", `resident ${THREADS}t`, `resident ${THREADS}t/1t`, "split"],
    rows,
    notes: [
      "the package API copies x in and the result out on the calling thread (one memcpy each way); the kernels' steps split over element ranges at scale-block boundaries; whole-tensor reductions (NVFP4's tensor amax, S2FP8's statistics finalize) run on one thread before the steps that use them",
      "resident: the same call on resident arrays (the package's resident(array)), input and output kept in the kernels' memory, so no copy in or out: the kernels alone",
      "checked bit-identical to one thread (and resident to copying) before timing; split: whether the call ran on more than one thread",
      WORK_NOTE,
    ],
  };
}

const TRAIN_WIDTH = 16;
const TRAIN_BATCH = 32;

export async function threadsTrainingSection(): Promise<Table> {
  const data = loadMnist();
  const [channels] = data.train.sampleShape;
  const batchList: Batch[] = [];
  for (const b of batches(data.train, TRAIN_BATCH, { seed: 0, epoch: 0, dropLast: true })) {
    if (batchList.length === 8) break;
    batchList.push(b);
  }
  const recipes = createRecipeRegistry(createRegistry());
  const config = resnetOfWidth(TRAIN_WIDTH, channels, data.train.classes);
  const rows: string[][] = [];
  const backends = [await createBackend("wasm", 1), await createBackend("wasm", THREADS)];
  const shareBackend = await createBackend("wasm", THREADS);
  try {
    for (const name of ["fp32", "mxfp8"]) {
      const recipe = Effect.runSync(recipes.get(name));
      const [single, threaded] = backends.map((backend, i) => numforgeTrainer(`${name} ${i === 0 ? 1 : THREADS}t`, backend, recipe, config, batchList, ""));
      const losses = [single.step(), threaded.step()];
      if (!Object.is(losses[0], losses[1])) throw new Error(`threads bench: ${name} step loss ${losses[1]} on ${THREADS} threads, ${losses[0]} on one`);
      const steps = 4;
      const window = (t: typeof single) => ({ name: t.name, run: () => { for (let s = 0; s < steps; s++) t.step(); } });
      const t = measure([window(single), window(threaded)], { runs: 5, warmupRuns: 1, warmupMs: 0, clock: "wall" });
      const ips = (key: string) => (steps * TRAIN_BATCH) / (t.get(key) ?? Number.NaN);
      const paired = pairedRatio(window(single), window(threaded), 5, "wall");
      const share = splitShare(numforgeTrainer(`${name} share`, shareBackend, recipe, config, batchList, ""), steps, shareBackend);
      rows.push([`w${TRAIN_WIDTH} ${name}`, fixed(ips(single.name), 0), fixed(ips(threaded.name), 0), times(ips(threaded.name) / ips(single.name)), times(1 / paired), `${fixed(100 * share, 0)}%`, times(1 / (1 - share + share / THREADS))]);
    }
  } finally {
    for (const b of [...backends, shareBackend]) await b.close?.();
  }
  return {
    title: `Training images/s, ResNet width ${TRAIN_WIDTH} on MNIST, batch ${TRAIN_BATCH}, Adam, wasm backend at NUMFORGE_THREADS 1 and ${THREADS} (wall-clock)`,
    header: ["run", "1 thread", `${THREADS} threads`, `${THREADS}t/1t`, `${THREADS}t/1t paired`, "split share", `bound ${THREADS}t`],
    rows,
    notes: [
      "threads split the GEMMs (rows of C, or columns where C has few rows) and the recipe's quantizations (element ranges); the rest of the step (im2col, batch norm, activations, the optimizer) runs on the calling thread",
      "the first step's loss is checked identical on both; paired: median of 1t/2t step-time ratios of windows timed back to back",
      `split share: the part of a one-thread step spent in the work threads split (every split job's parts run one by one on the calling thread; median of 3 windows); bound ${THREADS}t: Amdahl's limit 1 / (1 − share + share/${THREADS}) on idle cores`,
    ],
  };
}

/**
 * The part of a step's time spent in work the pool splits, measured on one thread: every pool of
 * `backend` (its formats' kernels, loaded now or later) runs each job's parts one after another
 * on the calling thread (a one-part run wakes no worker), timed.
 */
function splitShare(trainer: { step(): number }, steps: number, backend: KernelBackend): number {
  let inSplit = 0;
  const serialized = new WeakSet<object>();
  const serialize = (loaded: LoadedFormat) => {
    const pool = loaded.pool as { run(parts: readonly unknown[]): void } | undefined;
    if (pool === undefined || serialized.has(pool)) return loaded;
    serialized.add(pool);
    const run = pool.run.bind(pool);
    pool.run = (parts) => {
      const start = performance.now();
      for (const part of parts) run([part]);
      inSplit += performance.now() - start;
    };
    return loaded;
  };
  const kernels = backend.kernels as { load(format: Parameters<KernelBackend["kernels"]["load"]>[0]): LoadedFormat };
  const load = kernels.load.bind(kernels);
  kernels.load = (format) => serialize(load(format));
  serialize(load(fp32Format()));
  trainer.step();
  const shares: number[] = [];
  for (let window = 0; window < 3; window++) {
    inSplit = 0;
    const start = performance.now();
    for (let s = 0; s < steps; s++) trainer.step();
    shares.push(inSplit / (performance.now() - start));
  }
  return shares.sort((x, y) => x - y)[1]!;
}
