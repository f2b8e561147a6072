/** `numforge compile FORMAT --target js --out DIR`: writes an npm package of the format's kernels. */
import * as Effect from "effect/Effect";
import type { CommandDefinition } from "../command.ts";
import { formatPositional } from "../command.ts";
import { UsageError } from "../errors.ts";
import { printLine } from "../io.ts";
import { booleanFlag } from "../options.ts";
import { TARGETS } from "../../targets/registry.ts";
import type { Target } from "../../targets/target.ts";
import { packageFiles } from "../../package/package-files.ts";
import { writePackage } from "../../package/write-package.ts";

export const command: CommandDefinition = {
  usage: "FORMAT --out DIR [--target js[,...]] [--force]",
  description:
    "Compiles FORMAT into an npm package in DIR: package.json, an ES module entry with .d.ts types (encode, decode, " +
    "fakeQuantize, gemm, format), the generated kernels of each target, the resolved format as JSON and a manifest with " +
    `the SHA-256 of every file. Targets: ${TARGETS.map((t) => `${t.name} (${t.description})`).join(", ")}. ` +
    "An existing DIR that is not a numforge package is refused unless --force.",
  positionals: [formatPositional],
  flags: [
    { name: "out", value: "DIR", description: "the package directory to write" },
    { name: "target", value: "LIST", description: `comma-separated targets (default ${TARGETS.map((t) => t.name).join(",")})` },
    { name: "force", description: "replace DIR even if it is not a numforge package" },
  ],
  examples: ["numforge compile e4m3 --target js --out ./e4m3-kernels", "npm install ./e4m3-kernels"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const out = args.flags.get("out");
      if (typeof out !== "string") return yield* new UsageError({ command: "compile", message: "--out DIR is required" });
      const requested = (args.flags.get("target") as string | undefined)?.split(",").map((t) => t.trim()) ?? TARGETS.map((t) => t.name);
      const targets: Target[] = [];
      for (const name of requested) {
        const target = TARGETS.find((t) => t.name === name);
        if (target === undefined)
          return yield* new UsageError({ command: "compile", message: `unknown target "${name}"; available: ${TARGETS.map((t) => t.name).join(", ")}` });
        targets.push(target);
      }
      const format = yield* registry.get(args.positionals[0]);
      const { files, manifest } = yield* Effect.promise(() => packageFiles(format, targets));
      const written = yield* writePackage(out, files, manifest, booleanFlag(args, "force"));
      yield* printLine(io, `wrote ${files.length + 1} files for ${format.name} (${manifest.targets.join(", ")}) to ${written}`);
    }),
};
