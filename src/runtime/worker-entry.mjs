// Worker bootstrap for the runtime's worker threads (`numforge compare --jobs N`, the webgpu
// backend's GPU thread): the runtime is TypeScript run through tsx's loader, which a worker
// thread must register for itself before importing the module named in workerData.module.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
