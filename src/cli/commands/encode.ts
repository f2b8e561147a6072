/** `numforge encode FORMAT`: numbers on stdin → codes (and scale metadata for scaled formats). */
import * as Effect from "effect/Effect";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { counterRandom } from "../../dsl/semantics/random.ts";
import { decode, encode } from "../../dsl/semantics/scalar.ts";
import { dequantize, quantize } from "../../dsl/semantics/tensor.ts";
import type { CommandDefinition } from "../command.ts";
import { BLOCK_AXIS_FLAG, SHAPE_FLAG, formatPositional, jsonFlag } from "../command.ts";
import { attempt } from "../attempt.ts";
import { UsageError } from "../errors.ts";
import { printLine } from "../io.ts";
import { STDIN_VALUES, jsonText, readStdinValues } from "../json-io.ts";
import { metaToJson } from "../meta-json.ts";
import { affineFlags, booleanFlag, layoutFlags, overflowFlag, roundingFlag, seedFlag, stringFlag } from "../options.ts";
import { renderColumns } from "../render/columns.ts";
import { exactNumber, hexCode } from "../render/numbers.ts";

/** encode FORMAT: values on stdin, codes (or codes + meta) on stdout. */
export const command: CommandDefinition = {
  usage: "FORMAT [--rounding R] [--overflow O] [--seed N] [--scale S --zero-point Z] [--shape R,C] [--block-axis A] [--json]",
  description:
    `Reads ${STDIN_VALUES} from stdin and prints their codes. Each value is rounded once, from the ` +
    "exact double. Stochastic rounding draws counterRandom(seed, index) for element index. For a format with tensor " +
    "scaling (amax, block, shift-squeeze, shift-groups) the input is one float32 tensor and the output is " +
    `{"codes": [...], "meta": {...}}, which \`numforge decode\` takes back.`,
  positionals: [formatPositional],
  flags: [
    { name: "rounding", value: "R", description: "nearest-even | nearest-away | toward-zero | toward-positive | toward-negative | odd | stochastic:BITS (default: the format's)" },
    { name: "overflow", value: "O", description: "saturate | infinity | saturate-propagate (default: the format's; unscaled formats only)" },
    { name: "seed", value: "N", description: "u32 seed of the stochastic-rounding generator (default 0)" },
    { name: "scale", value: "S", description: "divide each value by S (in float32) before encoding; unscaled formats only" },
    { name: "zero-point", value: "Z", description: "int formats: add Z after rounding (clamped to the format's range)" },
    SHAPE_FLAG,
    BLOCK_AXIS_FLAG,
    { name: "channels", value: "C", description: "scaled formats: the same as --shape C,n/C" },
    jsonFlag,
  ],
  examples: [
    "echo '[448, 500, \"NaN\", \"-0\"]' | numforge encode e4m3 --json",
    "echo '[0.3, -1.7]' | numforge encode int8 --scale 0.01 --zero-point 3 --json",
    "echo '[0.3, 0.3, 0.3]' | numforge encode e4m3 --rounding stochastic:8 --seed 7 --json",
    "echo '[1, 2, 3, 4]' | numforge encode mxfp8 --json | numforge decode mxfp8 --json",
    "echo '[1, 2, 3, 4, 5, 6]' | numforge encode nvfp4 --shape 2,3 --block-axis 0 --json",
  ],
  run: (input) =>
    Effect.gen(function* () {
      const { args, io, registry } = input;
      const format = yield* registry.get(args.positionals[0]);
      const rounding = yield* roundingFlag("encode", args, format);
      const overflow = yield* overflowFlag("encode", args, format);
      const seed = yield* seedFlag("encode", args);
      const affine = yield* affineFlags("encode", args, format);
      if (format.scaling.kind !== "none" && stringFlag(args, "overflow") !== undefined)
        return yield* new UsageError({ command: "encode", message: `--overflow applies to unscaled formats; ${format.name} is encoded with its own overflow` });
      const values = yield* readStdinValues(io, `echo '[1.5, -0.1]' | numforge encode ${format.name} --json`);
      const json = booleanFlag(args, "json");
      if (format.scaling.kind === "none") {
        const random = (i: number) => (rounding.mode === "stochastic" ? counterRandom(seed, i) : undefined);
        const codes = values.map((x, i) => encode(format, x, { rounding, overflow, random: random(i), scale: affine.scale, zeroPoint: affine.zeroPoint }));
        if (json) return yield* printLine(io, jsonText(codes));
        const decoded = codes.map((c) => decode(format, c, { scale: affine.scale, zeroPoint: affine.zeroPoint }));
        return yield* printLine(io, encodedTable(format, values, codes, decoded));
      }
      const layout = yield* layoutFlags("encode", args, format, values.length);
      const tensor = Float32Array.from(values);
      const q = yield* attempt(() => quantize(format, tensor, { seed, rounding, ...layout }));
      const codes = Array.from(q.codes);
      if (json) return yield* printLine(io, jsonText({ codes, meta: metaToJson(format, q.meta) }));
      const decoded = Array.from(dequantize(format, q.codes, q.meta, layout));
      yield* printLine(io, `${encodedTable(format, values, codes, decoded)}\nmeta: ${jsonText(metaToJson(format, q.meta))}`);
    }),
};

/** index, input, code, hex and the value the code decodes back to. */
function encodedTable(format: ResolvedFormat, values: readonly number[], codes: readonly number[], decoded: readonly number[]): string {
  return renderColumns(
    [
      { header: "#", align: "right" },
      { header: "input", align: "right" },
      { header: "code", align: "right" },
      { header: "hex", align: "left" },
      { header: "decoded", align: "right" },
    ],
    values.map((x, i) => [String(i), exactNumber(x), String(codes[i]), hexCode(codes[i], format.bits), exactNumber(decoded[i])]),
  );
}

