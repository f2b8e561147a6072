// Worker bootstrap for `numforge compare --jobs N`: the runtime is TypeScript run through tsx's
// loader, which a worker thread must register for itself before importing it.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
