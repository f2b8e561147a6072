/**
 * Several processes on one comparison folder: no process drops another's finished runs, a run is
 * trained by one process at a time, and a run another process holds is waited for (and taken over
 * when that process dies, or skipped when it finished the run).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { runComparison } from "../../src/runtime/compare/comparison.ts";
import type { ResultsFile } from "../../src/runtime/compare/results.ts";
import type { ComparisonSettings } from "../../src/runtime/compare/settings.ts";
import { numforge, numforgeInProcess, ROOT } from "../cli/harness.ts";
import { writeIdxFixture } from "../compare/fixtures.ts";

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `numforge-adv-conc-${label}-`));
const data = tmp("idx");
const recipes = createRecipeRegistry(createRegistry());
const flags = (formats: string, out: string) =>
  ["compare", "--formats", formats, "--width", "3", "--epochs", "1", "--batch-size", "16", "--steps-per-epoch", "8", "--lr", "0.1", "--data", data, "--backend", "wasm", "--out", out];
// What those flags give, key for key (the settings fingerprint hashes them in order).
const settings: ComparisonSettings = {
  models: [{ model: "resnet", scale: 1, width: 3, epochs: 1, batchSize: 16, stepsPerEpoch: 8, optimizer: "sgd", learningRate: 0.1, data }],
  backend: "wasm",
};
const results = (out: string) => JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsFile;
const names = (r: ResultsFile) => r.runs.map((x) => x.recipe).sort();
const strip = (r: ResultsFile) => [...r.runs].sort((a, b) => a.recipe.localeCompare(b.recipe)).map(({ wallSeconds: _w, ...rest }) => rest);

let reference: ResultsFile; // fp32, e5m2 and bf16 trained by one process

beforeAll(async () => {
  writeIdxFixture(data, 320, 64);
  const out = tmp("reference");
  const r = await numforgeInProcess(flags("fp32,e5m2,bf16", out));
  expect(r.code, r.stderr).toBe(0);
  reference = results(out);
}, 120_000);

/** A process that stays alive until killed: the "other" holder of a lock. */
const sleeper = () => spawn(process.execPath, ["-e", "setTimeout(() => {}, 300000)"]);

/** Starts the CLI and resolves once its stderr matches `until` (then goes on collecting). */
function startCli(args: string[]) {
  const child = spawn(process.execPath, ["bin/numforge.js", ...args], { cwd: ROOT, stdio: "pipe" });
  let stderr = "";
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
    for (const w of [...waiters]) if (w.pattern.test(stderr)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    child,
    stderr: () => stderr,
    exited,
    until: (pattern: RegExp) => new Promise<void>((resolve) => (pattern.test(stderr) ? resolve() : waiters.push({ pattern, resolve }))),
  };
}

function holdLock(out: string, run: string, holder: ChildProcess) {
  mkdirSync(join(out, "locks"), { recursive: true });
  const path = join(out, "locks", `${run}.lock`);
  writeFileSync(path, `${JSON.stringify({ pid: holder.pid, hostname: hostname(), startedAt: new Date().toISOString(), what: "numforge compare" })}\n`);
  return path;
}

describe("two compare processes on one --out", () => {
  it("both exit 0, every run of both is in results.json once, and the run they share is trained once", async () => {
    const out = join(tmp("two"), "out");
    const [a, b] = await Promise.all([numforge(flags("fp32,e5m2", out)), numforge(flags("e5m2,bf16", out))]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const written = results(out);
    expect(names(written)).toEqual(["bf16", "e5m2", "fp32"]);
    expect(strip(written)).toEqual(strip(reference));
    expect(`${a.stderr}${b.stderr}`.match(/e5m2 seed 0: training/g)).toHaveLength(1);
    expect(readdirSync(join(out, "checkpoints"))).toEqual([]);
    expect(readdirSync(join(out, "locks"))).toEqual([]);
  }, 120_000);

  it("a run another process finished while this one trained stays in results.json (merged, not overwritten)", async () => {
    const out = tmp("merge");
    const bf16 = reference.runs.find((r) => r.recipe === "bf16")!;
    const backend = await createBackend("wasm");
    const final = runComparison({
      settings, recipes: ["fp32", "e5m2"].map((n) => Effect.runSync(recipes.get(n))), seeds: [0], outDir: out, backend, numforgeVersion: "test",
      // While fp32 trains, "another process" adds its finished bf16 run to results.json.
      afterCheckpoint: (i) => {
        if (i.recipe !== "fp32") return;
        const onDisk = results(out);
        writeFileSync(join(out, "results.json"), JSON.stringify({ ...onDisk, runs: [...onDisk.runs, bf16] }));
      },
    });
    expect(names(final)).toEqual(["bf16", "e5m2", "fp32"]);
    expect(names(results(out))).toEqual(["bf16", "e5m2", "fp32"]);
  });
});

describe("a run whose lock another process holds", () => {
  it("is left for last, waited for, and taken over when that process dies", async () => {
    const out = join(tmp("takeover"), "out");
    const other = sleeper();
    const lock = holdLock(out, "resnet-fp32-seed0", other);
    const cli = startCli(flags("fp32,e5m2", out));
    await cli.until(/waiting for it/);
    expect(cli.stderr()).toContain(`[1/2] fp32 seed 0: being trained by numforge compare (pid ${other.pid} on ${hostname()}, since `);
    expect(cli.stderr()).toMatch(/coming back to it after the other runs\n(.*\n)*\[2\/2\] e5m2 seed 0: training(.*\n)*.*fp32 seed 0: being trained by .*; waiting for it \(if that process is gone, delete .*fp32-seed0\.lock\)/);
    expect(existsSync(lock)).toBe(true);
    other.kill();
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stderr()).toContain("[1/2] fp32 seed 0: training, 8 steps");
    expect(strip(results(out))).toEqual(strip(reference).filter((r) => r.recipe !== "bf16"));
    expect(existsSync(lock)).toBe(false);
  }, 120_000);

  it("is skipped when that process finishes it", async () => {
    const out = join(tmp("finished-by-other"), "out");
    const other = sleeper();
    holdLock(out, "resnet-fp32-seed0", other);
    const cli = startCli(flags("fp32,e5m2", out));
    await cli.until(/waiting for it/);
    // The other process records its run, then exits.
    const onDisk = results(out);
    writeFileSync(join(out, "results.json"), JSON.stringify({ ...onDisk, runs: [...onDisk.runs, reference.runs.find((r) => r.recipe === "fp32")] }));
    other.kill();
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stderr()).not.toContain("fp32 seed 0: training");
    expect(cli.stderr()).toMatch(/fp32 seed 0: already finished, skipped/);
    expect(names(results(out))).toEqual(["e5m2", "fp32"]);
  }, 120_000);
});
