/**
 * The files of the explorer site: index.html (layout, styles, every built-in spec as text), the
 * bundled script, and for each built-in asked for, its kernel package under kernels/NAME/ — the
 * JavaScript of the package `numforge compile NAME --target wasm,wgsl` writes, loaded by the page
 * as it is.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_FORMATS_DIR } from "../dsl/registry.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { COMPILER_VERSION, packageFiles } from "../package/package-files.ts";
import { TARGETS } from "../targets/registry.ts";
import { pageBundle } from "./bundle.ts";
import { indexHtml, SCRIPT_FILE } from "./html.ts";
import type { SiteData } from "./site-data.ts";
import type { SiteFile } from "./write-site.ts";

/** The targets whose kernels run in a browser page. */
const PAGE_TARGETS = TARGETS.filter((t) => t.name === "wasm" || t.name === "wgsl");

/** Package files a page imports (modules and data), not types, docs or the .wat/.wasm copies. */
const loadedByPage = (path: string) => (path.endsWith(".js") && !path.endsWith(".d.ts")) || path === "format.json";

/** Every file of the site: the page for all of `builtins` (names), kernels for `withKernels`. */
export async function siteFiles(builtins: readonly string[], withKernels: readonly ResolvedFormat[]): Promise<SiteFile[]> {
  const specs = Object.fromEntries(builtins.map((name) => [name, readFileSync(join(BUILTIN_FORMATS_DIR, `${name}.json`), "utf8")]));
  const data: SiteData = { numforge: COMPILER_VERSION, specs, kernels: withKernels.map((f) => f.name) };
  const files: SiteFile[] = [
    { path: "index.html", contents: indexHtml(data) },
    { path: SCRIPT_FILE, contents: await pageBundle() },
  ];
  for (const format of withKernels) {
    const { files: pkg } = await packageFiles(format, PAGE_TARGETS);
    for (const f of pkg) if (loadedByPage(f.path)) files.push({ path: `kernels/${format.name}/${f.path}`, contents: f.contents });
  }
  return files;
}

export { COMPILER_VERSION };
