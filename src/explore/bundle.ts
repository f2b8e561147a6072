/**
 * The explorer page's script: page/main.ts and everything it imports (the spec parser, schema,
 * resolve, semantics and describe of numforge itself) bundled into one classic script. An
 * installed numforge ships it prebuilt (dist/explore/page.bundle.js, written by scripts/build.mjs);
 * a checkout bundles the sources with esbuild on each run, so an edit shows without a build.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Where scripts/build.mjs puts the prebuilt bundle, beside this module in dist/. */
export const PREBUILT_BUNDLE = fileURLToPath(new URL("./page.bundle.js", import.meta.url));
const ENTRY = fileURLToPath(new URL("./page/main.ts", import.meta.url));

/** The bundled page script, as text. */
export async function pageBundle(): Promise<string> {
  if (existsSync(PREBUILT_BUNDLE)) return readFileSync(PREBUILT_BUNDLE, "utf8");
  return bundleSources();
}

/** Bundles page/main.ts with esbuild (a development dependency, present in a checkout). */
export async function bundleSources(): Promise<string> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    throw new Error(`the explorer page is not built (no ${PREBUILT_BUNDLE}) and esbuild is not installed to build it; run \`npm install\` in the numforge checkout`);
  }
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  return new TextDecoder().decode(result.outputFiles[0].contents);
}
