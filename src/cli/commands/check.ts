/** `numforge check SPEC...`: validate specs and show everything resolve derived from them. */
import * as Effect from "effect/Effect";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { CommandDefinition } from "../command.ts";
import { jsonFlag } from "../command.ts";
import { ManyErrors } from "../errors.ts";
import { printLine } from "../io.ts";
import { booleanFlag } from "../options.ts";
import { jsonText } from "../json-io.ts";
import { formatToJson } from "../format-json.ts";
import { renderPairs } from "../render/columns.ts";
import { propertyPairs } from "../render/describe.ts";
import { formatSketch } from "../render/sketch.ts";

/** check SPEC...: every spec validated, its properties or its one-line error. */
export const command: CommandDefinition = {
  usage: "SPEC... [--json]",
  description:
    "Validates each SPEC (a path to a spec file, or a built-in name) against the schema and the consistency rules, then " +
    "prints every derived constant, the codes of the special values and a one-line sketch of how many codes each binade of the " +
    "positive values holds. Each invalid spec prints one line " +
    "FILE: line L, column C: POINTER: MESSAGE on stderr (without the line and column where the problem is the file " +
    "itself: missing, too big, not UTF-8); the exit status is 2 if any spec is invalid. Spec files are at most 1 MiB. " +
    "With --json: the resolved format as an object (an array of them for several specs).",
  positionals: [{ name: "SPEC", description: "a spec file (or a built-in format name); several may be given", variadic: true }],
  flags: [jsonFlag],
  examples: ["numforge check my-format.json", "numforge check formats/*.json", "numforge check formats/e4m3.json --json"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const specs = args.positionals;
      const results = yield* Effect.forEach(specs, (spec) => Effect.result(registry.get(spec)));
      const valid: { spec: string; format: ResolvedFormat }[] = [];
      const errors = [];
      for (const [i, result] of results.entries()) {
        if (result._tag === "Success") valid.push({ spec: specs[i], format: result.success });
        else errors.push(result.failure);
      }
      if (booleanFlag(args, "json")) {
        if (errors.length === 0) yield* printLine(io, jsonText(specs.length === 1 ? formatToJson(valid[0].format) : valid.map((v) => formatToJson(v.format))));
      } else {
        for (const { spec, format } of valid) yield* printLine(io, `${renderPairs([...propertyPairs(format), ["codes per binade", formatSketch(format)]])}\nok: ${spec} is a valid format${valid.length > 1 ? "\n" : ""}`);
      }
      if (errors.length === 1) return yield* Effect.fail(errors[0]);
      if (errors.length > 1) return yield* new ManyErrors({ errors });
    }),
};
