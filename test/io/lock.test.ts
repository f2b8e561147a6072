/**
 * The output-folder lock (src/io/lock.ts): exclusive within a process and across processes,
 * a dead holder's lock taken over, a live or foreign one refused with a message naming the
 * holder and the lock file, bounded waiting.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { acquireLock, acquireLockSync, LockHeldError, lockFileFor, readHolder } from "../../src/io/lock.ts";

const child = fileURLToPath(new URL("./lock-child.ts", import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "numforge-lock-"));
const releases: (() => void)[] = [];
afterEach(() => releases.splice(0).forEach((r) => r()));

/** The pid of a process that has exited (so it is dead now, barring pid reuse within the test). */
const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid!;

function startChild(args: string[]) {
  return spawn(process.execPath, ["--import", "tsx", child, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

describe("acquireLock", () => {
  it("creates a lock file naming this process and removes it on release", async () => {
    const path = join(tmp(), "a.lock");
    const release = await acquireLock(path, { what: "numforge compile" });
    expect(readHolder(path)).toMatchObject({ pid: process.pid, hostname: hostname(), what: "numforge compile" });
    release();
    expect(existsSync(path)).toBe(false);
    release(); // idempotent
  });

  it("refuses a second holder in the same process with the holder's pid, host and the lock path", async () => {
    const path = join(tmp(), "a.lock");
    releases.push(await acquireLock(path, { what: "numforge compile" }));
    const error = await acquireLock(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    const message = (error as Error).message;
    expect(message).toContain(`pid ${process.pid}`);
    expect(message).toContain(hostname());
    expect(message).toContain(path);
    expect(message).toContain("numforge compile");
    expect(() => acquireLockSync(path)).toThrow(LockHeldError);
  });

  it("waits for the holder's release when asked to", async () => {
    const path = join(tmp(), "a.lock");
    const first = await acquireLock(path);
    setTimeout(first, 200);
    const second = await acquireLock(path, { wait: true, timeoutMs: 20_000 });
    expect(readHolder(path)?.pid).toBe(process.pid);
    second();
    expect(existsSync(path)).toBe(false);
  });

  it("gives up after timeoutMs and says it waited", async () => {
    const path = join(tmp(), "a.lock");
    releases.push(await acquireLock(path));
    const error = await acquireLock(path, { wait: true, timeoutMs: 250 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toMatch(/after waiting \d+ s/);
  });

  it("takes over a lock whose holder on this host is dead", async () => {
    const path = join(tmp(), "a.lock");
    const pid = deadPid();
    writeFileSync(path, JSON.stringify({ pid, hostname: hostname(), startedAt: "2020-01-01T00:00:00.000Z", what: "killed" }));
    releases.push(await acquireLock(path));
    expect(readHolder(path)?.pid).toBe(process.pid);
  });

  it("never takes over a lock from another host, whose pid means nothing here", async () => {
    const path = join(tmp(), "a.lock");
    writeFileSync(path, JSON.stringify({ pid: deadPid(), hostname: `not-${hostname()}`, startedAt: "2020-01-01T00:00:00.000Z", what: "x" }));
    await expect(acquireLock(path)).rejects.toThrow(`on not-${hostname()}`);
  });

  it("takes over an unreadable lock file only once it is old (a holder killed while writing it)", async () => {
    const path = join(tmp(), "a.lock");
    writeFileSync(path, "");
    await expect(acquireLock(path)).rejects.toThrow(LockHeldError);
    utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    releases.push(acquireLockSync(path));
    expect(readHolder(path)?.pid).toBe(process.pid);
  });

  it("names the lock of a folder beside it", () => {
    expect(lockFileFor("/x/out/")).toBe("/x/out.numforge-lock");
  });
});

describe("acquireLock across processes", () => {
  it("refuses while another process holds it and takes it over once that process is killed", async () => {
    const path = join(tmp(), "a.lock");
    const holder = startChild(["hold", path]);
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
      holder.on("exit", (code) => reject(new Error(`holder exited ${code}`)));
    });
    await expect(acquireLock(path)).rejects.toThrow(`pid ${holder.pid}`);
    const exited = new Promise((r) => holder.on("exit", r));
    holder.kill("SIGKILL");
    await exited;
    expect(readHolder(path)?.pid).toBe(holder.pid); // a kill leaves the file behind
    releases.push(await acquireLock(path));
    expect(readHolder(path)?.pid).toBe(process.pid);
  });

  it("lets exactly one of several processes into the critical section at a time", async () => {
    const dir = tmp();
    const path = join(dir, "a.lock");
    const log = join(dir, "log");
    writeFileSync(log, "");
    const children = Array.from({ length: 4 }, () => startChild(["section", path, log]));
    const codes = await Promise.all(children.map((c) => new Promise((r) => c.on("exit", r))));
    expect(codes).toEqual([0, 0, 0, 0]);
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(8);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.split(" ")[1];
      expect([lines[i], lines[i + 1]]).toEqual([`in ${pid}`, `out ${pid}`]);
    }
    expect(new Set(lines.map((l) => l.split(" ")[1])).size).toBe(4);
    expect(existsSync(path)).toBe(false);
  });
});
