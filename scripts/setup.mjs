#!/usr/bin/env node
// Set-up that `npm test` (its pretest step), `npm start` and CI run on a fresh clone:
// 1. the npm dependencies, when missing or older than package-lock.json;
// 2. Mesa's lavapipe Vulkan driver from bookworm-backports, so the WGSL tests run WebGPU on the
//    CPU (scripts/setup-webgpu.sh; returns at once when it is installed). Tests only.
// Idempotent and quick when nothing is to do.
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const marker = `${root}node_modules/.package-lock.json`;
const lock = `${root}package-lock.json`;
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.log("numforge setup: installing npm dependencies (npm ci)");
  execSync("npm ci --no-audit --no-fund", { cwd: root, stdio: "inherit" });
}
if (process.argv.includes("--webgpu") && process.platform === "linux") {
  execSync("bash scripts/setup-webgpu.sh", { cwd: root, stdio: "inherit" });
}
