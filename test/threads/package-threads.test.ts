/**
 * Kernel packages on threads: createKernels({ threads }) runs the same wasm kernels on workers over
 * one shared memory, and every result equals one thread's bit for bit — the GEMM for every operand
 * kind the package multiplies (float32, codes) and both transpositions, the element plans
 * (encode, decode, fakeQuantize) for unscaled, per-tensor, per-channel, 1-D and 2-D block-scaled
 * formats, in rows and along columns. GEMMs split by rows of C, or by columns where C has few rows.
 * splitCalls() proves the work was actually split.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as Effect from "effect/Effect";
import { packageFiles } from "../../src/package/package-files.ts";
import { writePackage } from "../../src/package/write-package.ts";
import { TARGETS } from "../../src/targets/registry.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { builtin } from "../support/formats.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-threads-"));
const wasmOnly = TARGETS.filter((t) => t.name === "wasm" || t.name === "js");

// biome-ignore lint: a dynamically imported package
type Pkg = any;

async function load(name: string): Promise<{ one: Pkg; many: Pkg }> {
  const { files, manifest } = await packageFiles(builtin(name), wasmOnly);
  const dir = Effect.runSync(writePackage(join(root, name), files, manifest, false));
  const one = await import(pathToFileURL(join(dir, "index.js")).href);
  const many = await one.createKernels({ threads: 3 });
  return { one, many };
}

/** Values over many binades with NaN, ±Inf, ±0 and subnormals sprinkled in. */
function tensor(n: number, seed: number): Float32Array {
  const x = Float32Array.from({ length: n }, (_, i) => ((counterRandom(seed, i) / 2 ** 32) * 2 - 1) * 2 ** ((counterRandom(seed + 1, i) % 40) - 20));
  const edges = [Number.NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-39, 3.4e38];
  for (let i = 0; i < n; i += 997) x[i] = edges[(i / 997) % edges.length]!;
  return x;
}
const bits = (x: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

const opened: Pkg[] = [];
afterAll(async () => {
  for (const k of opened) await k.close();
});

describe("threaded package GEMM", () => {
  // 200 rows of C: split by rows; 40 rows (under two row blocks) and 523 columns: split by columns, the last part ragged.
  for (const [name, [m, n, k], by] of [
    ["fp32", [200, 72, 96], "rows"],
    ["e4m3", [200, 72, 96], "rows"],
    ["mxfp8", [200, 72, 96], "rows"],
    ["shiftquant8", [200, 72, 96], "rows"],
    ["fp32", [40, 523, 96], "columns"],
    ["e4m3", [40, 523, 96], "columns"],
    ["mxfp8", [40, 523, 96], "columns"],
  ] as const) {
    it(`${name} ${m}×${k}×${n}: every operand kind and transposition equals one thread bit for bit, split by ${by} of C`, async () => {
      const { one, many } = await load(name);
      opened.push(many);
      expect(many.threads).toBe(3);
      expect(many.note).toBeNull();
      const a = tensor(m * k, 1);
      const b = tensor(k * n, 2);
      for (const v of [a, b]) for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) v[i] = 0.5;
      const qa = one.encode(a, undefined, { channels: m });
      const qb = one.encode(b, undefined, { channels: k });
      const operands = [
        { a, b },
        { a: qa.codes, metaA: qa.meta, b },
        { a, b: qb.codes, metaB: qb.meta },
        { a: qa.codes, metaA: qa.meta, b: qb.codes, metaB: qb.meta },
      ];
      for (const [index, operand] of operands.entries()) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const beta of [-0.5, 0]) {
              const expected = new Float32Array(m * n).fill(0.25);
              const got = new Float32Array(m * n).fill(0.25);
              const call = { ...operand, m, n, k, transA, transB, alpha: 1.5, beta };
              one.gemm({ ...call, c: expected });
              const before = many.splitCalls();
              many.gemm({ ...call, c: got });
              const what = `${Object.keys(operand).join(",")} transA=${transA} transB=${transB} beta=${beta}`;
              expect(bits(got).equals(bits(expected)), what).toBe(true);
              expect(expected.some((x) => x !== 0.25)).toBe(true);
              // float32 A and B always split (code operands with per-lane metadata may stay on one thread).
              if (index === 0) expect(many.splitCalls(), what).toBe(before + 1);
            }
          }
        }
      }
    });
  }

  it("prepareB: the handle gives the same C as passing B, one thread or several, and is refused after release", async () => {
    const { one, many } = await load("e4m3");
    opened.push(many);
    const [m, n, k] = [256, 96, 80];
    const a = tensor(m * k, 3).map((x) => (Number.isFinite(x) ? x : 1));
    const b = tensor(n * k, 4).map((x) => (Number.isFinite(x) ? x : 1));
    const q = one.encode(b);
    for (const kernels of [one, many]) {
      for (const operand of [{ b }, { b: q.codes, metaB: q.meta }]) {
        const expected = new Float32Array(m * n);
        one.gemm({ a, ...operand, c: expected, m, n, k, transB: true });
        // B is kept as it was at prepareB (a resident snapshot, not copied again per call): changing the array afterwards changes nothing.
        const mine = operand.b.slice();
        const prepared = kernels.prepareB(mine, { k, n, transB: true, meta: operand.metaB });
        mine.fill(0);
        for (let repeat = 0; repeat < 2; repeat++) {
          const got = new Float32Array(m * n);
          kernels.gemm({ a, b: prepared, c: got, m, n, k });
          expect(bits(got).equals(bits(expected))).toBe(true);
        }
        expect(() => kernels.gemm({ a, b: prepared, c: new Float32Array(m * n), m, n: n - 1, k })).toThrow(/prepared for k = 80, n = 96/);
        expect(() => kernels.gemm({ a, b: prepared, c: new Float32Array(m * n), m, n, k, transB: false })).toThrow(/transB/);
        prepared.release();
        expect(() => kernels.gemm({ a, b: prepared, c: new Float32Array(m * n), m, n, k })).toThrow(/released/);
      }
    }
    expect(() => one.prepareB(b, { k, n, tranzB: true })).toThrow(/unknown option "tranzB"/);
    expect(() => one.prepareB(b, { k: k + 1, n })).toThrow(/k·n/);
  });
});

describe("threaded package element kernels", () => {
  const layouts = [
    { what: "one row", n: 100_003, options: {} },
    { what: "rows", n: 96 * 1024, options: { shape: [48, 2048] } },
    { what: "rows, blocks down columns", n: 256 * 512, options: { shape: [256, 512], blockAxis: 0 } },
  ];
  for (const name of ["e4m3", "int8", "mxfp8", "nvfp4", "s2fp8", "shiftquant4", "fp8-block128x128"]) {
    it(`${name}: encode, decode and fakeQuantize equal one thread bit for bit`, async () => {
      const { one, many } = await load(name);
      opened.push(many);
      const before = many.splitCalls();
      for (const { what, n, options } of layouts) {
        const x = tensor(n, n);
        const e1 = one.encode(x, undefined, options);
        const e2 = many.encode(x, undefined, options);
        expect(bits(e2.codes).equals(bits(e1.codes)), `${what}: codes`).toBe(true);
        for (const key of Object.keys(e1.meta.buffers)) expect(bits(e2.meta.buffers[key]).equals(bits(e1.meta.buffers[key])), `${what}: meta ${key}`).toBe(true);
        expect(bits(many.decode(e1.codes, e1.meta)).equals(bits(one.decode(e1.codes, e1.meta))), `${what}: decode`).toBe(true);
        const f1 = one.fakeQuantize(x, undefined, undefined, options);
        const f2 = many.fakeQuantize(x, undefined, undefined, options);
        expect(bits(f2.values).equals(bits(f1.values)), `${what}: fakeQuantize`).toBe(true);
      }
      expect(many.splitCalls()).toBeGreaterThan(before);
    });
  }

  it("threads: 1 and the js target run on one thread; bad options are refused with what is allowed", async () => {
    const { one } = await load("e5m2");
    const single = await one.createKernels({ threads: 1 });
    expect(single.threads).toBe(1);
    expect(single.note).toBeNull();
    await expect(one.createKernels({ threads: 0 })).rejects.toThrow(/threads must be an integer in \[1, 256\]/);
    await expect(one.createKernels({ thread: 2 })).rejects.toThrow(/unknown option "thread"/);
  });
});
