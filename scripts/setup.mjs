#!/usr/bin/env node
// Set-up that `npm test` (its pretest step), `npm start` and CI run on a fresh clone:
// 1. the npm dependencies, when missing or older than package-lock.json;
// 2. for tests (--tests; --webgpu, the flag pretest has always passed, means the same):
//    - Mesa's lavapipe Vulkan driver from bookworm-backports, so the WGSL tests run WebGPU on the
//      CPU (scripts/setup-webgpu.sh);
//    - a one-node Slurm cluster on this machine for the `compare --executor slurm` tests
//      (scripts/setup-slurm.sh);
//    - Debian's chromium, which the report and explore page tests drive headless (scripts/setup-chromium.sh).
//    Each returns at once when already in place. Installing needs root (CI runs as root); without
//    it, and without them, this says exactly what to run instead and stops before the tests.
// Idempotent and quick when nothing is to do.
import { execSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const marker = `${root}node_modules/.package-lock.json`;
const lock = `${root}package-lock.json`;
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.log("numforge setup: installing npm dependencies (npm ci)");
  execSync("npm ci --no-audit --no-fund", { cwd: root, stdio: "inherit" });
}

const forTests = process.argv.includes("--tests") || process.argv.includes("--webgpu");
if (forTests && process.platform === "linux") {
  const isRoot = process.getuid?.() === 0;
  const parts = [
    { script: "scripts/setup-webgpu.sh", what: "lavapipe (a CPU Vulkan driver, for the WGSL tests)", tests: testsMentioning(/createBackend\("webgpu"\)|from "webgpu"|wgsl\/(runner|device)\.ts|requestAdapter|"--backend", "webgpu"/) },
    { script: "scripts/setup-slurm.sh", what: "a one-node Slurm cluster (for the --executor slurm tests)", tests: ["test/slurm/**"] },
    { script: "scripts/setup-chromium.sh", what: "Debian's chromium (for the headless browser tests of the report and explore pages)", tests: testsMentioning(/support\/chromium(\.ts)?"/) },
  ];
  const missing = [];
  for (const part of parts) {
    // As root a failure is real (CI must install everything): it stops here with the script's own message.
    if (isRoot) execSync(`bash ${part.script}`, { cwd: root, stdio: "inherit" });
    // Otherwise each script returns 0 at once when its part is already in place, and 1 when it would need root.
    else if (spawnSync("bash", [part.script], { cwd: root, stdio: ["ignore", "ignore", "ignore"] }).status !== 0) missing.push(part);
  }
  if (missing.length > 0) {
    const excludes = missing.flatMap((p) => p.tests).map((t) => `--exclude '${t}'`).join(" ");
    console.error(
      [
        `numforge setup: the tests need ${missing.map((p) => p.what).join(" and ")}, which this machine lacks, and installing needs root. Either:`,
        `  sudo ${missing.map((p) => `bash ${p.script}`).join(" && sudo ")} && npm test`,
        "or run every other test now, without them:",
        `  npx tsc --noEmit -p . && npx vitest run ${excludes}`,
      ].join("\n"),
    );
    process.exit(1);
  }
}

/** Test files whose text matches `pattern` (those that open a WebGPU device, or a browser), as paths from the root. */
function testsMentioning(pattern) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".test.ts") && pattern.test(readFileSync(path, "utf8"))) found.push(relative(root, path));
    }
  };
  walk(join(root, "test"));
  return found.sort();
}
