/**
 * The thread pool itself (wasm-threads.js), on a two-function module written here byte by byte:
 * the calling thread and the workers claim a job's parts one at a time, so every part must run
 * exactly once per run() — whatever the part count (fewer or more parts than threads), however
 * late a worker wakes — and a part that traps fails that run() only, the pool staying usable.
 */
import { afterAll, describe, expect, it } from "vitest";
import { loadNodeWorkers, OP_CALL, sharedModule, startThreadPool, startThreadPoolSync, type ThreadPool } from "../../src/package-runtime/wasm-threads.js";

/** add1(p, n): n int32s from byte p each + 1; trap(p, n): unreachable. Imports env.memory (1 page). */
const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // type 0: (i32, i32) -> ()
  0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00,
  // import env.memory, min 1 page
  0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x01,
  // two functions of type 0
  0x03, 0x03, 0x02, 0x00, 0x00,
  // exports add1 = 0, trap = 1
  0x07, 0x0f, 0x02, 0x04, 0x61, 0x64, 0x64, 0x31, 0x00, 0x00, 0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x01,
  // code
  0x0a, 0x30, 0x02,
  0x2a, 0x00, // add1: 42 bytes, no locals
  0x02, 0x40, 0x03, 0x40, // block loop
  0x20, 0x01, 0x45, 0x0d, 0x01, // br_if 1 (n == 0)
  0x20, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x41, 0x01, 0x6a, 0x36, 0x02, 0x00, // mem[p] = mem[p] + 1
  0x20, 0x00, 0x41, 0x04, 0x6a, 0x21, 0x00, // p += 4
  0x20, 0x01, 0x41, 0x01, 0x6b, 0x21, 0x01, // n -= 1
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br 0, end loop, end block, end
  0x03, 0x00, 0x00, 0x0b, // trap: unreachable
]);

const WORDS = 4096;

function setUp() {
  const { memory, module } = sharedModule(MODULE, 1);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const raw = instance.exports as unknown as Record<string, (...args: number[]) => void>;
  return { memory, module, raw, names: ["add1", "trap"] };
}

/** Parts cutting [0, WORDS) at pseudo-random points: each adds 1 to its range. */
function partsOf(count: number, seed: number): (readonly [typeof OP_CALL, string, ...number[]])[][] {
  const cuts = new Set<number>([0, WORDS]);
  let s = seed;
  while (cuts.size < count + 1) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    cuts.add(1 + (s % (WORDS - 1)));
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  return sorted.slice(1).map((end, i) => [[OP_CALL, "add1", sorted[i]! * 4, end - sorted[i]!]]);
}

const pools: ThreadPool[] = [];
afterAll(async () => {
  for (const pool of pools) await pool.close();
});

describe("thread pool", () => {
  it("runs every part exactly once, for 1 to 40 parts on 3 threads, 600 runs in a row", async () => {
    const env = setUp();
    const pool = await startThreadPool({ ...env, threads: 3 });
    pools.push(pool);
    expect(pool.threads).toBe(3);
    const words = new Int32Array(env.memory.buffer, 0, WORDS);
    for (let run = 0; run < 600; run++) {
      const count = 1 + (run % 40);
      pool.run(partsOf(count, run));
      // Every word was incremented exactly once per run: a part run twice or skipped shows here at once.
      const wrong = words.findIndex((w) => w !== run + 1);
      expect(wrong, `run ${run} (${count} parts): word ${wrong}`).toBe(-1);
    }
    expect(pool.splitCalls).toBe(600 - 15);
  });

  it("a part that traps fails that run() only; the pool then runs on, synchronously started too", async () => {
    await loadNodeWorkers();
    const env = setUp();
    const pool = startThreadPoolSync({ ...env, threads: 2 });
    pools.push(pool);
    const words = new Int32Array(env.memory.buffer, 0, WORDS);
    const trapping = partsOf(6, 7);
    trapping[4] = [[OP_CALL, "trap", 0, 0]];
    expect(() => pool.run(trapping)).toThrow();
    const before = Int32Array.from(words);
    pool.run(partsOf(5, 9));
    expect(words.every((w, i) => w === before[i]! + 1)).toBe(true);
    expect(() => pool.run([[[OP_CALL, "missing", 0, 0]]])).toThrow(/no kernel missing/);
  });

  it("refuses runs after close", async () => {
    const env = setUp();
    const pool = await startThreadPool({ ...env, threads: 2 });
    await pool.close();
    expect(() => pool.run(partsOf(2, 1))).toThrow(/closed/);
  });
});
