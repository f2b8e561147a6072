/**
 * The library API on the sources: what `import { … } from "numforge"` gives a program equals the
 * semantics (encode/decode/fake-quantize) and a written package (compileKernels), and its errors
 * carry the lines the CLI prints for the same mistakes.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { compare, compileKernels, decode, encode, fakeQuantize, loadFormat, NumforgeError, writePackage } from "../../src/index.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { decode as decodeScalar, encode as encodeScalar } from "../../src/dsl/semantics/scalar.ts";
import { dequantize, quantize } from "../../src/dsl/semantics/tensor.ts";
import { numforgeInProcess, ROOT } from "../cli/harness.ts";

const scratch = mkdtempSync(join(tmpdir(), "numforge-lib-"));
const same = (a: readonly number[], b: ArrayLike<number>) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** A tensor with a spread of magnitudes, signs and zeros. */
const tensor = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? 0 : ((counterRandom(seed, i) / 2 ** 32) * 2 - 1) * 2 ** ((counterRandom(seed + 1, i) % 16) - 8)));

/** What the CLI prints on stderr for argv (one line, without the newline). */
async function cliError(argv: readonly string[], stdin = "[]"): Promise<string> {
  const r = await numforgeInProcess(argv, stdin);
  expect(r.code).toBe(2);
  return r.stderr.trimEnd();
}

async function rejection(f: () => unknown): Promise<NumforgeError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(NumforgeError);
    return e as NumforgeError;
  }
  throw new Error("expected a NumforgeError");
}

describe("encode, decode and fakeQuantize", () => {
  it("encode(await loadFormat('e4m3'), [0.1, 448, 1000, -0.0146]).codes is [29, 126, 126, 135], the semantics' codes", async () => {
    const e4m3 = await loadFormat("e4m3");
    const values = [0.1, 448, 1000, -0.0146];
    const { codes, meta } = encode(e4m3, values);
    expect(codes).toEqual([29, 126, 126, 135]);
    expect(codes).toEqual(values.map((x) => encodeScalar(e4m3, x)));
    expect(meta).toEqual({ kind: "none" });
  });

  it("decodes every code of every ≤ 8-bit unscaled built-in as the semantics do, and a spec path loads the same format", async () => {
    for (const name of ["e4m3", "e5m2", "e4m3fnuz", "posit8", "int8", "e2m1"]) {
      const format = await loadFormat(name);
      expect(await loadFormat(join("formats", `${name}.json`))).toEqual(format);
      const codes = Array.from({ length: format.codeCount }, (_, c) => c);
      expect(same(decode(format, codes), codes.map((c) => decodeScalar(format, c))), name).toBe(true);
      expect(same(encode(format, decode(format, codes)).codes, codes.map((c) => encodeScalar(format, decodeScalar(format, c)))), name).toBe(true);
    }
  });

  it("passes rounding, seed, scale and zero point to the semantics", async () => {
    const e4m3 = await loadFormat("e4m3");
    const values = Array.from(tensor(64, 3));
    const stochastic = encode(e4m3, values, { rounding: "stochastic:8", seed: 7 }).codes;
    expect(stochastic).toEqual(values.map((x, i) => encodeScalar(e4m3, x, { rounding: { mode: "stochastic", bits: 8 }, random: counterRandom(7, i) })));
    const int8 = await loadFormat("int8");
    const affine = { scale: 0.01, zeroPoint: 3 };
    const codes = encode(int8, values, affine).codes;
    expect(codes).toEqual(values.map((x) => encodeScalar(int8, x, affine)));
    expect(decode(int8, codes, undefined, affine)).toEqual(codes.map((c) => decodeScalar(int8, c, affine)));
  });

  it("scaled formats: codes and meta are quantize's, decode is dequantize, fakeQuantize is their composition", async () => {
    for (const name of ["mxfp8", "s2fp8", "shiftquant4"]) {
      const format = await loadFormat(name);
      const x = tensor(256, 11);
      const channels = name === "shiftquant4" ? 8 : 1;
      const q = quantize(format, x, { channels });
      const { codes, meta } = encode(format, x, { channels });
      expect(codes, name).toEqual(Array.from(q.codes));
      expect(meta, name).toEqual(q.meta);
      const values = decode(format, codes, meta, { channels });
      expect(same(values, dequantize(format, q.codes, q.meta, { channels })), name).toBe(true);
      const fq = fakeQuantize(format, x, { channels });
      expect(same(fq.values, values), name).toBe(true);
    }
  });
});

describe("errors carry the CLI's messages", () => {
  it("an invalid spec: the line `numforge check` prints for it", async () => {
    const dir = "test/invalid";
    const specs = readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".json")).slice(0, 6);
    for (const spec of specs) {
      const error = await rejection(() => loadFormat(`${dir}/${spec}`));
      expect(error.reason._tag).toBe("SpecError");
      expect(error.message).toBe(await cliError(["check", `${dir}/${spec}`]));
    }
  });

  it("an unknown format, a bad option, a code out of range, a missing meta", async () => {
    expect((await rejection(() => loadFormat("e4m4"))).message).toBe(await cliError(["table", "e4m4"]));
    const e4m3 = await loadFormat("e4m3");
    const rounding = await rejection(() => encode(e4m3, [1], { rounding: "up" as never }));
    expect(rounding.reason._tag).toBe("UsageError");
    expect(rounding.message).toBe(await cliError(["encode", "e4m3", "--rounding", "up"], "[1]"));
    const scale = await rejection(() => encode(e4m3, [1], { scale: -1 }));
    expect(scale.message).toBe(await cliError(["encode", "e4m3", "--scale", "-1"], "[1]"));
    const mxfp8 = await loadFormat("mxfp8");
    expect((await rejection(() => encode(mxfp8, [1, 2], { overflow: "saturate" }))).message).toBe(
      await cliError(["encode", "mxfp8", "--overflow", "saturate"], "[1, 2]"),
    );
    expect((await rejection(() => decode(e4m3, [256]))).message).toMatch(/^codes\[0\]: 256 .*0\.\.255/);
    expect((await rejection(() => decode(mxfp8, [1, 2]))).reason._tag).toBe("InputError");
    expect((await rejection(() => encode(e4m3, [1, "2" as never]))).message).toMatch(/^values\[1\]: "2" is not a number/);
  });
});

describe("kernels", () => {
  it("compileKernels gives the package API on js and wasm, with the semantics' codes", async () => {
    for (const name of ["e4m3", "mxfp8"]) {
      const format = await loadFormat(name);
      const x = tensor(100, 5);
      const q = quantize(format, x);
      for (const target of ["js", "wasm"] as const) {
        const kernels = await compileKernels(format, { target });
        expect(kernels.target).toBe(target);
        expect(kernels.format.name).toBe(name);
        const { codes, meta } = kernels.encode(x);
        expect(Array.from(codes), `${name} ${target}`).toEqual(Array.from(q.codes));
        expect(same(Array.from(kernels.decode(codes, meta)), dequantize(format, q.codes, q.meta)), `${name} ${target}`).toBe(true);
      }
    }
    await expect(compileKernels(await loadFormat("e4m3"), { target: "cuda" as never })).rejects.toThrow(/unknown target "cuda"; available: .*wasm/);
  });

  it("writePackage writes an importable package and refuses a folder that is not one", async () => {
    const format = await loadFormat("int8");
    const out = join(scratch, "int8-kernels");
    const { dir, manifest } = await writePackage(format, { targets: ["js"], out });
    expect(manifest.targets).toEqual(["js"]);
    for (const file of Object.keys(manifest.files)) expect(existsSync(join(dir, file)), file).toBe(true);
    const pkg = await import(pathToFileURL(join(dir, "index.js")).href);
    expect(Array.from(pkg.encode(Float32Array.of(1, -2)).codes)).toEqual(Array.from(quantize(format, Float32Array.of(1, -2)).codes));
    const mine = join(scratch, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.txt"), "keep me");
    await expect(writePackage(format, { targets: ["js"], out: mine })).rejects.toBeInstanceOf(NumforgeError);
    expect(readFileSync(join(mine, "notes.txt"), "utf8")).toBe("keep me");
  });
});

describe("compare", () => {
  it("trains a format given by its spec file and resolves to the results, reporting progress", async () => {
    const spec = join(scratch, "my-e4m3.json");
    writeFileSync(spec, readFileSync(join(ROOT, "formats/e4m3.json"), "utf8").replace('"name": "e4m3"', '"name": "my-e4m3"'));
    const lines: string[] = [];
    const out = join(scratch, "compare");
    const results = await compare({ formats: [spec], stepsPerEpoch: 2, scale: 0.05, width: 2, out, onProgress: (l) => lines.push(l) });
    expect(results.runs.map((r) => [r.recipe, r.seed])).toEqual([["my-e4m3", 0]]);
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8"))).toEqual(results);
    expect(lines.some((l) => l.includes("my-e4m3"))).toBe(true);
    const bad = await rejection(() => compare({ model: "resnt", out }));
    expect(bad.message).toBe(await cliError(["compare", "--model=resnt", `--out=${out}`, "--json"]));
  });
});
