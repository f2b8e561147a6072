// Worker bootstrap for the runtime's worker threads (`numforge compare --jobs N`, the webgpu
// backend's GPU thread). workerData.module names the TypeScript source of the thread's module. In a
// checkout the sources run through tsx's loader, which a worker thread must register for itself; in
// the installed package (dist/, compiled, no tsx) the module is its compiled .js beside this file.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { workerData } from "node:worker_threads";

const source = workerData.module;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source);
} else await import(source.replace(/\.ts$/, ".js"));
