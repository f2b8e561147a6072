/** Types of wasm-threads.js (shipped in kernel packages, used by numforge's runtime). */
export declare const OP_CALL: 1;
export declare const OP_GATHER_COLUMNS: 2;
export declare const OP_COPY_ROWS: 3;

/** A job: operations run in order on one thread. */
export type JobOp =
  | readonly [typeof OP_CALL, string, ...number[]]
  | readonly [typeof OP_GATHER_COLUMNS, number, number, number, number, number, number]
  | readonly [typeof OP_COPY_ROWS, number, number, number, number, number, number];

/** Parts one run() may take at most. */
export declare const MAX_PARTS: number;

export interface ThreadPool {
  readonly threads: number;
  readonly splitCalls: number;
  /** Runs the parts (each a list of operations) on this thread and the workers, each part claimed by whoever is free. */
  run(parts: readonly (readonly JobOp[])[]): void;
  close(): Promise<void> | undefined;
}

export declare function threadsUnavailable(): string | null;
export declare function sharedBinary(wasm: Uint8Array, maxPages: number): Uint8Array;
export declare function sharedModule(wasm: Uint8Array, minPages: number): { memory: WebAssembly.Memory; module: WebAssembly.Module };
export interface PoolOptions {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** The kernels jobs may call, by name. */
  readonly names: readonly string[];
  readonly threads: number;
  /** This thread's instance's exports (on the same memory): it runs parts too. */
  readonly raw: Readonly<Record<string, (...args: number[]) => void>>;
}
export declare function startThreadPool(options: PoolOptions): Promise<ThreadPool>;
export declare function startThreadPoolSync(options: PoolOptions): ThreadPool;
export declare function loadNodeWorkers(): Promise<boolean>;
export declare function splitRange(total: number, parts: number, granule: number, minimum?: number): [number, number][];
