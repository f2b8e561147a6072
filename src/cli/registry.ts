/**
 * The commands the CLI knows, in help order. Adding a command is one file under `commands/`
 * exporting a CliCommand, and one line here.
 */
import type { CliCommand } from "./command.ts";
import { formatsCommand } from "./commands/formats.ts";
import { checkCommand } from "./commands/check.ts";
import { tableCommand } from "./commands/table.ts";
import { encodeCommand } from "./commands/encode.ts";
import { decodeCommand } from "./commands/decode.ts";

export const commands: readonly CliCommand[] = [
  formatsCommand,
  checkCommand,
  tableCommand,
  encodeCommand,
  decodeCommand,
];
