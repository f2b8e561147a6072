#!/usr/bin/env node
// The installed package runs the compiled JavaScript in dist/ (built by `npm pack`'s prepack step).
// A checkout of the repository, which has src/, runs the TypeScript sources through tsx's loader,
// so an edit takes effect without a build and a stale dist/ is never what runs.
// `numforge --help` loads only the help text and the command list: the commands' imports (Effect,
// the format pipeline) cost several times node's own start-up.
import { existsSync } from "node:fs";

const checkout = existsSync(new URL("../src/cli/main.ts", import.meta.url));
const module = (path) => new URL(checkout ? `../src/${path}.ts` : `../dist/${path}.js`, import.meta.url).href;
if (checkout) (await import("tsx/esm/api")).register();

const argv = process.argv.slice(2);
if (argv[0] === "--help" || argv[0] === "-h" || (argv[0] === "help" && argv.length === 1)) {
  const [{ globalHelp }, { commands }] = await Promise.all([import(module("cli/help")), import(module("cli/registry"))]);
  process.stdout.write(`${globalHelp(commands)}\n`);
} else await import(module("cli/main"));
