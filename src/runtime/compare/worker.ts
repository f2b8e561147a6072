/** The body of a comparison worker thread: one backend, then one run per message (see workers.ts); each family loads its data once per worker. */
import { parentPort, workerData } from "node:worker_threads";
import { createBackend, type BackendName } from "../backends/select.ts";
import { trainRun, type RunSpec } from "./run.ts";
import type { WorkerReply } from "./workers.ts";

const { backendName } = workerData as { backendName: BackendName };
const port = parentPort!;
const backend = await createBackend(backendName);
const send = (reply: WorkerReply) => port.postMessage(reply);

port.on("message", (spec: RunSpec) => {
  try {
    const result = trainRun(spec, backend, (event) => send({ kind: "event", event }));
    send({ kind: "done", result });
  } catch (error) {
    send({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
  }
});
