/** `numforge check SPEC`: validate a spec and show everything resolve derived from it. */
import * as Effect from "effect/Effect";
import type { CommandDefinition } from "../command.ts";
import { jsonFlag } from "../command.ts";
import { printLine } from "../io.ts";
import { booleanFlag } from "../options.ts";
import { jsonText } from "../json-io.ts";
import { formatToJson } from "../format-json.ts";
import { renderPairs } from "../render/columns.ts";
import { propertyPairs } from "../render/describe.ts";

export const command: CommandDefinition = {
  usage: "SPEC [--json]",
  description:
    "Validates SPEC (a path to a spec file, or a built-in name) against the schema and the consistency rules, then prints " +
    "every derived constant and the codes of the special values. An invalid spec prints one line FILE: POINTER: MESSAGE " +
    "on stderr and exits 2.",
  positionals: [{ name: "SPEC", description: "a spec file (or a built-in format name)" }],
  flags: [jsonFlag],
  examples: ["numforge check my-format.json", "numforge check formats/e4m3.json --json"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const format = yield* registry.get(args.positionals[0]);
      if (booleanFlag(args, "json")) return yield* printLine(io, jsonText(formatToJson(format)));
      yield* printLine(io, `${renderPairs(propertyPairs(format))}\nok: ${args.positionals[0]} is a valid format`);
    }),
};
