/**
 * Worker threads for `--jobs N`: each worker builds its own backend once and trains the runs it
 * is handed (see worker.ts); progress events and the finished RunResult come back as messages.
 * A worker that fails (an error thrown outside a run, or an exit) fails every run not yet done.
 */
import { Worker } from "node:worker_threads";
import type { BackendName } from "../backends/select.ts";
import type { RunResult } from "./results.ts";
import type { RunEvent, RunSpec } from "./run.ts";

/** Messages a worker sends. */
export type WorkerReply =
  | { readonly kind: "event"; readonly event: RunEvent }
  | { readonly kind: "done"; readonly result: RunResult }
  | { readonly kind: "failed"; readonly message: string };

interface Job {
  readonly spec: RunSpec;
  readonly onEvent: (event: RunEvent) => void;
  readonly resolve: (result: RunResult) => void;
  readonly reject: (error: Error) => void;
}

/** A fixed set of workers taking runs from one queue. */
export class WorkerPool {
  private readonly queue: Job[] = [];
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private failure: Error | null = null;
  private closing = false;

  constructor(size: number, backendName: BackendName) {
    const entry = new URL("../worker-entry.mjs", import.meta.url);
    const module = new URL("./worker.ts", import.meta.url).href;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry, { workerData: { module, backendName } });
      worker.on("message", (reply: WorkerReply) => this.receive(worker, reply));
      worker.on("error", (error) => this.fail(error));
      worker.on("exit", (code) => {
        if (!this.closing) this.fail(new Error(`a comparison worker stopped (exit code ${code})`));
      });
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  /** Trains `spec` on the next free worker. */
  run(spec: RunSpec, onEvent: (event: RunEvent) => void): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      if (this.failure !== null) return reject(this.failure);
      this.queue.push({ spec, onEvent, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(worker, job);
      worker.postMessage(job.spec);
    }
  }

  private receive(worker: Worker, reply: WorkerReply): void {
    const job = this.running.get(worker);
    if (job === undefined) return;
    if (reply.kind === "event") {
      job.onEvent(reply.event);
      return;
    }
    this.running.delete(worker);
    this.idle.push(worker);
    if (reply.kind === "done") job.resolve(reply.result);
    else job.reject(new Error(`${job.spec.settings.model} ${job.spec.recipe.name} seed ${job.spec.seed}: ${reply.message}`));
    this.dispatch();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const job of [...this.queue, ...this.running.values()]) job.reject(this.failure);
    this.queue.length = 0;
    this.running.clear();
  }
}
