/** Types of wasm-threads.js (shipped in kernel packages, used by numforge's runtime). */
export declare const OP_CALL: 1;
export declare const OP_GATHER_COLUMNS: 2;

/** A job: operations run in order on one thread. */
export type JobOp = readonly [typeof OP_CALL, string, ...number[]] | readonly [typeof OP_GATHER_COLUMNS, number, number, number, number, number, number];

export interface ThreadPool {
  readonly threads: number;
  readonly splitCalls: number;
  run(jobs: readonly (readonly JobOp[])[], local: (job: readonly JobOp[]) => void): void;
  close(): Promise<void> | undefined;
}

export declare function threadsUnavailable(): string | null;
export declare function sharedBinary(wasm: Uint8Array, maxPages: number): Uint8Array;
export declare function sharedModule(wasm: Uint8Array, minPages: number): { memory: WebAssembly.Memory; module: WebAssembly.Module };
export declare function startThreadPool(options: { module: WebAssembly.Module; memory: WebAssembly.Memory; names: readonly string[]; threads: number }): Promise<ThreadPool>;
export declare function startThreadPoolSync(options: { module: WebAssembly.Module; memory: WebAssembly.Memory; names: readonly string[]; threads: number }): ThreadPool;
export declare function loadNodeWorkers(): Promise<boolean>;
export declare function splitRange(total: number, parts: number, granule: number, minimum?: number): [number, number][];
