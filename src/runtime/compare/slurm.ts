/**
 * `compare --executor slurm`: the runs of the grid that are not finished go to Slurm as one job
 * array, one task per run (array index = the run's grid position; each task is this same compare
 * with `--shard INDEX+1/GRID`, i.e. that one run). Tasks write into the shared --out with the
 * locked, merged per-run results of comparison.ts, so they, a local compare and this collector
 * never drop each other's runs.
 *
 * What was submitted is kept in OUT/slurm/jobs.json. Running the command again submits only what
 * is neither finished nor queued or running; a task that ended without its run's result
 * (cancelled, killed, out of time, failed) is reported with its log and submitted again. Task
 * states come from squeue while they are queued or running and from scontrol (or sacct, where
 * accounting is on) after, so no accounting database is needed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { acquireLockSync, LockHeldError, readHolder } from "../../io/lock.ts";
import { writeFileAtomic } from "../checkpoint.ts";
import { openComparison, type ComparisonOptions } from "./comparison.ts";
import { ComparisonError, slurmTaskOf } from "./folder.ts";
import type { GridRun } from "./grid.ts";
import { sameRun, type ResultsFile } from "./results.ts";

export interface SlurmOptions {
  readonly comparison: ComparisonOptions;
  /** The compare flags that rebuild these settings in a task (no --out, --shard, --executor, --jobs, --json). */
  readonly taskArgs: readonly string[];
  /** Extra sbatch options (`--slurm "…"`), e.g. --partition=cpu --time=2:00:00. */
  readonly sbatchOptions: readonly string[];
  /** Wait for the array and collect (default), or return after submitting. */
  readonly wait: boolean;
  /** Progress and reports, one line each (the CLI writes them to stderr). */
  readonly say: (line: string) => void;
  /** The longest wait between two squeue calls (default 10 s; after a change it starts again from 1 s). */
  readonly pollMs?: number;
}

/** What a Slurm comparison came to. */
export interface SlurmOutcome {
  readonly results: ResultsFile;
  /** Every run of the grid (or shard) is in results.json. */
  readonly complete: boolean;
  /** Job ids submitted by this call. */
  readonly submitted: readonly string[];
  /** Runs whose task ended without a result in this call's wait, as "recipe seed N (task J_T: STATE)". */
  readonly lost: readonly string[];
}

interface SubmittedJob {
  readonly job: string;
  /** Array indices: grid positions. */
  readonly tasks: readonly number[];
  readonly submittedAt: string;
}

/** Runs the comparison as a Slurm job array (see the header). */
export async function runComparisonOnSlurm(options: SlurmOptions): Promise<SlurmOutcome> {
  const { say } = options;
  const c = openComparison(options.comparison);
  mkdirSync(c.paths.slurm, { recursive: true });
  const outDir = resolve(options.comparison.outDir);
  const jobsFile = join(c.paths.slurm, "jobs.json");
  const recorded = (): SubmittedJob[] => (existsSync(jobsFile) ? (JSON.parse(readFileSync(jobsFile, "utf8")) as { jobs: SubmittedJob[] }).jobs : []);
  const label = (run: GridRun) => `[${run.index + 1}/${c.grid.length}] ${run.id.recipe} seed ${run.id.seed}${options.comparison.settings.models.length > 1 ? ` (${run.id.model})` : ""}`;
  const finished = (results: ResultsFile | null, run: GridRun) => results?.runs.some((r) => sameRun(r, run.id) && r.recipeFingerprint === run.recipe.fingerprint) === true;
  /** The last task submitted for each grid position. */
  const lastTask = (jobs: readonly SubmittedJob[]) => {
    const map = new Map<number, string>();
    for (const j of jobs) for (const t of j.tasks) map.set(t, `${j.job}_${t}`);
    return map;
  };

  const submitted: string[] = [];
  const release = lockSlurm(c.paths.locks);
  try {
    const jobs = recorded();
    const active = queuedTasks();
    const results = c.read();
    const last = lastTask(jobs);
    const missing = c.plan.filter((run) => !finished(results, run) && !active.has(last.get(run.index) ?? ""));
    for (const run of missing) {
      const task = last.get(run.index);
      if (task !== undefined) say(`${label(run)}: slurm task ${task} ended without a result (${endedState(task)}; log ${join(c.paths.slurm, `${task}.log`)}); submitting it again`);
      for (const lock of releaseLocksOfGoneTasks([c.paths.runLock(run.id), c.paths.resultsLock], active, jobs)) say(`removed ${lock}: its holder, a task Slurm no longer runs, was killed`);
    }
    const queued = c.plan.filter((run) => active.has(last.get(run.index) ?? ""));
    if (queued.length > 0) say(`${queued.length} run${queued.length === 1 ? "" : "s"} already queued or running in slurm job${new Set(queued.map((r) => last.get(r.index)!.split("_")[0])).size === 1 ? "" : "s"} ${[...new Set(queued.map((r) => last.get(r.index)!.split("_")[0]))].join(", ")}`);
    const done = c.plan.length - missing.length - queued.length;
    if (done > 0) say(`${done} of ${c.plan.length} runs already finished`);
    if (missing.length > 0) {
      const job = submit(options, c.paths.slurm, outDir, c.grid.length, missing.map((r) => r.index));
      submitted.push(job);
      writeFileAtomic(jobsFile, `${JSON.stringify({ jobs: [...jobs, { job, tasks: missing.map((r) => r.index), submittedAt: new Date().toISOString() }] }, null, 2)}\n`);
      say(`submitted slurm job ${job}: ${missing.length} array task${missing.length === 1 ? "" : "s"} (${missing.map((r) => `${r.id.recipe} seed ${r.id.seed}`).join(", ")}); logs in ${c.paths.slurm}`);
    }
  } finally {
    release();
  }

  const lost: string[] = [];
  if (options.wait) {
    let previous = "";
    let pause = 1000;
    for (;;) {
      const active = queuedTasks();
      const last = lastTask(recorded());
      const results = c.read();
      const states = c.plan.map((run) => (finished(results, run) ? "finished" : (active.get(last.get(run.index) ?? "") ?? "ended")));
      const count = (s: string) => states.filter((x) => x === s).length;
      const running = count("RUNNING") + count("COMPLETING");
      const waiting = states.length - count("finished") - count("ended") - running;
      const line = `slurm: ${count("finished")}/${states.length} runs finished, ${running} running, ${waiting} queued`;
      // Short sleeps while tasks come and go, longer ones while a long run trains.
      pause = line === previous ? Math.min(options.pollMs ?? 10_000, pause * 1.5) : 1000;
      if (line !== previous) say(line);
      previous = line;
      if (running + waiting === 0) {
        for (const run of c.plan.filter((_, i) => states[i] === "ended")) {
          const task = last.get(run.index) ?? "?";
          lost.push(`${run.id.recipe} seed ${run.id.seed} (task ${task}: ${endedState(task)})`);
          say(`${label(run)}: slurm task ${task} ended without a result (${endedState(task)}; log ${join(c.paths.slurm, `${task}.log`)}); run the same command again to resubmit it`);
        }
        break;
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }
  const results = c.update(); // the reports, from every task's runs
  return { results, complete: c.plan.every((run) => finished(results, run)), submitted, lost };
}

/** Held while deciding what to submit, so two collectors never submit one run twice. */
function lockSlurm(locks: string): () => void {
  try {
    return acquireLockSync(join(locks, "slurm.lock"), { wait: true, timeoutMs: 120_000, what: "numforge compare --executor slurm" });
  } catch (e) {
    if (e instanceof LockHeldError) throw new ComparisonError(e.lockPath, e.message);
    throw e;
  }
}

/** Runs a Slurm client command; a missing command or a refusal is a ComparisonError naming it. */
function slurmCommand(command: string, args: readonly string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.error !== undefined) {
    const missing = (r.error as NodeJS.ErrnoException).code === "ENOENT";
    throw new ComparisonError("--executor slurm", missing ? `${command} not found: run this on a machine with Slurm's client commands (sbatch, squeue, scontrol), e.g. a cluster's login node; see docs/cluster.md` : `${command}: ${r.error.message}`);
  }
  if (r.status !== 0) throw new ComparisonError("--executor slurm", `${command} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim().split("\n").pop()}`);
  return r.stdout;
}

/** This user's array tasks that Slurm still lists (queued, running, completing), as "JOB_TASK" → state. */
function queuedTasks(): Map<string, string> {
  const out = slurmCommand("squeue", ["-h", "-r", "-u", userInfo().username, "-o", "%F|%K|%T"]);
  const tasks = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [job, task, state] = line.trim().split("|");
    if (state !== undefined && /^\d+$/.test(task)) tasks.set(`${job}_${task}`, state);
  }
  return tasks;
}

/** How a task that Slurm no longer queues ended, as far as Slurm still knows. */
function endedState(task: string): string {
  const shown = spawnSync("scontrol", ["-o", "show", "job", task], { encoding: "utf8" });
  const fromScontrol = /JobState=(\S+)/.exec(shown.stdout ?? "")?.[1];
  if (shown.status === 0 && fromScontrol !== undefined) {
    const exit = /ExitCode=(\S+)/.exec(shown.stdout)?.[1];
    return fromScontrol === "COMPLETED" ? `exited without writing its result, exit code ${exit}` : `${fromScontrol}${exit !== undefined && exit !== "0:0" ? `, exit code ${exit}` : ""}`;
  }
  const accounted = spawnSync("sacct", ["-n", "-P", "-X", "-j", task, "-o", "State"], { encoding: "utf8" });
  const fromSacct = accounted.status === 0 ? accounted.stdout.trim().split("\n")[0] : "";
  // A pending array task cancelled before it was split off leaves no record at all.
  return fromSacct !== "" ? fromSacct : "cancelled or failed; Slurm keeps no record of it";
}

/** Removes locks held by array tasks of our jobs that Slurm no longer lists (killed on some node, so never released); returns their paths. */
function releaseLocksOfGoneTasks(locks: readonly string[], active: ReadonlyMap<string, string>, jobs: readonly SubmittedJob[]): string[] {
  const ours = new Set(jobs.map((j) => j.job));
  return locks.filter((lock) => {
    const holder = readHolder(lock);
    const task = holder === undefined ? null : slurmTaskOf(holder.what);
    if (task === null || !ours.has(task.job) || active.has(`${task.job}_${task.task}`)) return false;
    rmSync(lock, { force: true });
    return true;
  });
}

/** Submits one array task per grid position in `indices`; returns the job id. */
function submit(options: SlurmOptions, slurmDir: string, outDir: string, gridSize: number, indices: readonly number[]): string {
  const bin = fileURLToPath(new URL("../../../bin/numforge.js", import.meta.url));
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const args = ["compare", ...options.taskArgs, `--out=${outDir}`].map(quote).join(" ");
  const script = [
    "#!/bin/sh",
    "# Written by numforge compare --executor slurm: one run of the grid per array task (its grid position).",
    `cd ${quote(process.cwd())} || exit 1`,
    `exec ${quote(process.execPath)} ${quote(bin)} ${args} --shard="$((SLURM_ARRAY_TASK_ID + 1))/${gridSize}"`,
    "",
  ].join("\n");
  const scriptPath = join(slurmDir, `array-${new Date().toISOString().replace(/[:.]/g, "-")}.sh`);
  writeFileAtomic(scriptPath, script);
  const out = slurmCommand("sbatch", [
    "--parsable", "--job-name=numforge-compare", `--output=${join(slurmDir, "%A_%a.log")}`,
    ...options.sbatchOptions,
    `--array=${ranges(indices)}`, scriptPath,
  ]);
  const job = out.trim().split(";")[0];
  if (!/^\d+$/.test(job)) throw new ComparisonError("--executor slurm", `sbatch printed no job id (got "${out.trim()}")`);
  return job;
}

/** 0,1,2,5,7,8 → "0-2,5,7-8" (an --array list stays short for big grids). */
export function ranges(indices: readonly number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** `--slurm "…"` → sbatch arguments: split at spaces outside '…' and "…". */
export function splitOptions(text: string): string[] | string {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= "";
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? "") + ch;
  }
  if (quote !== null) return `--slurm has an unclosed ${quote}`;
  if (word !== null) words.push(word);
  return words;
}
