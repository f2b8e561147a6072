/**
 * Integers with a zero point and codebook (table) elements through kernel packages, on js, wasm
 * and wgsl: encode gives the semantics' codes (every value, every midpoint and a float32 ulp
 * either side, specials, random tensors), decode of every code and fakeQuantize give the
 * semantics' values bit for bit, and the package's GEMM on codes:
 * - two affine integer operands: the exact integer GEMM, Σ(a − za)(b − zb) in i32, then the
 *   epilogue f32(α·f32(Σ))·2^scale (+ f32(β·c)) — bit for bit; a kernel that left out the zero
 *   point (or applied it to one side) gives other sums;
 * - table operands and a table × affine-int mix: bit for bit the same package's GEMM on the
 *   decoded f32 operands (decoding is the operand's whole meaning), and within the f32
 *   accumulation bound of the float64 product of the semantics' decoded values.
 * Block-scaled affine ints (a Q4_0-like layout) and NF4 blocks: encode/decode as above, and their
 * GEMM on codes with metadata = the GEMM of the decoded operands, bit for bit.
 * And int8 with the zero point as a spec field against onnxruntime's QuantizeLinear vectors
 * (semantics for every zero point there, packages on every target for two).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as Effect from "effect/Effect";
import { create } from "webgpu";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { decode as libDecode, encode as libEncode } from "../../src/lib/formats.ts";
import { packageFiles } from "../../src/package/package-files.ts";
import { writePackage } from "../../src/package/write-package.ts";
import { jsTarget } from "../../src/targets/js/index.ts";
import { TARGETS } from "../../src/targets/registry.ts";
import { builtin } from "../support/formats.ts";
import { resolveSpec, type WrittenSpec } from "../fuzz/resolve-spec.ts";
import { loadReference } from "../support/reference.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-affine-table-"));
// Dawn stops processing events once its GPU object is garbage-collected: held for the file.
const gpu = create([]);
let device: GPUDevice;
beforeAll(async () => {
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error("no WebGPU adapter: install Mesa's lavapipe (bash scripts/setup-webgpu.sh)");
  device = await adapter.requestDevice();
});
afterAll(async () => {
  for (const kernels of opened.values()) (await kernels).wgsl.destroy();
  device?.destroy();
  rmSync(root, { recursive: true, force: true });
});

function spec(name: string, element: WrittenSpec["element"], scaling: WrittenSpec["scaling"] = { kind: "none" }, nanInput = "zero"): ResolvedFormat {
  const resolution = resolveSpec({ name, summary: name, element, rounding: "nearest-even", overflow: "saturate", nanInput, scaling } as WrittenSpec);
  if (!("format" in resolution)) throw new Error(`${name}: ${resolution.reason}`);
  return resolution.format;
}

/** Affine integers: unsigned with an odd zero point, symmetric signed with a negative one (its left-out code decodes as −127 − zp), fixed point. */
const AFFINE: readonly ResolvedFormat[] = [
  builtin("uint4-zp8"),
  spec("uint8-zp131", { kind: "int", bits: 8, signed: false, range: "full", zeroPoint: 131 }),
  spec("int8sym-zp-3", { kind: "int", bits: 8, signed: true, range: "symmetric", zeroPoint: -3 }),
  spec("uint6-zp20-q2", { kind: "int", bits: 6, signed: false, range: "full", zeroPoint: 20, fractionBits: 2 }),
];
/** Tables: NF4, a 5-entry codebook (3-bit codes, 5..7 unused), NF4 under block absmax scaling. */
const TABLES: readonly ResolvedFormat[] = [
  builtin("nf4"),
  spec("table5", { kind: "table", values: [-2, -0.375, 0, 0.5, 3] }),
  builtin("nf4-block64"),
];

// biome-ignore lint: dynamically imported packages
type Module = any;
const importFrom = (dir: string, path: string): Promise<Module> => import(pathToFileURL(join(dir, path)).href);

/** The package of a format for some targets, written once. */
const written = new Map<string, Promise<string>>();
function packageDir(format: ResolvedFormat, targets: typeof TARGETS): Promise<string> {
  const dir = join(root, `${format.name}-${targets.map((t) => t.name).join("-")}`);
  let done = written.get(dir);
  if (done === undefined) {
    done = packageFiles(format, targets).then(({ files, manifest }) => Effect.runSync(writePackage(dir, files, manifest, false)));
    written.set(dir, done);
  }
  return done;
}

type TargetKernels = Record<"js" | "wasm" | "wgsl", Module>;
/** Each format's kernels, opened once for the file (the GPU ones are destroyed with the device). */
const opened = new Map<string, Promise<TargetKernels>>();
function kernelsOf(format: ResolvedFormat): Promise<TargetKernels> {
  let kernels = opened.get(format.name);
  if (kernels === undefined) {
    kernels = openKernels(format);
    opened.set(format.name, kernels);
  }
  return kernels;
}

/** The package API on each target, all asynchronous (js: a js-only package; wasm: the default entry; wgsl: createGpuKernels). */
async function openKernels(format: ResolvedFormat): Promise<TargetKernels> {
  const js = await importFrom(await packageDir(format, [jsTarget]), "index.js");
  const all = await packageDir(format, TARGETS);
  const wasm = await importFrom(all, "index.js");
  const gpuKernels = await (await importFrom(all, "wgsl/index.js")).createGpuKernels(device);
  expect([js.target, wasm.target]).toEqual(["js", "wasm"]);
  // The package states the element it was compiled for: the zero point, the table's values.
  for (const k of [js, wasm, gpuKernels]) expect(k.format.element).toEqual(format.element);
  const sync = (k: Module) => ({ encode: async (...a: unknown[]) => k.encode(...a), decode: async (...a: unknown[]) => k.decode(...a), fakeQuantize: async (...a: unknown[]) => k.fakeQuantize(...a), gemm: async (p: unknown) => k.gemm(p) });
  return { js: sync(js), wasm: sync(wasm), wgsl: gpuKernels };
}

const bitsOf = (x: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(x).buffer));
const f32Of = (bits: number) => new Float32Array(Uint32Array.of(bits >>> 0).buffer)[0];
const bitsOfF32 = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];

/** Every value, each midpoint and a float32 ulp either side, specials and overflow, then random values across ±4·max. */
function edgeInputs(format: ResolvedFormat, values: readonly number[]): Float32Array {
  const sorted = [...new Set(values.filter(Number.isFinite))].sort((a, b) => a - b);
  const out: number[] = [...sorted, Number.NaN, Infinity, -Infinity, 0, -0, 3e38, -3e38];
  for (let i = 1; i < sorted.length; i++) {
    const mid = Math.fround((sorted[i - 1] + sorted[i]) / 2);
    out.push(mid, f32Of(bitsOfF32(mid) + 1), f32Of(bitsOfF32(mid) - 1));
  }
  const span = 4 * Math.max(Math.abs(format.maxFinite), Math.abs(format.minFinite));
  for (let i = 0; i < 4096; i++) out.push(((counterRandom(11, i) / 2 ** 32) * 2 - 1) * span);
  return Float32Array.from(out);
}

const codeArray = (format: ResolvedFormat, n: number, seed: number) => {
  const used = format.element.kind === "table" ? format.element.values.length : format.codeCount;
  return new (format.bits <= 8 ? Uint8Array : Uint16Array)(n).map((_, i) => counterRandom(seed, i) % used);
};

/** A Q4_0-like layout: uint4 with zero point 8 under an fp32 absmax scale per block of 32. */
const AFFINE_BLOCK = spec("uint4-zp8-block32", { kind: "int", bits: 4, signed: false, range: "full", zeroPoint: 8 }, { kind: "block", granularity: { block: 32 }, scale: { format: "fp32", rounding: "nearest-even" } } as WrittenSpec["scaling"]);

describe("affine integers and tables through packages: kernels = semantics on js, wasm, wgsl", () => {
  for (const format of [...AFFINE, AFFINE_BLOCK, ...TABLES]) {
    it(`${format.name}: encode of every value, midpoint ±1 ulp, specials; decode of every code; fakeQuantize`, async () => {
      const every = new (format.bits <= 8 ? Uint8Array : Uint16Array)(format.codeCount).map((_, i) => i);
      const scaled = format.scaling.kind !== "none";
      // The element's values (a scaled format's unscaled ones: inputs near them meet every rounding case once the blocks scale by absmax).
      const values = libDecode(scaled ? { ...format, scaling: builtin("nf4").scaling } : format, Array.from(every));
      const x = edgeInputs(format, values);
      const want = libEncode(format, Array.from(x), scaled ? {} : undefined);
      const wantDecoded = bitsOf(libDecode(format, want.codes, want.meta));
      const kernels = await kernelsOf(format);
      for (const [target, k] of Object.entries(kernels)) {
        const encoded = await k.encode(x);
        expect(Array.from(encoded.codes), `${target} encode`).toEqual(want.codes);
        expect(bitsOf(await k.decode(encoded.codes, encoded.meta)), `${target} decode(encode)`).toEqual(wantDecoded);
        expect(bitsOf((await k.fakeQuantize(x)).values), `${target} fakeQuantize`).toEqual(wantDecoded);
        if (!scaled) expect(bitsOf(await k.decode(every)), `${target} decode of every code`).toEqual(bitsOf(libDecode(format, Array.from(every))));
      }
    }, 120_000);
  }
});

interface Problem {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly alpha: number;
  readonly beta: number;
}
const PROBLEMS: readonly Problem[] = [
  { m: 5, n: 7, k: 300, transA: false, transB: false, alpha: 1, beta: 0 },
  { m: 9, n: 4, k: 33, transA: true, transB: true, alpha: 0.75, beta: -1.5 },
  { m: 1, n: 17, k: 128, transA: false, transB: true, alpha: -2, beta: 0.5 },
];

/** op(X)[row, col] of a row-major buffer stored rows × cols before op(). */
const at = (x: ArrayLike<number>, trans: boolean, rows: number, cols: number, r: number, c: number) => (trans ? x[c * rows + r] : x[r * cols + c]);

/** The exact integer GEMM on decoded values: f32(α·f32(Σ a·b)) (+ f32(β·c)); Σ is exact in float64 (|Σ| < 2^53). */
function exactReference(p: Problem, a: readonly number[], b: readonly number[], c: Float32Array): number[] {
  const f = Math.fround;
  const out: number[] = [];
  for (let i = 0; i < p.m; i++)
    for (let j = 0; j < p.n; j++) {
      let sum = 0;
      for (let q = 0; q < p.k; q++) sum += at(a, p.transA, p.m, p.k, i, q) * at(b, p.transB, p.k, p.n, q, j);
      const av = f(p.alpha * f(sum));
      out.push(p.beta === 0 ? av : f(av + f(p.beta * c[i * p.n + j])));
    }
  return out;
}

/** |C − C_ref| ≤ γ_{k+2}·S + slack, S = |α|Σ|a||b| + |β||c| (the f32 accumulation bound of test/codegen/gemm.test.ts). */
function boundViolations(p: Problem, a: readonly number[], b: readonly number[], c0: Float32Array, got: Float32Array): string[] {
  const u = 2 ** -24;
  const gamma = ((p.k + 2) * u) / (1 - (p.k + 2) * u);
  const out: string[] = [];
  for (let i = 0; i < p.m; i++)
    for (let j = 0; j < p.n; j++) {
      let sum = 0;
      let abs = 0;
      for (let q = 0; q < p.k; q++) {
        const v = at(a, p.transA, p.m, p.k, i, q) * at(b, p.transB, p.k, p.n, q, j);
        sum += v;
        abs += Math.abs(v);
      }
      const ref = p.alpha * sum + p.beta * c0[i * p.n + j];
      const s = Math.abs(p.alpha) * abs + Math.abs(p.beta * c0[i * p.n + j]);
      const err = Math.abs(got[i * p.n + j] - ref);
      if (!(err <= gamma * s + (p.k + 3) * 2 ** -149 + 2 ** -40 * s) && out.length < 3) out.push(`C[${i},${j}] = ${got[i * p.n + j]}, reference ${ref}, |error| ${err} > bound`);
    }
  return out;
}

/** Each format with itself (both operands as codes), and with another format's values as f32. */
const PAIRS: readonly (readonly [ResolvedFormat, ResolvedFormat])[] = [
  ...AFFINE.map((f) => [f, f] as const),
  [TABLES[0], TABLES[0]],
  [TABLES[1], TABLES[1]],
  [AFFINE[1], AFFINE[2]],
  [TABLES[0], AFFINE[0]],
  [AFFINE[0], TABLES[1]],
];

describe("GEMM on affine-integer and table codes through packages, js, wasm, wgsl", () => {
  for (const [fa, fb] of PAIRS) {
    const integer = fa.element.kind === "int" && fb.element.kind === "int";
    it(`${fa.name} × ${fa === fb ? fb.name : `${fb.name} as f32`}: ${integer && fa === fb ? "the exact integer GEMM with zero-point corrections, bit for bit" : "the GEMM of the decoded operands, bit for bit, within the f32 bound"}`, async () => {
      // A package holds one format: A's codes run in A's package, B enters it as its decoded f32 values unless both formats are the same.
      const kernels = await kernelsOf(fa);
      const failures: string[] = [];
      for (const [pi, p] of PROBLEMS.entries()) {
        const aCodes = codeArray(fa, p.m * p.k, 100 + pi);
        const bCodes = codeArray(fb, p.k * p.n, 200 + pi);
        // Codes 0x80 of the symmetric format (decodes as −127 − zp) and the extremes, in every problem.
        aCodes[0] = 0;
        aCodes[aCodes.length - 1] = Math.min(fa.codeCount - 1, fa.element.kind === "table" ? fa.element.values.length - 1 : fa.codeCount - 1);
        if (fb.bits === 8) bCodes[0] = 0x80;
        const a = libDecode(fa, Array.from(aCodes));
        const b = libDecode(fb, Array.from(bCodes));
        const c0 = Float32Array.from({ length: p.m * p.n }, (_, i) => (counterRandom(300 + pi, i) % 2001) / 16 - 62.5);
        const same = fa === fb;
        const bOperand = same ? bCodes : Float32Array.from(b);
        for (const [target, k] of Object.entries(kernels)) {
          if (target === "wgsl" && k.gemm === undefined) throw new Error(`${fa.name}: the wgsl package has no GEMM`);
          const run = (aIn: ArrayLike<number>, bIn: ArrayLike<number>) => k.gemm({ a: aIn, b: bIn, c: Float32Array.from(c0), m: p.m, n: p.n, k: p.k, transA: p.transA, transB: p.transB, alpha: p.alpha, beta: p.beta });
          const got: Float32Array = await run(aCodes, bOperand);
          const label = `${target} problem ${pi}`;
          if (integer && same) {
            const want = exactReference(p, a, b, c0);
            if (bitsOf(got).join() !== bitsOf(want).join()) failures.push(`${label}: not the exact integer GEMM (first C ${got[0]}, exact ${want[0]})`);
          } else {
            const onDecoded: Float32Array = await run(Float32Array.from(a), Float32Array.from(b));
            if (bitsOf(got).join() !== bitsOf(onDecoded).join()) failures.push(`${label}: codes GEMM ≠ GEMM of the decoded operands (first C ${got[0]}, ${onDecoded[0]})`);
            failures.push(...boundViolations(p, a, b, c0, got).map((s) => `${label}: ${s}`));
          }
        }
      }
      expect(failures).toEqual([]);
    }, 120_000);
  }
});

describe("GEMM on block-scaled affine-integer and table codes through packages, js, wasm, wgsl", () => {
  for (const format of [AFFINE_BLOCK, TABLES[2]]) {
    it(`${format.name} × ${format.name} (blocks along k, with their metadata) = the GEMM of the decoded operands, bit for bit`, async () => {
      const failures: string[] = [];
      const p = PROBLEMS[0];
      const random = (seed: number, n: number) => Float32Array.from({ length: n }, (_, i) => ((counterRandom(seed, i) % 20001) - 10000) / 1000);
      const c0 = random(3, p.m * p.n);
      for (const [target, k] of Object.entries(await kernelsOf(format))) {
        // A is m×k with blocks along its rows; B is k×n with blocks down its columns (blockAxis 0): both along the depth.
        const a = await k.encode(random(1, p.m * p.k), undefined, { shape: [p.m, p.k] });
        const b = await k.encode(random(2, p.k * p.n), undefined, { shape: [p.k, p.n], blockAxis: 0 });
        const run = (params: Record<string, unknown>) => k.gemm({ c: Float32Array.from(c0), m: p.m, n: p.n, k: p.k, alpha: p.alpha, beta: p.beta, ...params });
        const got: Float32Array = await run({ a: a.codes, b: b.codes, metaA: a.meta, metaB: b.meta });
        const onDecoded: Float32Array = await run({ a: await k.decode(a.codes, a.meta), b: await k.decode(b.codes, b.meta) });
        if (bitsOf(got).join() !== bitsOf(onDecoded).join()) failures.push(`${target}: codes GEMM ≠ GEMM of the decoded operands (first C ${got[0]}, ${onDecoded[0]})`);
      }
      expect(failures).toEqual([]);
    }, 120_000);
  }
});

describe("int8 with a zero point as a spec field = onnxruntime QuantizeLinear", () => {
  const { vectors } = loadReference("quantizelinear_int8");
  const withZeroPoint = (zeroPoint: number) => spec(`int8-zp${zeroPoint}`, { kind: "int", bits: 8, signed: true, range: "full", zeroPoint }, undefined, "min");
  const cases = (zeroPoint: number) =>
    (vectors as readonly Record<string, unknown>[])
      .filter((v) => v.zero_point === zeroPoint)
      .map((v) => ({ x: f32Of(Number(v.x_bits)), scale: f32Of(Number(v.scale_bits)), y: Number(v.y) }));
  const zeroPoints = [...new Set((vectors as readonly Record<string, unknown>[]).map((v) => Number(v.zero_point)))].filter((z) => z !== 0);

  it(`the semantics, every non-zero zero point of the vectors (${zeroPoints.join(", ")})`, () => {
    expect(zeroPoints.length).toBeGreaterThanOrEqual(4);
    const mismatches: string[] = [];
    for (const zeroPoint of zeroPoints) {
      const format = withZeroPoint(zeroPoint);
      for (const { x, scale, y } of cases(zeroPoint)) {
        const code = libEncode(format, [x], { scale }).codes[0];
        if ((code >= 128 ? code - 256 : code) !== y) mismatches.push(`zp ${zeroPoint} scale ${scale} x ${x}: ${code} vs ${y}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  for (const zeroPoint of [17, -128]) {
    it(`kernels on js, wasm, wgsl, zero point ${zeroPoint} (x divided by the scale in float32 first)`, async () => {
      const format = withZeroPoint(zeroPoint);
      const list = cases(zeroPoint);
      expect(list.length).toBeGreaterThan(100);
      const x = Float32Array.from(list, ({ x, scale }) => Math.fround(x / scale));
      const want = list.map(({ y }) => (y < 0 ? y + 256 : y));
      for (const [target, k] of Object.entries(await kernelsOf(format))) expect(Array.from((await k.encode(x)).codes), target).toEqual(want);
    }, 60_000);
  }
});
