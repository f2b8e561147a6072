/** `numforge explore --out DIR`: writes a static page that shows formats and runs their kernels in the browser. */
import * as Effect from "effect/Effect";
import type { CommandDefinition } from "../command.ts";
import { UsageError } from "../errors.ts";
import { printLine } from "../io.ts";
import { stringFlag } from "../options.ts";
import { unsafeOutFolder } from "../../io/out-folder.ts";
import { COMPILER_VERSION, siteFiles } from "../../explore/site.ts";
import { writeSite } from "../../explore/write-site.ts";

const usage = (message: string) => new UsageError({ command: "explore", message });

export const command: CommandDefinition = {
  usage: "--out DIR [--kernels LIST]",
  description:
    "Writes a static site into DIR (no server code): open DIR/index.html through any static web server " +
    "(e.g. `python3 -m http.server -d DIR`, then http://localhost:8000/?format=e4m3). Pick a built-in format or paste a spec " +
    "(checked with the schema and messages of `numforge check`); see its facts, its representable values on a log axis, its " +
    "relative spacing per binade, its rounding error, a second format beside it, a normal, uniform or Laplace distribution " +
    "quantized with its SQNR, and the format's compiled kernels running in the page on WebAssembly and, where the browser has " +
    "it, WebGPU, checked against the semantics. Everything is computed in the browser by numforge's own code. " +
    "DIR may be new, empty or a site numforge explore wrote before (only its files are replaced; anything you added stays); " +
    "any other folder is refused. DIR may not be the current directory, your home directory or a folder above them.",
  positionals: [],
  flags: [
    { name: "out", value: "DIR", description: "the folder to write the site into" },
    { name: "kernels", value: "LIST", description: "comma-separated built-ins whose kernels the page runs, or none (default: every built-in; the page shows every built-in either way)" },
  ],
  examples: ["numforge explore --out ./explore && python3 -m http.server -d ./explore", "numforge explore --out ./explore --kernels e4m3,e5m2,mxfp8"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const out = stringFlag(args, "out");
      if (out === undefined) return yield* usage("--out DIR is required");
      const unsafe = unsafeOutFolder(out);
      if (unsafe !== undefined) return yield* usage(`--out ${JSON.stringify(out)} ${unsafe}`);
      const names = registry.names();
      const list = stringFlag(args, "kernels");
      const wanted = list === undefined ? names : list === "none" ? [] : list.split(",").map((n) => n.trim());
      for (const name of wanted) {
        if (name === "") return yield* usage(`--kernels "${list}" has an empty entry; give a comma-separated list of built-in format names`);
        if (!names.includes(name)) return yield* usage(`--kernels names "${name}", which is not a built-in format; run \`numforge formats\` for the list`);
      }
      const formats = yield* Effect.forEach([...new Set(wanted)], (name) => registry.get(name));
      const files = yield* Effect.promise(() => siteFiles(names, formats));
      const written = yield* writeSite(out, files, COMPILER_VERSION);
      const example = names.includes("e4m3") ? "e4m3" : names[0];
      yield* printLine(io, `wrote the explorer site (${files.length + 1} files, kernels for ${formats.length} formats) to ${written}; serve it over http and open index.html?format=${example}`);
    }),
};
