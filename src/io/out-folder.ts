/**
 * Output folders a command must never write into: an empty value (`--out ""`, `--out=`), the
 * current directory, the home directory, and any folder above them (the filesystem root
 * included). A typo or an unset shell variable there would make numforge write into, or
 * replace files of, a folder full of the user's work.
 */
import { homedir } from "node:os";
import { isAbsolute, parse, relative, resolve, sep } from "node:path";

/** Why `out` may not be an output folder (a phrase for "--out X: <reason>"), or undefined when it may. */
export function unsafeOutFolder(out: string, cwd: string = process.cwd(), home: string = homedir()): string | undefined {
  if (out.trim() === "") return "is empty; name a new folder, e.g. --out ./my-output";
  const target = resolve(cwd, out);
  if (target === parse(target).root) return "is the filesystem root; name a new folder, e.g. --out ./my-output";
  for (const [place, folder] of [
    ["the current directory", cwd],
    ["your home directory", home],
  ] as const) {
    if (folder === "") continue;
    const below = relative(target, resolve(folder));
    if (below === "") return `is ${place}; name a new folder inside it, e.g. --out ./my-output`;
    if (below !== ".." && !below.startsWith(`..${sep}`) && !isAbsolute(below))
      return `contains ${place} (${resolve(folder)}); name a new folder, e.g. --out ./my-output`;
  }
  return undefined;
}
