/**
 * Sweeps beyond one process, against a real Slurm (the one-node cluster scripts/setup-slurm.sh
 * starts; `npm test` runs it as root): a grid through `--executor slurm` equals the same grid run
 * locally, run for run; a cancelled array task is reported and resubmitted by the next run; and
 * `--shard` slices merged by a plain compare equal the whole.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResultsFile } from "../../src/runtime/compare/results.ts";
import { ranges, splitOptions } from "../../src/runtime/compare/slurm.ts";
import { numforgeInProcess } from "../cli/harness.ts";
import { writeIdxFixture } from "../compare/fixtures.ts";

const tmp = (label: string) => {
  const dir = mkdtempSync(join(tmpdir(), `numforge-slurm-${label}-`));
  chmodSync(dir, 0o755);
  return dir;
};
const data = tmp("idx");
/** A 4-run grid (2 recipes × 2 seeds) of the tiniest settings that still train. */
const grid = (out: string, ...extra: string[]) =>
  ["compare", "--formats", "fp32,e5m2", "--seeds", "2", "--width", "2", "--epochs", "1", "--batch-size", "16", "--steps-per-epoch", "6", "--data", data, "--backend", "wasm", "--out", out, ...extra];
const results = (out: string) => JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsFile;
/** Every run's numbers (not its wall time or backend timing), in grid order. */
const runs = (r: ResultsFile) =>
  [...r.runs].sort((a, b) => `${a.recipe}/${a.seed}`.localeCompare(`${b.recipe}/${b.seed}`)).map(({ wallSeconds: _w, ...rest }) => rest);
const slurm = (...args: string[]) => spawnSync(args[0], args.slice(1), { encoding: "utf8" });
const jobsOf = (out: string) => (JSON.parse(readFileSync(join(out, "slurm", "jobs.json"), "utf8")) as { jobs: { job: string; tasks: number[] }[] }).jobs;

let local: ResultsFile;

beforeAll(async () => {
  const sinfo = slurm("sinfo", "-h", "-o", "%T");
  if (sinfo.status !== 0 || !/idle|mixed|allocated/.test(sinfo.stdout))
    throw new Error(`no Slurm cluster answers here (sinfo: ${(sinfo.stderr || sinfo.stdout || String(sinfo.error)).trim()}); start one as root: sudo bash scripts/setup-slurm.sh`);
  writeIdxFixture(data, 160, 32);
  const out = tmp("local");
  const r = await numforgeInProcess(grid(out));
  expect(r.code, r.stderr).toBe(0);
  local = results(out);
  expect(local.runs).toHaveLength(4);
}, 120_000);

describe("compare --executor slurm", () => {
  it("runs the grid as one job array and gets the local run's numbers, run for run", async () => {
    const out = tmp("array");
    const r = await numforgeInProcess(grid(out, "--executor", "slurm"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/submitted slurm job \d+: 4 array tasks \(fp32 seed 0, fp32 seed 1, e5m2 seed 0, e5m2 seed 1\)/);
    expect(r.stderr).toContain("slurm: 4/4 runs finished, 0 running, 0 queued");
    expect(r.stdout).toMatch(/\| fp32 \| \d+\.\d\d ± \d+\.\d\d \| — \| 0\/2 \|/);
    expect(jobsOf(out)).toHaveLength(1);
    expect(jobsOf(out)[0].tasks).toEqual([0, 1, 2, 3]);
    expect(runs(results(out))).toEqual(runs(local));
    expect(readFileSync(join(out, "report.md"), "utf8")).toMatch(/\| e5m2 \|/);

    // Everything is finished: the same command again submits nothing.
    const again = await numforgeInProcess(grid(out, "--executor", "slurm"));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("4 of 4 runs already finished");
    expect(again.stderr).not.toContain("submitted");
    expect(jobsOf(out)).toHaveLength(1);
  }, 240_000);

  it("a cancelled task is reported by the next run, which resubmits only that run and ends with the local numbers", async () => {
    const out = tmp("cancel");
    // Submitted held, so the task is cancelled before it can run, whatever the machine's speed.
    const first = await numforgeInProcess(grid(out, "--executor", "slurm", "--no-wait", "--slurm=--hold"));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^submitted slurm job \d+; run the same command again/);
    const [{ job }] = jobsOf(out);
    expect(slurm("scancel", `${job}_3`).status).toBe(0);
    expect(slurm("scontrol", "release", job).status).toBe(0);

    const second = await numforgeInProcess(grid(out, "--executor", "slurm"));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`\\[4/4\\] e5m2 seed 1: slurm task ${job}_3 ended without a result \\((CANCELLED|cancelled or failed)[^)]*; log .*${job}_3\\.log\\); submitting it again`));
    expect(second.stderr).toMatch(/submitted slurm job \d+: 1 array task \(e5m2 seed 1\)/);
    const jobs = jobsOf(out);
    expect(jobs.map((j) => j.tasks)).toEqual([[0, 1, 2, 3], [3]]);
    expect(runs(results(out))).toEqual(runs(local));
  }, 240_000);

  it("a task cancelled while it trains: its lock is let go, the resubmitted task resumes from its checkpoint, and the numbers are the uninterrupted run's", async () => {
    const longer = (out: string, ...extra: string[]) =>
      ["compare", "--formats", "fp32", "--width", "2", "--epochs", "6", "--batch-size", "16", "--steps-per-epoch", "10", "--data", data, "--backend", "wasm", "--out", out, ...extra];
    const straightOut = tmp("straight");
    expect((await numforgeInProcess(longer(straightOut))).code).toBe(0);
    const out = tmp("kill");
    expect((await numforgeInProcess(longer(out, "--executor", "slurm", "--no-wait"))).code).toBe(0);
    const [{ job }] = jobsOf(out);
    const checkpoint = join(out, "checkpoints", "resnet-fp32-seed0.ckpt");
    for (let i = 0; i < 2400 && !existsSync(checkpoint); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(checkpoint)).toBe(true); // at least one epoch done, more to go
    expect(slurm("scancel", `${job}_0`).status).toBe(0);
    for (let i = 0; i < 200 && slurm("squeue", "-h", "-j", job).stdout.trim() !== ""; i++) await new Promise((r) => setTimeout(r, 100));

    const again = await numforgeInProcess(longer(out, "--executor", "slurm"));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`fp32 seed 0: slurm task ${job}_0 ended without a result \\(CANCELLED`));
    const resubmitted = jobsOf(out)[1].job;
    expect(readFileSync(join(out, "slurm", `${resubmitted}_0.log`), "utf8")).toMatch(/fp32 seed 0: resuming after epoch [1-5], 60 steps/);
    expect(runs(results(out))).toEqual(runs(results(straightOut)));
    expect(readdirSync(join(out, "locks")).filter((n) => n.endsWith(".lock"))).toEqual([]);
  }, 240_000);

  it("refuses --slurm and --no-wait without --executor slurm, and an unknown executor", async () => {
    for (const [args, message] of [
      [["--no-wait"], /--no-wait applies to --executor slurm/],
      [["--slurm=--time=1"], /--slurm applies to --executor slurm/],
      [["--executor", "k8s"], /unknown executor "k8s"; executors: local, slurm/],
      [["--executor", "slurm", "--jobs", "2"], /--jobs trains runs at once on this machine/],
    ] as const) {
      const r = await numforgeInProcess(grid(tmp("bad"), ...args));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it("where Slurm's commands are missing: one line saying what is needed", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const r = await numforgeInProcess(grid(tmp("no-slurm"), "--executor", "slurm"));
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^--executor slurm: squeue not found: run this on a machine with Slurm's client commands \(sbatch, squeue, scontrol\), e\.g\. a cluster's login node; see docs\/cluster\.md$/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("compare --shard", () => {
  it("slices 1/3, 2/3 and 3/3 into one folder; a plain compare over it trains nothing and equals the whole", async () => {
    const out = tmp("shards");
    const trained: string[] = [];
    for (const shard of ["1/3", "2/3", "3/3"]) {
      const r = await numforgeInProcess(grid(out, "--shard", shard));
      expect(r.code, r.stderr).toBe(0);
      trained.push(...[...r.stderr.matchAll(/\] (\S+ seed \d): training/g)].map((m) => m[1]));
    }
    // Round-robin over grid positions 0..3: shard 1 has 0 and 3, shard 2 has 1, shard 3 has 2.
    expect(trained).toEqual(["fp32 seed 0", "e5m2 seed 1", "fp32 seed 1", "e5m2 seed 0"]);
    const merged = await numforgeInProcess(grid(out));
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stderr).not.toContain("training");
    expect(merged.stderr.match(/already finished, skipped/g)).toHaveLength(4);
    expect(runs(results(out))).toEqual(runs(local));
  }, 120_000);
});

describe("sbatch arguments", () => {
  it("an --array list of grid positions as ranges", () => {
    expect(ranges([0, 1, 2, 5, 7, 8])).toBe("0-2,5,7-8");
    expect(ranges([3])).toBe("3");
    expect(ranges([9, 1, 0])).toBe("0-1,9");
  });
  it("--slurm split like a shell would, quotes kept together", () => {
    expect(splitOptions(`--partition=cpu  --time=2:00:00 --comment="a b" --x='c d'`)).toEqual(["--partition=cpu", "--time=2:00:00", "--comment=a b", "--x=c d"]);
    expect(splitOptions("")).toEqual([]);
    expect(splitOptions(`--comment="open`)).toBe('--slurm has an unclosed "');
  });
});
