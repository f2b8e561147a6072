/** `numforge decode FORMAT`: codes on stdin → values (through the scale metadata for scaled formats). */
import * as Effect from "effect/Effect";
import { InputError } from "../../dsl/errors.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { decode } from "../../dsl/semantics/scalar.ts";
import { dequantize } from "../../dsl/semantics/tensor.ts";
import type { CommandDefinition } from "../command.ts";
import { formatPositional, jsonFlag } from "../command.ts";
import { attempt } from "../attempt.ts";
import { printLine } from "../io.ts";
import { jsonText, jsonType, parseCodes, parseStdinJson, readStdin, valueToJson } from "../json-io.ts";
import { metaFromJson } from "../meta-json.ts";
import { affineFlags, booleanFlag } from "../options.ts";
import { renderColumns } from "../render/columns.ts";
import { exactNumber, hexCode } from "../render/numbers.ts";

/** decode FORMAT: codes (or codes + meta) on stdin, values on stdout. */
export const command: CommandDefinition = {
  usage: "FORMAT [--scale S --zero-point Z] [--json]",
  description:
    "Reads a JSON array of codes (integers 0..2^bits-1) from stdin and prints their values as JSON numbers or " +
    `"NaN", "Infinity", "-Infinity", "-0". For a format with tensor scaling, stdin is {"codes": [...], "meta": {...}} ` +
    "as `numforge encode FORMAT --json` printed it.",
  positionals: [formatPositional],
  flags: [
    { name: "scale", value: "S", description: "multiply each value by S; unscaled formats only" },
    { name: "zero-point", value: "Z", description: "int formats: subtract Z from each code's integer before scaling" },
    jsonFlag,
  ],
  examples: ["echo '[126, 127, 128]' | numforge decode e4m3 --json", "echo '[0, 255]' | numforge decode int8 --scale 0.01 --zero-point 3"],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const format = yield* registry.get(args.positionals[0]);
      const affine = yield* affineFlags("decode", args, format);
      const expected =
        format.scaling.kind === "none"
          ? `a JSON array of ${format.name} codes (integers 0..${format.codeCount - 1})`
          : `{"codes": [...], "meta": {...}} as printed by \`numforge encode ${format.name} --json\``;
      const json = yield* readStdin(io, expected).pipe(Effect.flatMap((text) => parseStdinJson(text, expected)));
      const { codes, values } =
        format.scaling.kind === "none"
          ? yield* parseCodes(json, format.bits, format.name).pipe(
              Effect.map((codes) => ({ codes, values: codes.map((c) => decode(format, c, { scale: affine.scale, zeroPoint: affine.zeroPoint })) })),
            )
          : yield* decodeScaled(format, json, expected);
      if (booleanFlag(args, "json")) return yield* printLine(io, jsonText(values.map(valueToJson)));
      yield* printLine(
        io,
        renderColumns(
          [
            { header: "#", align: "right" },
            { header: "code", align: "right" },
            { header: "hex", align: "left" },
            { header: "value", align: "right" },
          ],
          codes.map((c, i) => [String(i), String(c), hexCode(c, format.bits), exactNumber(values[i])]),
        ),
      );
    }),
};

/** {"codes", "meta"} → codes and their dequantized values. */
function decodeScaled(format: ResolvedFormat, json: unknown, expected: string): Effect.Effect<{ codes: number[]; values: number[] }, InputError> {
  return Effect.gen(function* () {
    if (json === null || typeof json !== "object" || Array.isArray(json) || !("codes" in json) || !("meta" in json))
      return yield* new InputError({ where: "stdin", message: `${format.name} has ${format.scaling.kind} scaling: expected ${expected}, got ${jsonType(json)}${Array.isArray(json) ? "" : " without codes and meta"}` });
    const codes = yield* parseCodes(json.codes, format.bits, format.name, "codes");
    const meta = yield* metaFromJson(json.meta, format, codes.length);
    const values = yield* attempt(() => Array.from(dequantize(format, codes, meta)));
    return { codes, values };
  });
}
