/**
 * What a kernel package holds and how it behaves for its users (issue 16, item 5): the fastest
 * target wins whatever the --target order, require() works, its types are the format's own
 * (checked by compiling a consumer with tsc), its name is unique per spec, and it ships no file
 * its entries never load.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import * as Effect from "effect/Effect";
import { beforeAll, describe, expect, it } from "vitest";
import { packageFiles, preferredOrder } from "../../src/package/package-files.ts";
import { defaultPackageName, invalidPackageName, specHash } from "../../src/package/package-name.ts";
import { writePackage } from "../../src/package/write-package.ts";
import { jsTarget } from "../../src/targets/js/index.ts";
import { wasmTarget } from "../../src/targets/wasm/index.ts";
import { wgslTarget } from "../../src/targets/wgsl/index.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import type { Target } from "../../src/targets/target.ts";
import { builtin } from "../support/formats.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-contents-"));
const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");

async function compileTo(format: ResolvedFormat, targets: readonly Target[], dir: string, name?: string): Promise<string> {
  const { files, manifest } = await packageFiles(format, targets, name === undefined ? {} : { name });
  return Effect.runSync(writePackage(join(root, dir), files, manifest, false));
}
const manifestFiles = (dir: string) => Object.keys(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).files as object);
const packageName = (dir: string) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name as string;

describe("a package's targets", () => {
  it("runs wasm whatever the --target order, and lists its targets fastest first", async () => {
    expect(preferredOrder([jsTarget, wgslTarget, wasmTarget]).map((t) => t.name)).toEqual(["wasm", "js", "wgsl"]);
    const dir = await compileTo(builtin("e4m3"), [jsTarget, wasmTarget], "js-then-wasm");
    const pkg = await import(pathToFileURL(join(dir, "index.js")).href);
    expect(pkg.target).toBe("wasm");
    expect(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).targets).toEqual(["wasm", "js"]);
    expect([...pkg.encode(new Float32Array([0.1, 448, 1000, -0.0146])).codes]).toEqual([29, 126, 126, 135]);
  });

  it("ships only files its entries load: no .wat, .wasm or .wgsl beside the modules that embed them", async () => {
    const dir = await compileTo(builtin("e4m3"), [wasmTarget, jsTarget, wgslTarget], "all-targets");
    const files = manifestFiles(dir);
    expect(files.filter((f) => /\.(wat|wasm|wgsl)$/.test(f))).toEqual([]);
    for (const f of ["index.js", "index.d.ts", "format.js", "format.d.ts", "backends.js", "wasm/binary.js", "js/kernels.js", "wgsl/index.js", "wgsl/kernels.js", "wgsl-launch.js", "README.md"])
      expect(files).toContain(f);
  });
});

describe("require() of a package", () => {
  it("loads the package from CommonJS (no top-level await in its entry)", async () => {
    const dir = await compileTo(builtin("e4m3"), [wasmTarget, jsTarget], "for-require");
    const script = join(root, "use.cjs");
    writeFileSync(script, `const p = require(${JSON.stringify(dir)});\nconsole.log(JSON.stringify({ target: p.target, codes: [...p.encode(new Float32Array([0.1, 448, 1000, -0.0146])).codes] }));\n`);
    const out = execFileSync(process.execPath, [script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ target: "wasm", codes: [29, 126, 126, 135] });
  });
});

describe("a package's types are the format's own", () => {
  let project = "";
  beforeAll(async () => {
    project = join(root, "typed-consumer");
    mkdirSync(join(project, "node_modules"), { recursive: true });
    for (const [format, name] of [
      [builtin("e4m3"), "e4m3"],
      [builtin("posit16"), "posit16"],
      [builtin("mxfp4"), "mxfp4"],
    ] as const)
      symlinkSync(await compileTo(format, [jsTarget], `typed-${name}`), join(project, "node_modules", `numforge-kernels-${name}`), "dir");
  });

  it("gives literal facts, the code array of the bit width, and the metadata buffers by name; tsc rejects misuse", async () => {
    const mxfp4Dir = join(root, "typed-mxfp4");
    const { plans } = await import(pathToFileURL(join(mxfp4Dir, "format.js")).href);
    const metaBuffers = (plans.encode.buffers as { name: string; storage: string; role: string }[]).filter((b) => b.role === "meta");
    expect(metaBuffers.length).toBeGreaterThan(0);
    const arrays: Record<string, string> = { f32: "Float32Array", i32: "Int32Array", u32: "Uint32Array", u16: "Uint16Array", u8: "Uint8Array", i8: "Int8Array" };
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "typed-consumer", type: "module", private: true }));
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true, noEmit: true, lib: ["es2022"], types: [] }, files: ["main.ts"] }),
    );
    writeFileSync(
      join(project, "main.ts"),
      [
        `import * as e4m3 from "numforge-kernels-e4m3";`,
        `import * as posit16 from "numforge-kernels-posit16";`,
        `import * as mxfp4 from "numforge-kernels-mxfp4";`,
        `const x = new Float32Array(32);`,
        `const bits: 8 = e4m3.format.bits;`,
        `const name: "e4m3" = e4m3.format.name;`,
        `const bias: 7 = e4m3.format.element.bias;`,
        `const max: 448 = e4m3.format.maxFinite;`,
        `const codes8: Uint8Array = e4m3.encode(x).codes;`,
        `const codes16: Uint16Array = posit16.encode(x).codes;`,
        `const none: "none" = e4m3.encode(x).meta.kind;`,
        `const { meta } = mxfp4.encode(x);`,
        `const block: "block" = meta.kind;`,
        ...metaBuffers.map((b, i) => `const m${i}: ${arrays[b.storage]} = meta.buffers.${b.name};`),
        `// @ts-expect-error: an 8-bit format's codes are not a Uint16Array`,
        `const wrong: Uint16Array = e4m3.encode(x).codes;`,
        `// @ts-expect-error: e4m3 has 8 bits, not 16`,
        `const wrongBits: 16 = e4m3.format.bits;`,
        `// @ts-expect-error: no such metadata buffer`,
        `meta.buffers.noSuchBuffer;`,
        `// @ts-expect-error: transA is a boolean, not a string`,
        `e4m3.gemm({ a: x, b: x, c: x, m: 1, n: 1, k: 1, transA: "false" });`,
        `export { bits, name, bias, max, codes8, codes16, none, block, wrong, wrongBits };`,
        "",
      ].join("\n"),
    );
    const result = (() => {
      try {
        return execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
      } catch (e) {
        return String((e as { stdout?: string }).stdout ?? e);
      }
    })();
    expect(result).toBe("");
  }, 60_000);
});

describe("a package's name", () => {
  it("is numforge-kernels-NAME for a built-in, plus the spec's hash for any other spec, so two specs never share one", () => {
    const e4m3 = builtin("e4m3");
    expect(defaultPackageName(e4m3)).toBe("numforge-kernels-e4m3");
    const mine = { ...e4m3, summary: "my own e4m3", overflow: "infinity" as const };
    const other = { ...e4m3, name: "e4m3", summary: "another e4m3" };
    expect(defaultPackageName(mine)).toBe(`numforge-kernels-e4m3-${specHash(mine)}`);
    expect(defaultPackageName(other)).not.toBe(defaultPackageName(mine));
    expect(defaultPackageName({ ...e4m3, name: "My Format" })).toMatch(/^numforge-kernels-my-format-[0-9a-f]{8}$/);
    expect(invalidPackageName(defaultPackageName({ ...e4m3, name: "__X y" }))).toBeUndefined();
  });

  it("is --name when given, and --name must be a valid npm name", async () => {
    const dir = await compileTo(builtin("int8"), [jsTarget], "named", "@lab/int8-kernels");
    expect(packageName(dir)).toBe("@lab/int8-kernels");
    expect(readFileSync(join(dir, "README.md"), "utf8")).toContain(`from "@lab/int8-kernels"`);
    expect(invalidPackageName("Caps")).toMatch(/lowercase/);
    expect(invalidPackageName("a b")).toMatch(/may hold only/);
    expect(invalidPackageName(".hidden")).toMatch(/may not start/);
    expect(invalidPackageName("")).toBe("is empty");
    expect(invalidPackageName("x".repeat(215))).toMatch(/214/);
  });
});
