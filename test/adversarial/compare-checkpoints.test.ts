/**
 * Checkpoints a user (or a disk) damaged, or that belong to another run: never resumed from. Each is
 * set aside under a new name (its bytes kept), the run starts over and ends with the numbers of a
 * run never interrupted, results.json records it, and one line on stderr names the path.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { createBackend } from "../../src/runtime/backends/select.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/runtime/checkpoint.ts";
import { runComparison } from "../../src/runtime/compare/comparison.ts";
import type { ResultsFile } from "../../src/runtime/compare/results.ts";
import type { ComparisonSettings } from "../../src/runtime/compare/settings.ts";
import { numforgeInProcess } from "../cli/harness.ts";
import { writeIdxFixture } from "../compare/fixtures.ts";

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `numforge-adv-ckpt-${label}-`));
const recipes = createRecipeRegistry(createRegistry());
const data = tmp("idx");
// The settings the CLI flags below give, key for key (the fingerprint hashes them in order).
const settings: ComparisonSettings = {
  models: [{ model: "resnet", scale: 1, width: 3, epochs: 2, batchSize: 16, stepsPerEpoch: 8, optimizer: "sgd", learningRate: 0.1, data }],
  backend: "wasm",
};
const cli = (out: string, extra: string[] = []) =>
  numforgeInProcess(["compare", "--formats", "fp32,fp8-hybrid", "--width", "3", "--epochs", "2", "--batch-size", "16", "--steps-per-epoch", "8", "--lr", "0.1", "--data", data, "--backend", "wasm", "--out", out, ...extra]);
const CKPT = "resnet-fp8-hybrid-seed0.ckpt";
const strip = (r: ResultsFile) => r.runs.map(({ wallSeconds: _w, ...rest }) => rest);
const results = (out: string) => JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsFile;

let killed: string; // a folder whose comparison was killed after fp8-hybrid's first epoch
let straight: ResultsFile;

beforeAll(async () => {
  writeIdxFixture(data, 320, 64);
  const backend = await createBackend("wasm");
  killed = tmp("killed");
  expect(() =>
    runComparison({
      settings, recipes: ["fp32", "fp8-hybrid"].map((n) => Effect.runSync(recipes.get(n))), seeds: [0], outDir: killed, backend, numforgeVersion: "test",
      afterCheckpoint: (i) => { if (i.recipe === "fp8-hybrid" && i.epoch === 1) throw new Error("killed"); },
    }),
  ).toThrow("killed");
  const out = tmp("straight");
  expect((await cli(out)).code).toBe(0);
  straight = results(out);
}, 120_000);

/** A copy of the killed folder with its checkpoint replaced by `damage(bytes)`. */
function damaged(label: string, damage: (bytes: Uint8Array) => Uint8Array): { out: string; bytes: Uint8Array } {
  const out = join(tmp(label), "out");
  cpSync(killed, out, { recursive: true });
  const bytes = damage(new Uint8Array(readFileSync(join(out, "checkpoints", CKPT))));
  writeFileSync(join(out, "checkpoints", CKPT), bytes);
  return { out, bytes };
}

/** Resumes `out` through the CLI and checks: one line, set aside with its bytes kept, restarted, recorded, same numbers. */
async function expectSetAside(out: string, bytes: Uint8Array, kind: "damaged" | "foreign", reason: RegExp) {
  const r = await cli(out);
  expect(r.code, r.stderr).toBe(0);
  const path = join(out, "checkpoints", CKPT);
  const lines = r.stderr.split("\n").filter((l) => l.includes("set aside"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*; set aside as ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.${kind}-[0-9TZ-]+, fp8-hybrid seed 0 starts over$`));
  expect(lines[0]).toMatch(reason);
  expect(r.stderr).toContain("fp8-hybrid seed 0: training, 16 steps"); // from the start, not "resuming"
  const aside = readdirSync(join(out, "checkpoints")).filter((n) => n.startsWith(`${CKPT}.${kind}-`));
  expect(aside).toHaveLength(1);
  expect(new Uint8Array(readFileSync(join(out, "checkpoints", aside[0])))).toEqual(bytes);
  const written = results(out);
  expect(written.checkpointsSetAside).toHaveLength(1);
  expect(written.checkpointsSetAside![0]).toMatchObject({ model: "resnet", recipe: "fp8-hybrid", seed: 0, path, movedTo: join(out, "checkpoints", aside[0]) });
  expect(written.checkpointsSetAside![0].reason).toMatch(reason);
  expect(strip(written)).toEqual(strip(straight));
}

describe("a comparison never resumes from a checkpoint it cannot trust", () => {
  it("an intact checkpoint resumes (the baseline the cases below depart from)", async () => {
    const out = join(tmp("intact"), "out");
    cpSync(killed, out, { recursive: true });
    const r = await cli(out);
    expect(r.stderr).toContain("fp8-hybrid seed 0: resuming after epoch 1");
    expect(r.stderr).not.toContain("set aside");
    expect(strip(results(out))).toEqual(strip(straight));
  });

  it("one flipped bit in the weights", async () => {
    const { out, bytes } = damaged("flip", (b) => {
      const c = b.slice();
      c[c.length - 100] ^= 0x04;
      return c;
    });
    await expectSetAside(out, bytes, "damaged", /damaged checkpoint \(checksum mismatch/);
  });

  it("truncated", async () => {
    const { out, bytes } = damaged("truncated", (b) => b.slice(0, Math.floor(b.length / 2)));
    await expectSetAside(out, bytes, "damaged", /damaged checkpoint \(checksum mismatch/);
  });

  it("truncated to a few bytes, and empty", async () => {
    const few = damaged("few", (b) => b.slice(0, 20));
    await expectSetAside(few.out, few.bytes, "damaged", /truncated to 20 bytes/);
    const empty = damaged("empty", () => new Uint8Array(0));
    await expectSetAside(empty.out, empty.bytes, "damaged", /not a numforge checkpoint/);
  });

  it("garbage", async () => {
    const { out, bytes } = damaged("garbage", (b) => Uint8Array.from(b, (_, i) => (i * 2654435761) >>> 24));
    await expectSetAside(out, bytes, "damaged", /not a numforge checkpoint/);
  });

  it("a wrong epoch in the header: the checksum catches the edit", async () => {
    const { out, bytes } = damaged("epoch", (b) => {
      const text = Buffer.from(b).toString("latin1");
      expect(text).toContain('"epoch":1,');
      return new Uint8Array(Buffer.from(text.replace('"epoch":1,', '"epoch":2,'), "latin1"));
    });
    await expectSetAside(out, bytes, "damaged", /checksum mismatch/);
  });

  it("a wrong epoch in a header whose checksum was recomputed: the counts do not fit, so the run is not ended early as finished", async () => {
    const { out, bytes } = damaged("epoch-resealed", (b) => {
      const c = decodeCheckpoint(b, "x");
      const meta = c.meta as { session: { epoch: number } };
      return encodeCheckpoint({ meta: { ...meta, session: { ...meta.session, epoch: 2 } }, arrays: c.arrays });
    });
    await expectSetAside(out, bytes, "foreign", /does not fit this run \(epoch 2, step 8 do not fit a run of 2 epochs of 8 steps\)/);
  });

  it("a checkpoint of other settings (another learning rate)", async () => {
    const other = tmp("other-lr");
    await numforgeInProcess(["compare", "--formats", "fp8-hybrid", "--width", "3", "--epochs", "2", "--batch-size", "16", "--steps-per-epoch", "8", "--lr", "0.05", "--data", data, "--backend", "wasm", "--out", other]);
    // That run finished and removed its checkpoint: rebuild one of its epoch-1 state by re-tagging ours with its fingerprint.
    const foreignFingerprint = results(other).settingsFingerprint;
    const { out, bytes } = damaged("foreign", (b) => {
      const c = decodeCheckpoint(b, "x");
      const meta = c.meta as { tag: Record<string, unknown> };
      return encodeCheckpoint({ meta: { ...meta, tag: { ...meta.tag, settingsFingerprint: foreignFingerprint } }, arrays: c.arrays });
    });
    await expectSetAside(out, bytes, "foreign", new RegExp(`checkpoint of another run or settings \\(settingsFingerprint "${foreignFingerprint}"`));
  });

  it("a checkpoint of the layout before checksums (NFCKPT01) cannot be verified: set aside", async () => {
    const { out, bytes } = damaged("old", (b) => {
      const c = b.slice(0, b.length - 32); // the old layout: no checksum trailer
      c.set(new TextEncoder().encode("NFCKPT01"), 0);
      return c;
    });
    await expectSetAside(out, bytes, "foreign", /older numforge, without a checksum/);
  });
});

describe("temporary files a kill left behind", () => {
  it("are removed on the next run when their process is gone; a live process's are kept", async () => {
    const out = join(tmp("temporaries"), "out");
    cpSync(killed, out, { recursive: true });
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid!; // exited: its pid is dead
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 120000)"]);
    const live = sleeper.pid!; // another live process on this host
    const files = {
      results: join(out, `results.json.tmp-${gone}`),
      report: join(out, `report.html.tmp-${gone}`),
      checkpoint: join(out, "checkpoints", `${CKPT}.tmp-${gone}`),
      finishedRunCheckpoint: join(out, "checkpoints", `resnet-fp32-seed0.ckpt.tmp-${gone}`),
      liveOne: join(out, `results.json.tmp-${live}`),
    };
    for (const f of Object.values(files)) writeFileSync(f, "half-written");
    const r = await cli(out).finally(() => sleeper.kill());
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(files.results)).toBe(false);
    expect(existsSync(files.report)).toBe(false);
    expect(existsSync(files.checkpoint)).toBe(false);
    expect(existsSync(files.finishedRunCheckpoint)).toBe(false);
    expect(readFileSync(files.liveOne, "utf8")).toBe("half-written");
    expect(strip(results(out))).toEqual(strip(straight));
  });
});
