/** `numforge fake-quantize FORMAT`: numbers on stdin → the values they take when stored in the format. */
import * as Effect from "effect/Effect";
import { fakeQuantize } from "../../dsl/semantics/tensor.ts";
import type { CommandDefinition } from "../command.ts";
import { BLOCK_AXIS_FLAG, SHAPE_FLAG, formatPositional, jsonFlag } from "../command.ts";
import { attempt } from "../attempt.ts";
import { printLine } from "../io.ts";
import { STDIN_VALUES, jsonText, readStdinValues, valueToJson } from "../json-io.ts";
import { booleanFlag, layoutFlags, roundingFlag, seedFlag } from "../options.ts";
import { renderColumns } from "../render/columns.ts";
import { exactNumber } from "../render/numbers.ts";

export const command: CommandDefinition = {
  usage: "FORMAT [--shape R,C] [--block-axis A] [--rounding R] [--seed N] [--json]",
  description:
    `Reads ${STDIN_VALUES} from stdin as one float32 tensor and prints the value each element takes when the tensor is ` +
    "stored in the format and read back: its tensor scaling (computed from these values, laid out by --shape and " +
    "--block-axis), then the element rounding — what training under the format sees.",
  positionals: [formatPositional],
  flags: [
    SHAPE_FLAG,
    BLOCK_AXIS_FLAG,
    { name: "rounding", value: "R", description: "nearest-even | nearest-away | toward-zero | toward-positive | toward-negative | odd | stochastic:BITS (default: the format's)" },
    { name: "seed", value: "N", description: "u32 seed of the stochastic-rounding generator (default 0)" },
    jsonFlag,
  ],
  examples: [
    "echo '[0.1, 448, 1000, -0.0146]' | numforge fake-quantize e4m3 --json",
    "echo '[1, 2, 3, 4, 5, 6]' | numforge fake-quantize nvfp4 --shape 3,2 --block-axis 0 --json",
  ],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const format = yield* registry.get(args.positionals[0]);
      const rounding = yield* roundingFlag("fake-quantize", args, format);
      const seed = yield* seedFlag("fake-quantize", args);
      const values = yield* readStdinValues(io, `echo '[1.5, -0.1]' | numforge fake-quantize ${format.name} --json`);
      const layout = yield* layoutFlags("fake-quantize", args, format, values.length);
      const result = yield* attempt(() => fakeQuantize(format, Float32Array.from(values), { seed, rounding, ...layout }));
      const out = Array.from(result.values);
      if (booleanFlag(args, "json")) return yield* printLine(io, jsonText(out.map(valueToJson)));
      yield* printLine(
        io,
        renderColumns(
          [
            { header: "#", align: "right" },
            { header: "input", align: "right" },
            { header: "value", align: "right" },
          ],
          values.map((x, i) => [String(i), exactNumber(x), exactNumber(out[i])]),
        ),
      );
    }),
};
