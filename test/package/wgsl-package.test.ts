/**
 * The WGSL target in kernel packages: `numforge compile … --target wgsl` writes the WGSL kernels
 * as data (wgsl/kernels.js, in the manifest, hashed), the WebGPU entry `<package>/wgsl` and its
 * runtime, and no .wgsl files that nothing loads; imported from
 * outside the repository and given a device of the `webgpu` npm package (Mesa lavapipe in CI),
 * its encode / decode / fakeQuantize give bit for bit the codes, values, metadata and state of
 * the package's synchronous (wasm) API — every finite value, the midpoints between neighbours
 * (ties) and their neighbours, NaN, ±Inf, ±0, overflow — and its GEMM stays within the f32
 * accumulation bound. Without WebGPU it says what to install.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as Effect from "effect/Effect";
import { create } from "webgpu";
import { packageFiles } from "../../src/package/package-files.ts";
import { writePackage } from "../../src/package/write-package.ts";
import { TARGETS } from "../../src/targets/registry.ts";
import { wgslTarget } from "../../src/targets/wgsl/index.ts";
import { gamma } from "../codegen/gemm-support.ts";
import { numforgeInProcess } from "../cli/harness.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { builtin } from "../support/formats.ts";
import { tensor } from "../targets/wgsl/plan-support.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-wgsl-packages-"));
// Dawn stops processing events once its GPU object is garbage-collected: held for the file.
const gpu = create([]);
let device: GPUDevice;

// biome-ignore lint: dynamically imported packages
type Module = any;
const importFrom = (dir: string, path: string): Promise<Module> => import(pathToFileURL(join(dir, path)).href);

const compiled = new Map<string, Promise<string>>();
/** The package of `name` for `targets` (default all: js, wasm, wgsl), written once per file. */
function packageDir(name: string, targets = TARGETS): Promise<string> {
  const dir = `${name}-${targets.map((t) => t.name).join("-")}`;
  let done = compiled.get(dir);
  if (done === undefined) {
    done = packageFiles(builtin(name), targets).then(({ files, manifest }) => Effect.runSync(writePackage(join(root, dir), files, manifest, false)));
    compiled.set(dir, done);
  }
  return done;
}

const bitsOf = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
/** Typed arrays by name as bit lists (f32 by bits), to compare metadata and state exactly. */
const bufferBits = (buffers: Record<string, ArrayLike<number>>) =>
  Object.fromEntries(Object.entries(buffers).map(([k, b]) => [k, b instanceof Float32Array ? bitsOf(b) : Array.from(b)]));

const f32Bits = (bits: number) => new Float32Array(Uint32Array.of(bits >>> 0).buffer)[0];
const nextUp = (x: number) => f32Bits(new Uint32Array(Float32Array.of(x).buffer)[0] + 1);
const nextDown = (x: number) => f32Bits(new Uint32Array(Float32Array.of(x).buffer)[0] - 1);

/**
 * Every finite value of an unscaled format (decoded with the sync API), the midpoints between
 * neighbours and one float32 ulp either side of each, specials and overflow, then random tensors
 * up to at least `min` elements.
 */
function edgeInputs(sync: Module, min: number): Float32Array {
  const codes = new (sync.format.bits <= 8 ? Uint8Array : Uint16Array)(sync.format.codeCount).map((_, i) => i);
  const values = [...new Set(Array.from(sync.decode(codes) as Float32Array).filter(Number.isFinite))].sort((a, b) => a - b);
  const out: number[] = [...values, Number.NaN, Infinity, -Infinity, 0, -0, 3e38, -3e38, 2 * sync.format.maxFinite, -2 * sync.format.maxFinite];
  for (let i = 1; i < values.length; i++) {
    const mid = Math.fround((values[i - 1] + values[i]) / 2);
    if (mid !== 0) out.push(mid, nextUp(mid), nextDown(mid));
  }
  const random = tensor(Math.max(0, min - out.length), 3);
  return Float32Array.from([...out, ...random]);
}

beforeAll(async () => {
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error("no WebGPU adapter: install Mesa's lavapipe (bash scripts/setup-webgpu.sh)");
  device = await adapter.requestDevice();
});
afterAll(() => device?.destroy());

describe("numforge compile --target wgsl", () => {
  const out = join(root, "cli-e4m3");
  let result: Awaited<ReturnType<typeof numforgeInProcess>>;
  beforeAll(async () => {
    result = await numforgeInProcess(["compile", "e4m3", "--target", "wgsl", "--out", out]);
  });

  it("writes the WGSL kernels, the WebGPU entry and its runtime, hashed in the manifest; the sync entry says to use ./wgsl", async () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^wrote \d+ files for e4m3 \(wgsl\) to /);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.targets).toEqual(["wgsl"]);
    const files = Object.keys(manifest.files);
    for (const f of ["wgsl/kernels.js", "wgsl/launch.js", "wgsl/index.js", "wgsl/index.d.ts", "wgsl-runtime.js", "wgsl-launch.js", "calls.js"]) expect(files).toContain(f);
    // The shaders the runtime compiles are data in wgsl/kernels.js; no .wgsl file is shipped for nothing to load.
    expect(files.filter((f) => f.endsWith(".wgsl"))).toEqual([]);
    for (const [path, hash] of Object.entries(manifest.files)) expect(createHash("sha256").update(readFileSync(join(out, path))).digest("hex"), path).toBe(hash);
    const { kernels } = await importFrom(out, "wgsl/kernels.js");
    const passes = kernels.flatMap((k: Module) => k.passes);
    expect(passes.map((p: Module) => p.file)).toEqual(expect.arrayContaining(["encode_elements.wgsl", "decode_elements.wgsl", "fake_quantize_elements.wgsl", "gemm_cc.wgsl"]));
    for (const pass of passes) expect(pass.wgsl).toMatch(/@compute/);
    const pkg = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
    expect(pkg.exports["./wgsl"]).toEqual({ types: "./wgsl/index.d.ts", default: "./wgsl/index.js" });
    await expect(importFrom(out, "index.js")).rejects.toThrow(/no usable backend for e4m3: wgsl: WebGPU kernels are asynchronous: use createGpuKernels from this package's "\.\/wgsl" entry/);
  });

  it("the WebGPU entry is reached by its package subpath, from a project outside the repository", async () => {
    const project = join(root, "consumer");
    mkdirSync(join(project, "node_modules"), { recursive: true });
    symlinkSync(out, join(project, "node_modules", "numforge-kernels-e4m3"), "dir");
    writeFileSync(join(project, "main.js"), 'export { createGpuKernels, format } from "numforge-kernels-e4m3/wgsl";\n');
    const entry = await importFrom(project, "main.js");
    expect(entry.format.name).toBe("e4m3");
    const kernels = await entry.createGpuKernels(device);
    const { codes } = await kernels.encode(Float32Array.of(1.5, -3, 1e-3, 500, Number.NaN, 0.3));
    expect(Array.from(codes)).toEqual([0x3c, 0xc4, 0x01, 0x7e, 0x7f, 0x2a]);
    kernels.destroy();
  });
});

describe("package GPU kernels = the package's sync kernels, bit for bit", () => {
  for (const name of ["e4m3", "posit16"]) {
    it(`${name}: every value, midpoint and neighbour, specials; every code decoded`, async () => {
      const sync = await importFrom(await packageDir(name), "index.js");
      const gpuOnly = await importFrom(await packageDir(name, [wgslTarget]), "wgsl/index.js");
      const kernels = await gpuOnly.createGpuKernels(device);
      const x = edgeInputs(sync, 10_000);
      expect(x.length).toBeGreaterThanOrEqual(10_000);
      const encoded = await kernels.encode(x);
      expect(Array.from(encoded.codes)).toEqual(Array.from(sync.encode(x).codes));
      expect(bitsOf(await kernels.decode(encoded.codes, encoded.meta))).toEqual(bitsOf(sync.decode(encoded.codes, encoded.meta)));
      expect(bitsOf((await kernels.fakeQuantize(x)).values)).toEqual(bitsOf(sync.fakeQuantize(x).values));
      const every = new (sync.format.bits <= 8 ? Uint8Array : Uint16Array)(sync.format.codeCount).map((_, i) => i);
      expect(bitsOf(await kernels.decode(every))).toEqual(bitsOf(sync.decode(every)));
      kernels.destroy();
    });
  }

  it("s2fp8 (shift and squeeze): codes, metadata and values, with and without specials in the tensor", async () => {
    const dir = await packageDir("s2fp8");
    const sync = await importFrom(dir, "index.js");
    const both = await importFrom(dir, "wgsl/index.js");
    // The package compiled for js, wasm and wgsl together, given the GPU entry point rather than a device.
    const kernels = await both.createGpuKernels(gpu);
    const noisy = tensor(12_000, 11);
    for (const x of [noisy, noisy.filter(Number.isFinite)]) {
      const fromGpu = await kernels.encode(x);
      const fromSync = sync.encode(x);
      expect(Array.from(fromGpu.codes)).toEqual(Array.from(fromSync.codes));
      expect({ ...fromGpu.meta, buffers: bufferBits(fromGpu.meta.buffers) }).toEqual({ ...fromSync.meta, buffers: bufferBits(fromSync.meta.buffers) });
      expect(bitsOf(await kernels.decode(fromSync.codes, fromSync.meta))).toEqual(bitsOf(sync.decode(fromSync.codes, fromSync.meta)));
      const fake = await kernels.fakeQuantize(x);
      expect(bitsOf(fake.values)).toEqual(bitsOf(sync.fakeQuantize(x).values));
      expect(bufferBits(fake.meta.buffers)).toEqual(bufferBits(fromSync.meta.buffers));
    }
    kernels.destroy();
    kernels.destroy();
    await expect(kernels.encode(noisy)).rejects.toThrow(/the GPU kernels of s2fp8 were destroyed/);
  });
});

describe("package GPU GEMM", () => {
  /** Values in (−4, 4) with 24 random bits: products and sums stay far from overflow. */
  const moderate = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => (counterRandom(seed, i) / 2 ** 32 - 0.5) * 8);

  /** |C − C_exact| ≤ γ_{k+2}·(|α|·Σ|a||b| + |β||c|), with the exact value from the decoded operands in float64. */
  function expectWithinBound(c: Float32Array, a: Float32Array, b: Float32Array, c0: Float32Array, p: { m: number; n: number; k: number; alpha: number; beta: number; transA: boolean; transB: boolean }) {
    for (let i = 0; i < p.m; i++)
      for (let j = 0; j < p.n; j++) {
        let exact = 0;
        let scale = 0;
        for (let q = 0; q < p.k; q++) {
          const av = a[p.transA ? q * p.m + i : i * p.k + q];
          const bv = b[p.transB ? j * p.k + q : q * p.n + j];
          exact += av * bv;
          scale += Math.abs(av * bv);
        }
        const want = p.alpha * exact + p.beta * c0[i * p.n + j];
        const bound = gamma(p.k + 2) * (Math.abs(p.alpha) * scale + Math.abs(p.beta * c0[i * p.n + j])) + 2 ** -140;
        expect(Math.abs(c[i * p.n + j] - want), `C[${i}][${j}]`).toBeLessThanOrEqual(bound);
      }
  }

  for (const name of ["e4m3", "posit16", "s2fp8"]) {
    it(`${name}: codes × codes and codes × f32, transposed, with α and β`, async () => {
      const dir = await packageDir(name);
      const sync = await importFrom(dir, "index.js");
      const kernels = await (await importFrom(dir, "wgsl/index.js")).createGpuKernels(device);
      expect(typeof kernels.gemm).toBe("function");
      const p = { m: 37, n: 70, k: 45, alpha: 0.75, beta: -2, transA: true, transB: false };
      const a = sync.encode(moderate(p.m * p.k, 21));
      const bf = moderate(p.k * p.n, 22);
      const b = sync.encode(bf);
      const c0 = moderate(p.m * p.n, 23);
      const decodedA = sync.decode(a.codes, a.meta);
      for (const [operandB, valuesB, metaB] of [[b.codes, sync.decode(b.codes, b.meta), b.meta], [bf, bf, undefined]] as const) {
        const c = await kernels.gemm({ a: a.codes, b: operandB, c: c0.slice(), metaA: a.meta, metaB, ...p });
        expectWithinBound(c, decodedA, valuesB, c0, p);
      }
      await expect(kernels.gemm({ a: a.codes, b: bf, c: new Float32Array(3), ...p })).rejects.toThrow(/gemm: c holds 3 elements but m·n = 2590/);
      kernels.destroy();
    });
  }
});

describe("the WebGPU entry's errors", () => {
  it("checks arguments as the sync entry does", async () => {
    const kernels = await (await importFrom(await packageDir("e4m3"), "wgsl/index.js")).createGpuKernels(device);
    await expect(kernels.encode([1, 2])).rejects.toThrow(/encode: x must be a Float32Array \(got Array\)/);
    await expect(kernels.decode(new Uint16Array(4))).rejects.toThrow(/decode: codes must be a Uint8Array of e4m3 codes/);
    kernels.destroy();
  });

  it("without an adapter, or without any WebGPU, says what to install", async () => {
    const { createGpuKernels } = await importFrom(await packageDir("e4m3"), "wgsl/index.js");
    const install = /in a browser with WebGPU, or in Node pass the GPU of the `webgpu` npm package .*create\(\[\]\).*Mesa's lavapipe Vulkan driver/;
    await expect(createGpuKernels({ requestAdapter: async () => null })).rejects.toThrow(/^WebGPU: no adapter found; run /);
    await expect(createGpuKernels({ requestAdapter: async () => null })).rejects.toThrow(install);
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    await expect(createGpuKernels()).rejects.toThrow(/^WebGPU: no GPU given and no navigator\.gpu here; run /);
    await expect(createGpuKernels({})).rejects.toThrow(/expected a GPUDevice, a GPUAdapter or a GPU/);
  });
});
