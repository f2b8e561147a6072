/** `numforge eval FORMAT OP`: posit arithmetic on codes read from stdin (exact, rounded once). */
import * as Effect from "effect/Effect";
import { InputError } from "../../dsl/errors.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { decode } from "../../dsl/semantics/scalar.ts";
import { POSIT_OP_ARITY, positOp, type PositOp, type PositShape } from "../../dsl/semantics/posit-arith.ts";
import type { CommandDefinition } from "../command.ts";
import { formatPositional, jsonFlag } from "../command.ts";
import { UsageError } from "../errors.ts";
import { printLine } from "../io.ts";
import { jsonText, jsonType, parseStdinJson, readStdin, showJson } from "../json-io.ts";
import { booleanFlag } from "../options.ts";
import { renderColumns } from "../render/columns.ts";
import { exactNumber, hexCode } from "../render/numbers.ts";

const OPS = Object.keys(POSIT_OP_ARITY) as PositOp[];

const operandsOf = (op: PositOp) => ["a", "b", "c"].slice(0, POSIT_OP_ARITY[op]);

/** What stdin must hold for `op`, in words. */
const expectedInput = (op: PositOp, format: ResolvedFormat) =>
  `a JSON array of [${operandsOf(op).join(", ")}] code ${POSIT_OP_ARITY[op] === 1 ? "singletons" : "tuples"} (integers 0..${format.codeCount - 1})`;

/** eval FORMAT OP: one result code per operand tuple. */
export const command: CommandDefinition = {
  usage: `FORMAT OP [--json]`,
  description:
    `Applies OP (${OPS.join(", ")}) to posit codes and prints the result codes. stdin holds [[a, b], ...] for ` +
    "add, sub, mul, div (a−b, a/b), [[a, b, c], ...] for fma (a·b + c, rounded once) and [[a], ...] for sqrt. Each result is the " +
    "exact value rounded once as the 2022 posit standard says: to nearest, ties to even on the bit pattern, never to 0 or NaR " +
    "from a nonzero real value; NaR in, x/0 and √negative give NaR. FORMAT must be an unscaled posit format (float " +
    "formats are not supported: their arithmetic depends on the rounding mode and overflow rule, which eval does not model).",
  positionals: [formatPositional, { name: "OP", description: `one of ${OPS.join(", ")}` }],
  flags: [jsonFlag],
  examples: [
    "echo '[[64, 64], [127, 1]]' | numforge eval posit8 add --json",
    "echo '[[72, 72, 192]]' | numforge eval posit8 fma",
    "echo '[[16384]]' | numforge eval posit16 sqrt --json",
  ],
  run: ({ args, io, registry }) =>
    Effect.gen(function* () {
      const format = yield* registry.get(args.positionals[0]);
      const opName = args.positionals[1];
      if (!(OPS as readonly string[]).includes(opName))
        return yield* new UsageError({ command: "eval", message: `OP ${showJson(opName)} is not an operation; use one of ${OPS.join(", ")}` });
      const op = opName as PositOp;
      if (format.element.kind !== "posit")
        return yield* new UsageError({ command: "eval", message: `${format.name} is a ${format.element.kind} format; eval supports posit formats only` });
      if (format.scaling.kind !== "none")
        return yield* new UsageError({ command: "eval", message: `${format.name} has ${format.scaling.kind} scaling; eval works on the codes of unscaled posit formats` });
      const shape: PositShape = { n: format.element.bits, es: format.element.es };
      const expected = expectedInput(op, format);
      const json = yield* readStdin(io, expected).pipe(Effect.flatMap((text) => parseStdinJson(text, expected)));
      const tuples = yield* parseTuples(json, POSIT_OP_ARITY[op], format, expected);
      const results = tuples.map((codes) => positOp(shape, op, codes));
      if (booleanFlag(args, "json")) return yield* printLine(io, jsonText(results));
      const hex = (c: number) => hexCode(c, format.bits);
      yield* printLine(
        io,
        renderColumns(
          [
            { header: "#", align: "right" },
            ...operandsOf(op).map((header) => ({ header, align: "right" as const })),
            { header: "result", align: "right" },
            { header: "hex", align: "left" },
            { header: "value", align: "right" },
          ],
          results.map((r, i) => [String(i), ...tuples[i].map(hex), String(r), hex(r), r === format.codes.nan ? "NaR" : exactNumber(decode(format, r))]),
        ),
      );
    }),
};

/** [[code, …], …] with `arity` codes each; errors name the element (and the operand within it). */
function parseTuples(json: unknown, arity: number, format: ResolvedFormat, expected: string): Effect.Effect<number[][], InputError> {
  const fail = (message: string) => Effect.fail(new InputError({ where: "stdin", message }));
  if (!Array.isArray(json)) return fail(`expected ${expected}, got ${jsonType(json)}`);
  const max = format.codeCount - 1;
  const tuples: number[][] = [];
  for (let i = 0; i < json.length; i++) {
    const item: unknown = json[i];
    if (!Array.isArray(item) || item.length !== arity)
      return fail(`element ${i}: ${showJson(item)} is not an array of ${arity} code${arity === 1 ? "" : "s"} (expected ${expected})`);
    for (let j = 0; j < arity; j++) {
      const code: unknown = item[j];
      if (typeof code !== "number" || !Number.isInteger(code) || code < 0 || code > max)
        return fail(`element ${i}, operand ${j}: ${showJson(code)} is not a ${format.name} code (integers 0..${max})`);
    }
    tuples.push(item as number[]);
  }
  return Effect.succeed(tuples);
}
