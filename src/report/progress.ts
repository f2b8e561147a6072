/**
 * Progress of a comparison on stderr. On a terminal: one status line redrawn in place (at most ten
 * times a second): a bar with loss and ETA for a single active run, a compact step count per run
 * when several train at once (--jobs). Otherwise plain lines: run start, every tenth of a run,
 * each epoch, run end. Every event names its run, so interleaved runs stay readable.
 */
import type { ComparisonEvent } from "../runtime/compare/comparison.ts";
import type { MetricInfo } from "../runtime/tasks/task.ts";
import { metricsLine } from "./summary.ts";

const BAR = 24;

interface Active {
  readonly label: string;
  readonly startedAt: number;
  firstStep: number;
  step: number;
  total: number;
  loss: number;
  readonly metrics: readonly MetricInfo[];
}

/** A progress sink for a comparison's events. */
export function progressReporter(
  write: (text: string) => void, terminal: boolean, now: () => number = () => performance.now(),
  /** Name the model in every line (comparisons of several models). */
  multiModel = false,
): (event: ComparisonEvent) => void {
  const active = new Map<string, Active>();
  let lastDraw = -Infinity;
  let drawn = false;
  const key = (run: { model: string; recipe: string; seed: number }) => `${run.model}\u0000${run.recipe}\u0000${run.seed}`;
  const name = (run: { model: string; recipe: string; seed: number }) => `${multiModel ? `${run.model} ` : ""}${run.recipe} seed ${run.seed}`;
  const line = (text: string) => {
    write(`${terminal && drawn ? "\r\x1b[K" : ""}${text}\n`);
    drawn = false;
  };
  const draw = (force: boolean) => {
    if (!terminal || active.size === 0 || (!force && now() - lastDraw < 100)) return;
    lastDraw = now();
    const runs = [...active.values()];
    let text: string;
    if (runs.length === 1) {
      const r = runs[0];
      const elapsed = (now() - r.startedAt) / 1000;
      const done = r.step - r.firstStep;
      const eta = done > 0 ? ((r.total - r.step) * elapsed) / done : 0;
      const filled = Math.round((BAR * r.step) / Math.max(1, r.total));
      text = `${r.label} ${"█".repeat(filled)}${"░".repeat(BAR - filled)} ${r.step}/${r.total} loss ${r.loss.toFixed(3)} ${elapsed.toFixed(0)} s, ETA ${eta.toFixed(0)} s`;
    } else {
      text = runs.map((r) => `${r.label} ${r.step}/${r.total}`).join(" · ");
    }
    write(`\r\x1b[K${text}`);
    drawn = true;
  };

  return (event) => {
    switch (event.kind) {
      case "run-skip":
        line(`[${event.index + 1}/${event.count}] ${name(event)}: already finished, skipped`);
        draw(true);
        return;
      case "run-busy":
        line(`[${event.index + 1}/${event.count}] ${name(event)}: being trained by ${event.holder}; ${event.waiting ? `waiting for it (if that process is gone, delete ${event.lockPath})` : "coming back to it after the other runs"}`);
        draw(true);
        return;
      case "checkpoint-set-aside":
        line(`${event.path}: ${event.reason}; set aside as ${event.movedTo}, ${name(event)} starts over`);
        draw(true);
        return;
      case "run-start": {
        const label = `[${event.index + 1}/${event.count}] ${name(event)}`;
        // A resumed run's first step event tells where it starts (for the ETA).
        active.set(key(event), { label, startedAt: now(), firstStep: event.resumedAtEpoch > 0 ? -1 : 0, step: 0, total: event.totalSteps, loss: Number.NaN, metrics: event.metrics });
        if (!terminal) line(`${label}: ${event.resumedAtEpoch > 0 ? `resuming after epoch ${event.resumedAtEpoch}` : "training"}, ${event.totalSteps} steps`);
        draw(true);
        return;
      }
      case "step": {
        const r = active.get(key(event));
        if (r === undefined) return;
        if (r.firstStep === -1) r.firstStep = event.step - 1;
        r.step = event.step;
        r.loss = event.loss;
        if (terminal) draw(event.step === event.totalSteps);
        else {
          const tenth = Math.max(1, Math.round(event.totalSteps / 10));
          if (event.step % tenth === 0 && event.step !== event.totalSteps)
            line(`${r.label}: step ${event.step}/${event.totalSteps}, loss ${event.loss.toFixed(4)}, ${((now() - r.startedAt) / 1000).toFixed(1)} s`);
        }
        return;
      }
      case "epoch": {
        const r = active.get(key(event));
        const metrics = r === undefined ? "" : `${metricsLine(r.metrics, event.record.metrics)}, `;
        line(`${r?.label ?? name(event)}: epoch ${event.record.epoch + 1}: ${metrics}test loss ${event.record.testLoss.toFixed(4)}`);
        draw(true);
        return;
      }
      case "run-end": {
        const run = event.run;
        const k = key(run);
        const r = active.get(k);
        const label = r?.label ?? name(run);
        active.delete(k);
        const outcome = run.diverged !== null
          ? `diverged at step ${run.diverged.step} (loss ${run.diverged.loss})`
          : r !== undefined && run.finalMetrics !== null ? metricsLine(r.metrics, run.finalMetrics) : `${run.metric} ${run.finalMetric}`;
        line(`${label}: ${outcome}, ${run.steps} steps, ${run.wallSeconds.toFixed(1)} s`);
        draw(true);
        return;
      }
    }
  };
}
