#!/usr/bin/env node
// Set-up that `npm test` (its pretest step) and CI run on a fresh clone: install the npm
// dependencies when they are missing or stale. Idempotent and quick when nothing is to do.
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
