/** `numforge table FORMAT`: every code of a small format and the value it stands for. */
import * as Effect from "effect/Effect";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { decode } from "../../dsl/semantics/scalar.ts";
import type { CommandDefinition } from "../command.ts";
import { formatPositional, jsonFlag } from "../command.ts";
import { UsageError } from "../errors.ts";
import { printLine } from "../io.ts";
import { booleanFlag } from "../options.ts";
import { jsonText, valueToJson } from "../json-io.ts";
import { renderColumns } from "../render/columns.ts";
import { hexCode, exactNumber } from "../render/numbers.ts";
import { formatSketch } from "../render/sketch.ts";

/** Widest format whose table is printed: 2^16 rows. */
const MAX_TABLE_BITS = 16;

/** table FORMAT: one row per code, refused past 16 bits. */
export const command: CommandDefinition = {
  usage: "FORMAT [--json]",
  description:
    "Prints code, hex, bit pattern and exact value of every code of FORMAT, in code order. Values are element values, " +
    `before any tensor scaling; a last line sketches how many codes each binade of the positive values holds. Formats wider than ${MAX_TABLE_BITS} bits are refused. With --json: ` +
    `[{"code": n, "value": v}, ...] with v a number or "NaN", "Infinity", "-Infinity", "-0".`,
  positionals: [formatPositional],
  flags: [jsonFlag],
  examples: ["numforge table e4m3", "numforge table fp16 --json > fp16.json"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const format = yield* registry.get(args.positionals[0]);
      if (format.bits > MAX_TABLE_BITS)
        return yield* new UsageError({
          command: "table",
          message: `${format.name} has ${format.bits}-bit codes (${format.codeCount} of them); table lists formats of at most ${MAX_TABLE_BITS} bits`,
        });
      const codes = Array.from({ length: format.codeCount }, (_, code) => code);
      if (booleanFlag(args, "json"))
        return yield* printLine(io, jsonText(codes.map((code) => ({ code, value: valueToJson(decode(format, code)) })), true));
      const rows = codes.map((code) => [String(code), hexCode(code, format.bits), bitPattern(format, code), exactNumber(decode(format, code))]);
      yield* printLine(
        io,
        renderColumns(
          [
            { header: "code", align: "right" },
            { header: "hex", align: "left" },
            { header: "bits", align: "left" },
            { header: "value", align: "right" },
          ],
          rows,
        ),
      );
      yield* printLine(io, `\ncodes per binade  ${formatSketch(format)}`);
    }),
};

/** The code in binary, split into sign.exponent.mantissa fields for floats. */
function bitPattern(format: ResolvedFormat, code: number): string {
  const binary = code.toString(2).padStart(format.bits, "0");
  const el = format.element;
  if (el.kind !== "float") return binary;
  const sign = el.signed ? 1 : 0;
  const fields = [binary.slice(0, sign), binary.slice(sign, sign + el.exponentBits), binary.slice(sign + el.exponentBits)];
  return fields.filter((f) => f !== "").join(".");
}
