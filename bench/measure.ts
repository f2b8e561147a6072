/**
 * Timing for the benchmarks: every variant of a comparison is warmed up, then the variants run
 * round-robin so a change in machine load hits them alike, and each reports its median.
 *
 * Runs are timed in CPU time of this process (user + system) by default: on a shared machine
 * wall-clock time mostly measures the other processes (here a load average of 5 on 2 cores made
 * wall-clock medians swing 2× between identical runs, CPU-time medians a few percent).
 * NUMFORGE_BENCH_CLOCK=wall switches to wall-clock time.
 */
import { cpus, loadavg } from "node:os";

export interface Variant {
  readonly name: string;
  readonly run: () => void;
}

export interface MeasureOptions {
  /** Timed runs per variant (the median is reported); at least 5. */
  readonly runs?: number;
  /** Warm-up per variant: at least `warmupRuns` runs and at least `warmupMs` milliseconds. */
  readonly warmupRuns?: number;
  readonly warmupMs?: number;
  /** The clock runs are timed with (default CLOCK); GPU work needs "wall": it is done outside this process's CPU time. */
  readonly clock?: Clock;
}

/** Median seconds per run (on CLOCK) of each variant, by name. */
export type Clock = "cpu" | "wall";

/** The clock runs are timed with (NUMFORGE_BENCH_CLOCK=wall|cpu, default cpu). */
export const CLOCK: Clock = process.env.NUMFORGE_BENCH_CLOCK === "wall" ? "wall" : "cpu";

/** Seconds of `run` on the clock. */
function timed(run: () => void, clock: Clock): number {
  if (clock === "wall") {
    const start = performance.now();
    run();
    return (performance.now() - start) / 1000;
  }
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

export function measure(variants: readonly Variant[], options: MeasureOptions = {}): Map<string, number> {
  const runs = Math.max(5, options.runs ?? 5);
  const warmupRuns = options.warmupRuns ?? 2;
  const warmupMs = options.warmupMs ?? 200;
  for (const v of variants) {
    const start = performance.now();
    for (let i = 0; i < warmupRuns || performance.now() - start < warmupMs; i++) v.run();
  }
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < runs; r++) {
    for (const v of variants) {
      times.get(v.name)?.push(timed(v.run, options.clock ?? CLOCK));
    }
  }
  return new Map([...times].map(([name, t]) => [name, median(t)]));
}

/**
 * Median over `pairs` of variant / baseline, each variant run timed between two baseline runs
 * (b, v, b, v, …, b) and divided by their mean: load that drifts during a run cancels to first
 * order, where a ratio of two medians taken minutes apart does not. Both are warmed up before.
 */
export function pairedRatio(baseline: Variant, variant: Variant, pairs: number, clock: Clock = CLOCK): number {
  const base = [timed(baseline.run, clock)];
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const t = timed(variant.run, clock);
    base.push(timed(baseline.run, clock));
    ratios.push(t / ((base[p] + base[p + 1]) / 2));
  }
  return median(ratios);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One line about the machine, its load included: the numbers mean little without it. */
export function machineLine(): string {
  const cpu = cpus();
  const load = loadavg().map((x) => x.toFixed(2)).join(" ");
  return `node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, load average ${load}; timed in ${CLOCK === "cpu" ? "CPU time of this process" : "wall-clock time"}`;
}
