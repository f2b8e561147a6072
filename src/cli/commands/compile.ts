/** `numforge compile FORMAT --target js --out DIR`: writes an npm package of the format's kernels. */
import * as Effect from "effect/Effect";
import type { CommandDefinition } from "../command.ts";
import { formatPositional } from "../command.ts";
import { UsageError } from "../errors.ts";
import { printLine } from "../io.ts";
import { booleanFlag, stringFlag } from "../options.ts";
import { TARGETS } from "../../targets/registry.ts";
import type { Target } from "../../targets/target.ts";
import { unsafeOutFolder } from "../../io/out-folder.ts";
import { invalidPackageName } from "../../package/package-name.ts";
import { packageFiles } from "../../package/package-files.ts";
import { writePackage } from "../../package/write-package.ts";

const usage = (message: string) => new UsageError({ command: "compile", message });

/** The targets --target names, each known and named once. */
function requestedTargets(list: string | undefined): Effect.Effect<Target[], UsageError> {
  if (list === undefined) return Effect.succeed([...TARGETS]);
  const available = TARGETS.map((t) => t.name).join(", ");
  const targets: Target[] = [];
  for (const name of list.split(",").map((t) => t.trim())) {
    if (name === "") return Effect.fail(usage(`--target "${list}" has an empty entry; give a comma-separated list of ${available}`));
    const target = TARGETS.find((t) => t.name === name);
    if (target === undefined) return Effect.fail(usage(`unknown target "${name}"; available: ${available}`));
    if (targets.includes(target)) return Effect.fail(usage(`--target names ${name} twice`));
    targets.push(target);
  }
  return Effect.succeed(targets);
}

export const command: CommandDefinition = {
  usage: "FORMAT --out DIR [--target js[,...]] [--name NAME] [--force]",
  description:
    "Compiles FORMAT into an npm package in DIR: package.json, an ES module entry with .d.ts types specific to the format " +
    "(encode, decode, fakeQuantize, gemm, format), the generated kernels of each target, the resolved format as JSON and a " +
    `manifest with the SHA-256 of every file. Targets: ${TARGETS.map((t) => `${t.name} (${t.description})`).join(", ")}; ` +
    "the package runs the fastest one its engine supports (wasm before js), whatever their order here. " +
    "Re-compiling into a package replaces only the files numforge wrote there; files you added stay. " +
    "DIR may not be the current directory, your home directory or a folder above them; an existing DIR that is not " +
    "a numforge package is refused unless --force. A compile into a folder another compile is writing waits for it.",
  positionals: [formatPositional],
  flags: [
    { name: "out", value: "DIR", description: "the package directory to write" },
    { name: "target", value: "LIST", description: `comma-separated targets (default ${TARGETS.map((t) => t.name).join(",")})` },
    { name: "name", value: "NAME", description: "the npm package name (default numforge-kernels-FORMAT, plus the spec's hash for a spec that is not built in)" },
    {
      name: "force",
      description: "overwrite package files you edited, or add the package to a folder that is not one (never replacing its files)",
    },
  ],
  examples: ["numforge compile e4m3 --target js --out ./e4m3-kernels", "npm install ./e4m3-kernels"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const out = stringFlag(args, "out");
      if (out === undefined) return yield* usage("--out DIR is required");
      const unsafe = unsafeOutFolder(out);
      if (unsafe !== undefined) return yield* usage(`--out ${JSON.stringify(out)} ${unsafe}`);
      const name = stringFlag(args, "name");
      const badName = name === undefined ? undefined : invalidPackageName(name);
      if (badName !== undefined) return yield* usage(`--name ${JSON.stringify(name)} ${badName}`);
      const targets = yield* requestedTargets(stringFlag(args, "target"));
      const format = yield* registry.get(args.positionals[0]);
      const { files, manifest } = yield* Effect.promise(() => packageFiles(format, targets, name === undefined ? {} : { name }));
      const written = yield* writePackage(out, files, manifest, { force: booleanFlag(args, "force") });
      yield* printLine(io, `wrote ${files.length + 1} files for ${format.name} (${manifest.targets.join(", ")}) to ${written}`);
    }),
};
