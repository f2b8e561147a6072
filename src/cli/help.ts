/** Help texts: the command list, and one command's synopsis, flags and examples. */
import type { CliCommand, CommandEntry } from "./command.ts";
import { renderColumns } from "./render/columns.ts";

const WIDTH = 88;

/** `numforge --help`: what the tool is and the commands it has. */
export function globalHelp(entries: readonly CommandEntry[]): string {
  const list = indent(renderColumns([{ header: "", align: "left" }, { header: "", align: "left" }], entries.map((c) => [c.name, c.summary])).split("\n").slice(1).join("\n"));
  return [
    "numforge: low-precision number formats declared as JSON specs",
    "",
    "usage: numforge COMMAND [ARGUMENTS] [FLAGS]",
    "       numforge help COMMAND        (or numforge COMMAND --help)",
    "",
    "commands:",
    list,
    "",
    wrap("FORMAT is a built-in format name (`numforge formats` lists them) or a path to a spec file. --json prints one JSON document on stdout and nothing else."),
    wrap("Exit status: 0 success; 2 bad input (invalid spec, unknown format, command or flag, malformed stdin), with one line on stderr; 1 internal error."),
  ].join("\n");
}

/** `numforge help COMMAND`. */
export function commandHelp(command: CliCommand): string {
  const table = (rows: string[][]) =>
    indent(renderColumns([{ header: "", align: "left" }, { header: "", align: "left" }], rows).split("\n").slice(1).join("\n"));
  const sections = [
    `usage: numforge ${command.name} ${command.usage}`,
    "",
    wrap(`${capitalize(command.summary)}. ${command.description}`),
  ];
  if (command.positionals.length > 0) sections.push("", "arguments:", table(command.positionals.map((p) => [p.name, p.description])));
  if (command.flags.length > 0)
    sections.push("", "flags:", table(command.flags.map((f) => [`--${f.name}${f.value === undefined ? "" : ` ${f.value}`}`, f.description])));
  if (command.examples.length > 0) sections.push("", "examples:", indent(command.examples.join("\n")));
  return sections.join("\n");
}

const indent = (text: string) => text.split("\n").map((l) => `  ${l}`).join("\n");
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Greedy word wrap at WIDTH columns. */
function wrap(text: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}
