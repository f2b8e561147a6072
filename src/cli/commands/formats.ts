/** `numforge formats`: the built-in formats side by side. */
import * as Effect from "effect/Effect";
import type { CommandDefinition } from "../command.ts";
import { jsonFlag } from "../command.ts";
import { printLine } from "../io.ts";
import { booleanFlag } from "../options.ts";
import { jsonText } from "../json-io.ts";
import { formatToJson } from "../format-json.ts";
import { renderColumns, type Column } from "../render/columns.ts";
import { kindLabel, specialsLabel } from "../render/describe.ts";
import { binades, compactNumber } from "../render/numbers.ts";

const COLUMNS: readonly Column[] = [
  { header: "name", align: "left" },
  { header: "bits", align: "right" },
  { header: "kind", align: "left" },
  { header: "max finite", align: "right" },
  { header: "min normal", align: "right" },
  { header: "min subnormal", align: "right" },
  { header: "epsilon", align: "right" },
  { header: "binades", align: "right" },
  { header: "specials", align: "left" },
  { header: "summary", align: "left" },
];

/** formats: one row per built-in format. */
export const command: CommandDefinition = {
  usage: "[--json]",
  description:
    "Lists every built-in format: bits per element, kind (element encoding + tensor scaling), largest finite value, " +
    "smallest normal and smallest positive value, epsilon (gap above 1), dynamic range in binades (log2 max/min subnormal) " +
    "and specials (Inf, NaN, -0; for formats without NaN, what a NaN input becomes).",
  positionals: [],
  flags: [jsonFlag],
  examples: ["numforge formats", "numforge formats --json"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const formats = yield* Effect.forEach(registry.names(), (name) => registry.get(name));
      if (booleanFlag(args, "json")) return yield* printLine(io, jsonText(formats.map(formatToJson), true));
      const rows = formats.map((f) => [
        f.name,
        String(f.bits),
        kindLabel(f),
        compactNumber(f.maxFinite),
        compactNumber(f.minNormal),
        compactNumber(f.minSubnormal),
        Number.isNaN(f.epsilon) ? "-" : compactNumber(f.epsilon),
        binades(f.dynamicRangeBinades),
        specialsLabel(f),
        f.summary,
      ]);
      yield* printLine(io, renderColumns(COLUMNS, rows));
    }),
};
