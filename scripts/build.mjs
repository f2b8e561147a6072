#!/usr/bin/env node
// `npm run build` (and `prepack`): compiles src/ to JavaScript and declarations in dist/, mirroring
// src/'s layout so every path the code computes from import.meta.url (../../formats/, the shipped
// package files, the worker entry) resolves the same from dist/ as from src/. Files under src/ that
// tsc does not emit (the shipped .js/.mjs/.d.ts of kernel packages and workers) are copied as they are.
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");

rmSync(dist, { recursive: true, force: true });
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });

const emitted = (name) => name.endsWith(".ts") && !name.endsWith(".d.ts");
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || emitted(entry.name)) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, relative(src, from)));
}
