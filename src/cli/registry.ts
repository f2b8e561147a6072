/**
 * The commands the CLI knows, in help order. Adding a command is one file under `commands/`
 * exporting `command: CommandDefinition`, and one line here.
 */
import type { CommandEntry } from "./command.ts";

/** Registry entries in help order. */
export const commands: readonly CommandEntry[] = [
  { name: "formats", summary: "list the built-in formats with their ranges and special values", load: () => import("./commands/formats.ts") },
  { name: "check", summary: "validate a spec file and print its resolved properties", load: () => import("./commands/check.ts") },
  { name: "table", summary: "print every code of a format (at most 16 bits) and its value", load: () => import("./commands/table.ts") },
  { name: "encode", summary: "encode numbers read from stdin into codes", load: () => import("./commands/encode.ts") },
  { name: "decode", summary: "decode codes read from stdin into values", load: () => import("./commands/decode.ts") },
  { name: "eval", summary: "posit arithmetic on codes from stdin: add, sub, mul, div, sqrt, fma (exact, rounded once)", load: () => import("./commands/eval.ts") },
  { name: "fake-quantize", summary: "the values numbers from stdin take when stored in a format", load: () => import("./commands/fake-quantize.ts") },
  { name: "compile", summary: "compile a format into an npm package of kernels", load: () => import("./commands/compile.ts") },
  { name: "compare", summary: "train a model once per format recipe and report accuracy and loss curves", load: () => import("./commands/compare.ts") },
  { name: "explore", summary: "write a static page that shows formats and runs their kernels in the browser", load: () => import("./commands/explore.ts") },
];
