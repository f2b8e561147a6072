/**
 * numforge as a user installs it: `npm pack` of this checkout (its prepack step compiles dist/),
 * unpacked into a fresh project's node_modules beside the dependencies it declares (linked from this
 * checkout's node_modules, so no registry is needed), then used there with plain node — no tsx, no
 * sources: the library API, its type declarations, and the bin.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decode as decodeScalar, encode as encodeScalar } from "../../src/dsl/semantics/scalar.ts";
import { builtin } from "../support/formats.ts";
import { ROOT } from "../cli/harness.ts";

const work = mkdtempSync(join(tmpdir(), "numforge-packed-"));
const project = join(work, "project");
const installed = join(project, "node_modules", "numforge");
let tarballFiles: string[] = [];

const node = (args: readonly string[], input = "") => spawnSync(process.execPath, args, { cwd: project, input, encoding: "utf8", timeout: 60_000 });

beforeAll(() => {
  const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").pop() as string;
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", join(work, tarball), "-C", installed, "--strip-components=1"]);
  tarballFiles = execFileSync("tar", ["-tzf", join(work, tarball)], { encoding: "utf8", maxBuffer: 1 << 24 }).split("\n").filter((f) => f !== "");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));
  // The declared dependencies only: a devDependency (tsx, typescript) the package needed would not resolve.
  const { dependencies } = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const name of Object.keys(dependencies)) {
    mkdirSync(dirname(join(project, "node_modules", name)), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", name), join(project, "node_modules", name), "dir");
  }
}, 300_000);

describe("the packed package", () => {
  it("ships dist/ with declarations and the assets, and no TypeScript sources", () => {
    const files = tarballFiles.map((f) => f.replace(/^package\//, ""));
    for (const f of ["dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "bin/numforge.js", "formats/e4m3.json", "formats/format.schema.json", "recipes/fp32.json", "dist/package/shipped/index.js", "dist/package-runtime/run-plan.js", "dist/runtime/worker-entry.mjs"])
      expect(files, f).toContain(f);
    expect(files.filter((f) => f.startsWith("src/") || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
    expect(node(["--input-type=module", "-e", "import.meta.resolve('tsx')"]).status, "tsx must not be reachable from the project").not.toBe(0);
  });

  it("import { loadFormat, encode, decode, compileKernels } from 'numforge' works with plain node", () => {
    writeFileSync(
      join(project, "use.mjs"),
      `import { loadFormat, encode, decode, compileKernels, NumforgeError } from "numforge";
const e4m3 = await loadFormat("e4m3");
const codes = encode(e4m3, [0.1, 448, 1000, -0.0146]).codes;
const values = decode(e4m3, [29, 126]);
const kernels = await compileKernels(e4m3, { target: "wasm" });
const kernelCodes = Array.from(kernels.encode(new Float32Array([0.1, 448])).codes);
let error = null;
try { await loadFormat("e4m4"); } catch (e) { error = e instanceof NumforgeError ? e.message : String(e); }
console.log(JSON.stringify({ codes, values, target: kernels.target, kernelCodes, error }));`,
    );
    const r = node(["use.mjs"]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    const e4m3 = builtin("e4m3");
    expect(out.codes).toEqual([29, 126, 126, 135]);
    expect(out.codes).toEqual([0.1, 448, 1000, -0.0146].map((x) => encodeScalar(e4m3, x)));
    expect(out.values).toEqual([29, 126].map((c) => decodeScalar(e4m3, c)));
    expect(out.target).toBe("wasm");
    expect(out.kernelCodes).toEqual([Math.fround(0.1), 448].map((x) => encodeScalar(e4m3, x)));
    expect(out.error).toMatch(/^unknown format "e4m4"; did you mean e3m4, e4m3\?/);
  });

  it("type-checks a TypeScript program against the declarations", () => {
    writeFileSync(
      join(project, "use.ts"),
      `import { loadFormat, encode, compileKernels, type Meta } from "numforge";
const e4m3 = await loadFormat("e4m3");
const codes: number[] = encode(e4m3, [1.5], { rounding: "stochastic:8", seed: 1 }).codes;
const meta: Meta = encode(e4m3, [1.5]).meta;
const kernels = await compileKernels(e4m3, { target: "wasm" });
const encoded: Uint8Array | Uint16Array | Uint32Array = kernels.encode(new Float32Array(2)).codes;
export { codes, meta, encoded };
// @ts-expect-error rounding modes are checked
encode(e4m3, [1], { rounding: "up" });
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ["use.ts"] }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const r = node([tsc, "-p", "tsconfig.json"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("the bin runs from dist/: --help, and encode through the whole CLI", () => {
    const bin = join(installed, "bin", "numforge.js");
    const help = node([bin, "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: numforge COMMAND/m);
    const e4m3 = builtin("e4m3");
    const encoded = node([bin, "encode", "e4m3", "--json"], "[0.1, 1000]");
    expect(encoded.stderr).toBe("");
    expect(JSON.parse(encoded.stdout)).toEqual([0.1, 1000].map((x) => encodeScalar(e4m3, x)));
    const bad = node([bin, "table", "e4m4"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^numforge: unknown format "e4m4"|^unknown format "e4m4"/);
  });
});
