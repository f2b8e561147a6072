/**
 * A second process for the lock tests: `hold LOCK` takes the lock, prints "locked" and holds it
 * until killed; `section LOCK LOG` waits for the lock, appends "in PID" and "out PID" to LOG
 * around a short pause, and releases it.
 */
import { appendFileSync } from "node:fs";
import { acquireLock } from "../../src/io/lock.ts";

const [mode, lockPath, log] = process.argv.slice(2);
if (mode === "hold") {
  await acquireLock(lockPath!, { what: "lock test holder" });
  process.stdout.write("locked\n");
  setInterval(() => {}, 1_000);
} else {
  const release = await acquireLock(lockPath!, { wait: true, timeoutMs: 60_000, what: "lock test section" });
  appendFileSync(log!, `in ${process.pid}\n`);
  await new Promise((r) => setTimeout(r, 30));
  appendFileSync(log!, `out ${process.pid}\n`);
  release();
}
