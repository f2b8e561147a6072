/**
 * Kernel packages: `numforge compile` output is a self-contained npm package — packed, installed
 * into a fresh project and used there; its API checks its arguments; its kernels compute what the
 * semantics define.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createHash } from "node:crypto";
import * as Effect from "effect/Effect";
import { packageFiles } from "../../src/package/package-files.ts";
import { writePackage } from "../../src/package/write-package.ts";
import { TARGETS } from "../../src/targets/registry.ts";
import { fakeQuantize as semanticFakeQuantize, quantize } from "../../src/dsl/semantics/tensor.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { builtin } from "../support/formats.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-packages-"));

async function compileTo(format: ResolvedFormat, name = format.name): Promise<string> {
  const { files, manifest } = await packageFiles(format, TARGETS);
  return Effect.runSync(writePackage(join(root, name), files, manifest, false));
}

// biome-ignore lint: a dynamically imported package
type KernelPackage = any;
const importPackage = async (dir: string): Promise<KernelPackage> => import(pathToFileURL(join(dir, "index.js")).href);

function tensor(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((counterRandom(seed, i) / 2 ** 32) * 2 - 1) * 2 ** ((counterRandom(seed + 1, i) % 12) - 6));
}
const bitsOf = (x: Float32Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];

describe("a compiled package", () => {
  let e4m3Dir = "";
  beforeAll(async () => {
    e4m3Dir = await compileTo(builtin("e4m3"));
  });

  it("holds the entry, types, kernels, resolved format and a manifest whose hashes match the files", () => {
    const manifest = JSON.parse(readFileSync(join(e4m3Dir, "manifest.json"), "utf8"));
    expect(manifest.targets).toEqual(TARGETS.map((t) => t.name));
    expect(manifest.numforge).toMatch(/^\d+\.\d+\.\d+/);
    for (const required of ["package.json", "index.js", "index.d.ts", "format.json", "js/kernels.js"]) expect(Object.keys(manifest.files)).toContain(required);
    for (const [path, hash] of Object.entries(manifest.files)) expect(createHash("sha256").update(readFileSync(join(e4m3Dir, path))).digest("hex")).toBe(hash);
    expect(JSON.parse(readFileSync(join(e4m3Dir, "format.json"), "utf8")).maxFinite).toBe(448);
  });

  it("is npm-packed, installed into a project that has never seen numforge, imported and run", () => {
    const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", root], { cwd: e4m3Dir, encoding: "utf8" }).trim().split("\n").pop() as string;
    const project = join(root, "consumer");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", type: "module", private: true }));
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", join(root, tarball)], { cwd: project, stdio: "pipe" });
    writeFileSync(
      join(project, "main.js"),
      `import { encode, decode, fakeQuantize, gemm, format, target } from "numforge-kernels-e4m3";
const x = new Float32Array([1.5, -3, 1e-3, 500, NaN, 0.3]);
const { codes, meta } = encode(x);
const c = gemm({ a: codes.subarray(0, 4), b: codes.subarray(0, 4), c: new Float32Array(4), m: 2, n: 2, k: 2 });
console.log(JSON.stringify({ target, name: format.name, codes: [...codes], values: [...decode(codes, meta)].map(String), fake: [...fakeQuantize(x).values].map(String), c: [...c] }));`,
    );
    const out = JSON.parse(execFileSync("node", ["main.js"], { cwd: project, encoding: "utf8" }));
    expect(out.name).toBe("e4m3");
    expect(out.codes).toEqual([0x3c, 0xc4, 0x01, 0x7e, 0x7f, 0x2a]);
    expect(out.values).toEqual(["1.5", "-3", "0.001953125", "448", "NaN", "0.3125"]);
    expect(out.fake).toEqual(out.values);
    // The decoded operands are [[1.5, −3], [2^-9, 448]]; two-term sums, within float32 rounding.
    const want = [1.5 * 1.5 + -3 * 0.001953125, 1.5 * -3 + -3 * 448, 0.001953125 * 1.5 + 448 * 0.001953125, 0.001953125 * -3 + 448 * 448];
    for (let i = 0; i < 4; i++) expect(Math.abs(out.c[i] - want[i])).toBeLessThanOrEqual(Math.abs(want[i]) * 2 ** -22);
  }, 180_000);

  it("refuses bad arguments with messages that say what is wrong", async () => {
    const pkg = await importPackage(e4m3Dir);
    const x = new Float32Array(8);
    expect(() => pkg.encode([1, 2])).toThrow(/encode: x must be a Float32Array \(got Array\)/);
    expect(() => pkg.encode(x, new Uint8Array(3))).toThrow(/encode: out holds 3 elements; 8 are needed/);
    expect(() => pkg.encode(x, new Float32Array(8))).toThrow(/must be a Uint8Array/);
    expect(() => pkg.decode(new Uint16Array(4))).toThrow(/decode: codes must be a Uint8Array of e4m3 codes \(got Uint16Array\(4\)\)/);
    expect(() => pkg.encode(x, undefined, { channels: 3 })).toThrow(/channels = 3 must be a positive integer dividing the 8 elements/);
    const a = new Float32Array(6);
    expect(() => pkg.gemm({ a, b: a, c: new Float32Array(4), m: 2, n: 2, k: 4 })).toThrow(/gemm: a holds 6 elements but m·k = 8/);
    expect(() => pkg.gemm({ a, b: a, c: new Float32Array(3), m: 2, n: 2, k: 3 })).toThrow(/gemm: c holds 3 elements but m·n = 4/);
    expect(() => pkg.gemm({ a, b: a, c: new Float32Array(4), m: 2.5, n: 2, k: 2 })).toThrow(/gemm: m must be a non-negative integer/);
    expect(() => pkg.gemm({ a: new Int16Array(6), b: a, c: new Float32Array(4), m: 2, n: 2, k: 3 })).toThrow(/gemm: a must be a Float32Array or a Uint8Array/);
    // Option types are checked: the string "false" is truthy and would have transposed A.
    const ok = { a, b: a, c: new Float32Array(4), m: 2, n: 2, k: 3 };
    expect(() => pkg.gemm({ ...ok, transA: "false" })).toThrow(/^gemm: transA must be true or false \(got "false"\)$/);
    expect(() => pkg.gemm({ ...ok, transB: 1 })).toThrow(/gemm: transB must be true or false \(got 1\)/);
    expect(() => pkg.gemm({ ...ok, alpha: "2" })).toThrow(/gemm: alpha must be a number \(got "2"\)/);
    expect(() => pkg.gemm({ ...ok, transa: true })).toThrow(/gemm: unknown parameter "transa"; the parameters are a, b, c, m, n, k, transA/);
    expect(() => pkg.gemm(null)).toThrow(/gemm: takes one object/);
    expect(pkg.gemm({ ...ok, transA: false, transB: false })).toBeInstanceOf(Float32Array);
  });

  it("lets NaN and Inf inside tensors propagate as the format defines, without throwing", async () => {
    const pkg = await importPackage(e4m3Dir);
    const x = new Float32Array([NaN, Infinity, -Infinity, 1]);
    expect(bitsOf(pkg.fakeQuantize(x).values)).toEqual(bitsOf(new Float32Array([NaN, 448, -448, 1])));
    const c = pkg.gemm({ a: x, b: new Float32Array([1, 1, 1, 1]), c: new Float32Array(4), m: 2, n: 2, k: 2 });
    expect(Number.isNaN(c[0]) && Number.isNaN(c[1])).toBe(true);
  });

  it("refuses a directory that is not a numforge package; with force adds the package beside its files, never replacing them", async () => {
    const dir = join(root, "occupied");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "precious.txt"), "keep me");
    const { files, manifest } = await packageFiles(builtin("int8"), TARGETS);
    const refused = Effect.runSync(Effect.result(writePackage(dir, files, manifest, false)));
    expect(refused._tag).toBe("Failure");
    expect(String(refused._tag === "Failure" ? refused.failure : "")).toMatch(/exists and is not a numforge kernel package .* --force/);
    expect(readFileSync(join(dir, "precious.txt"), "utf8")).toBe("keep me");
    Effect.runSync(writePackage(dir, files, manifest, true));
    expect(readFileSync(join(dir, "precious.txt"), "utf8")).toBe("keep me");
    expect(existsSync(join(dir, "index.js"))).toBe(true);
    // Now a numforge package: replaced without --force, the user's file still kept.
    Effect.runSync(writePackage(dir, files, manifest, false));
    expect(readFileSync(join(dir, "precious.txt"), "utf8")).toBe("keep me");
  });
});

describe("package kernels equal the semantics for every scaling kind", () => {
  const cases: { name: string; channels: number; blockAxis?: 0 | 1 }[] = [
    { name: "e5m2", channels: 1 },
    { name: "posit16", channels: 1 },
    { name: "s2fp8", channels: 1 },
    { name: "mxfp4", channels: 1 },
    { name: "mxint8", channels: 1 },
    { name: "shiftquant4", channels: 8 },
    { name: "nvfp4", channels: 37, blockAxis: 0 },
    { name: "fp8-block1x128", channels: 8, blockAxis: 1 },
  ];
  for (const { name, channels, blockAxis } of cases) {
    it(`${name}: encode codes and fakeQuantize values are bit-identical`, async () => {
      const format = builtin(name);
      const pkg = await importPackage(await compileTo(format));
      const x = tensor(8 * 37, 5);
      x[3] = 0;
      const layout = { shape: [channels, x.length / channels], blockAxis, seed: 9 };
      const semantics = { channels, blockAxis, seed: 9 };
      const fromPackage = pkg.encode(x, undefined, layout);
      const fromSemantics = quantize(format, x, semantics);
      expect([...fromPackage.codes]).toEqual([...fromSemantics.codes]);
      expect(bitsOf(pkg.fakeQuantize(x, undefined, undefined, layout).values)).toEqual(bitsOf(semanticFakeQuantize(format, x, semantics).values));
      expect(bitsOf(pkg.decode(fromPackage.codes, fromPackage.meta))).toEqual(bitsOf(semanticFakeQuantize(format, x, semantics).values));
    });
  }
});

describe("a ShiftQuant package multiplies codes as integers with the group shifts after accumulation", () => {
  it("gemm on codes encoded with one channel per lane equals decode-then-gemm bit for bit (small k: the f32 GEMM is exact)", async () => {
    const pkg = await importPackage(await compileTo(builtin("shiftquant4"), "shiftquant4-gemm"));
    const [m, n, k] = [5, 7, 6];
    const a = tensor(m * k, 11);
    const b = tensor(n * k, 12); // stored n×k, used transposed
    const qa = pkg.encode(a, undefined, { channels: m });
    const qb = pkg.encode(b, undefined, { channels: n });
    const viaCodes = new Float32Array(m * n);
    pkg.gemm({ a: qa.codes, b: qb.codes, c: viaCodes, m, n, k, transB: true, metaA: qa.meta, metaB: qb.meta });
    const viaValues = new Float32Array(m * n);
    pkg.gemm({ a: pkg.decode(qa.codes, qa.meta), b: pkg.decode(qb.codes, qb.meta), c: viaValues, m, n, k, transB: true });
    expect(bitsOf(viaCodes)).toEqual(bitsOf(viaValues));
    expect(viaCodes.some((v) => v !== 0)).toBe(true);
    // B stored k×n (not transposed): its channels are rows of the summed axis, not lanes, so the
    // package dequantizes both operands instead — the same numbers as decoding them by hand.
    const bt = new Float32Array(k * n);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[p * n + j] = b[j * k + p];
    const qbt = pkg.encode(bt, undefined, { channels: k });
    const untransposed = new Float32Array(m * n);
    pkg.gemm({ a: qa.codes, b: qbt.codes, c: untransposed, m, n, k, metaA: qa.meta, metaB: qbt.meta });
    const byHand = new Float32Array(m * n);
    pkg.gemm({ a: pkg.decode(qa.codes, qa.meta), b: pkg.decode(qbt.codes, qbt.meta), c: byHand, m, n, k });
    expect(bitsOf(untransposed)).toEqual(bitsOf(byHand));
  });
});
