/**
 * Training on threads: the wasm backend with NUMFORGE_THREADS = 2 (its GEMMs split by rows of C,
 * the recipes' quantizations by element ranges) trains to the same numbers as one thread, bit for
 * bit, for the same seed; the work was split; a bad NUMFORGE_THREADS is refused with what is allowed.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { createBackend, threadsFromEnvironment } from "../../src/runtime/backends/select.ts";
import { fp32Format } from "../../src/runtime/backends/js.ts";
import { trainRun } from "../../src/runtime/compare/run.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { createRegistry } from "../../src/dsl/registry.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-train-threads-"));
const recipes = createRecipeRegistry(createRegistry());
const settings = { model: "resnet", scale: 0.25, width: 4, epochs: 1, batchSize: 32, stepsPerEpoch: 3, optimizer: "sgd", learningRate: 0.2, data: null } as const;

/** A run's record without what depends on the clock. */
const numbers = (value: unknown) => JSON.stringify(value, (key, v) => (/time|seconds|ms$|wall|perSecond|imagesPer|throughput/i.test(key) ? undefined : v));

describe("training on threads", () => {
  it("mxfp8 on 2 threads trains to the numbers of 1 thread, bit for bit, and splits the work", async () => {
    const recipe = Effect.runSync(recipes.get("mxfp8"));
    const results: string[] = [];
    for (const threads of [1, 2]) {
      const backend = await createBackend("wasm", threads);
      const spec = { settings, settingsFingerprint: "threads-test", recipe, seed: 3, checkpointPath: join(root, `run-${threads}.ckpt`), index: 0, count: 1, numericsEvery: 0 };
      // biome-ignore lint: the settings literal is a ModelSettings
      results.push(numbers(trainRun(spec as any, backend)));
      if (threads === 2) {
        expect(backend.kernels.threads).toBe(2);
        expect(backend.kernels.load(fp32Format()).pool?.splitCalls ?? 0).toBeGreaterThan(0);
      }
      await backend.close?.();
    }
    expect(results[1]).toBe(results[0]);
    expect(results[0]).toMatch(/accuracy|loss/);
  });

  it("NUMFORGE_THREADS: unset is 1; anything but an integer from 1 to 256 is refused, naming it", () => {
    expect(threadsFromEnvironment({})).toBe(1);
    expect(threadsFromEnvironment({ NUMFORGE_THREADS: "4" })).toBe(4);
    for (const bad of ["0", "1.5", "two", "-2", "999"]) expect(() => threadsFromEnvironment({ NUMFORGE_THREADS: bad })).toThrow(`NUMFORGE_THREADS = "${bad}": give an integer from 1 to 256`);
  });
});
