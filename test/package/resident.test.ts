/**
 * Resident arrays of a kernel package (`resident(array)`): encode, decode and fakeQuantize take
 * them as inputs and outputs, use them where they lie, and give exactly the results of the same
 * calls on plain arrays — on the package root (one thread, a memory that may grow and move), on
 * 3 threads (shared memory, the work split) and on the JS target; mixed with plain arrays; after write(); with
 * delayed-scaling state. Misuse is refused with a message that names the argument.
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as Effect from "effect/Effect";
import { packageFiles } from "../../src/package/package-files.ts";
import { writePackage } from "../../src/package/write-package.ts";
import { TARGETS } from "../../src/targets/registry.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { builtin, e4m3AmaxVariants } from "../support/formats.ts";
import { planTensor } from "../support/inputs.ts";

const root = mkdtempSync(join(tmpdir(), "numforge-resident-"));

// biome-ignore lint: a dynamically imported package
type Pkg = any;

async function load(name: string | ResolvedFormat, targets: readonly string[]): Promise<Pkg> {
  const format = typeof name === "string" ? builtin(name) : name;
  const { files, manifest } = await packageFiles(format, TARGETS.filter((t) => targets.includes(t.name)));
  const dir = Effect.runSync(writePackage(join(root, `${format.name}-${targets.join("-")}`), files, manifest, false));
  return import(pathToFileURL(join(dir, "index.js")).href);
}

const bytes = (x: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
/** Where two arrays' bytes first differ ("same" when they do not): a deep equality of 10^5 elements is slow. */
const firstDifference = (a: ArrayBufferView, b: ArrayBufferView) => {
  if (a.byteLength !== b.byteLength) return `lengths ${a.byteLength} and ${b.byteLength} bytes`;
  if (bytes(a).equals(bytes(b))) return "same";
  const [x, y] = [bytes(a), bytes(b)];
  const at = x.findIndex((v, i) => v !== y[i]);
  return `byte ${at}: ${x[at]} vs ${y[at]}`;
};

const closing: Pkg[] = [];
afterAll(async () => {
  for (const k of closing) await k.close();
});

/** Every element call on resident arrays equals the plain call on `k`, bit for bit. */
function checkResident(k: Pkg, n: number, options: object): void {
  const x = planTensor(n, n);
  const plain = k.encode(x, undefined, options);
  const rx = k.resident(x);
  const rCodes = k.resident(new plain.codes.constructor(n));
  const enc = k.encode(rx, rCodes, options);
  expect(enc.codes).toBe(rCodes);
  expect(firstDifference(rCodes.read(), plain.codes)).toBe("same");
  expect(JSON.stringify(enc.meta, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v))).toBe(
    JSON.stringify(plain.meta, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v)),
  );
  // Mixed: a resident input with a plain output, and the other way round.
  expect(firstDifference(k.encode(rx, undefined, options).codes, plain.codes)).toBe("same");
  const rOut = k.resident(new Float32Array(n));
  expect(firstDifference(k.decode(rCodes, plain.meta, rOut).read(), k.decode(plain.codes, plain.meta))).toBe("same");
  expect(firstDifference(k.decode(plain.codes, plain.meta, rOut).read(), k.decode(plain.codes, plain.meta))).toBe("same");
  const fake = k.fakeQuantize(x, undefined, undefined, options);
  expect(firstDifference(k.fakeQuantize(rx, rOut, undefined, options).values.read(), fake.values)).toBe("same");
  // New contents written in: the next call sees them.
  const y = planTensor(n, n + 7);
  rx.write(y);
  expect(firstDifference(k.fakeQuantize(rx, rOut, undefined, options).values.read(), k.fakeQuantize(y, undefined, undefined, options).values)).toBe("same");
  for (const r of [rx, rCodes, rOut]) r.release();
}

describe("resident arrays", () => {
  for (const name of ["e4m3", "int8", "mxfp8", "nvfp4", "s2fp8", "shiftquant4"]) {
    it(`${name}: equal to plain arrays on the package root and on 3 threads`, async () => {
      const one = await load(name, ["wasm", "js"]);
      const many = await one.createKernels({ threads: 3 });
      closing.push(many);
      checkResident(one, 1000, {});
      // 2^17 elements in 64 rows: enough for the threads to split (32,768 elements per part at least).
      for (const k of [one, many]) checkResident(k, 64 * 2048, { shape: [64, 2048] });
      expect(many.splitCalls()).toBeGreaterThan(0);
    });
  }

  for (const name of ["e4m3", "mxfp8"]) {
    it(`${name}: equal to plain arrays on the JS target (the handle keeps its own copy)`, async () => {
      const js = await load(name, ["js"]);
      expect(js.target).toBe("js");
      checkResident(js, 1000, { shape: [10, 100] });
    });
  }

  it("a resident array stays valid when the memory grows under it", async () => {
    const k = await load("e4m3", ["wasm", "js"]);
    const x = planTensor(257, 3);
    const rx = k.resident(x);
    // A call much larger than the memory so far: the memory grows (a non-shared memory's buffer is replaced).
    k.encode(planTensor(6_000_000, 4));
    expect(firstDifference(k.encode(rx).codes, k.encode(x).codes)).toBe("same");
    expect(firstDifference(rx.read(), x)).toBe("same");
    rx.release();
  });

  it("delayed-scaling state carries over calls on resident arrays", async () => {
    const delayed = e4m3AmaxVariants().find((f) => f.scaling.kind === "amax" && f.scaling.granularity === "tensor" && f.scaling.history.mode === "delayed");
    const k = await load(delayed!, ["wasm", "js"]);
    const [a, b] = [planTensor(4096, 1), planTensor(4096, 2)];
    const first = k.fakeQuantize(a);
    const second = k.fakeQuantize(b, undefined, first.state);
    const ra = k.resident(a);
    const rb = k.resident(b);
    const out = k.resident(new Float32Array(4096));
    const r1 = k.fakeQuantize(ra, out);
    expect(firstDifference(out.read(), first.values)).toBe("same");
    k.fakeQuantize(rb, out, r1.state);
    expect(firstDifference(out.read(), second.values)).toBe("same");
  });

  it("refuses misuse, naming the argument", async () => {
    const one = await load("e4m3", ["wasm", "js"]);
    const many = await one.createKernels({ threads: 2 });
    closing.push(many);
    const x = one.resident(planTensor(64, 5));
    expect(() => one.fakeQuantize(x, x)).toThrow(/fakeQuantize: the same resident array is both the input and the output/);
    expect(() => many.encode(x)).toThrow(/encode: a resident array belongs to the kernels that made it/);
    const codes = one.resident(new Uint8Array(64));
    expect(() => one.encode(codes)).toThrow(/encode: x must hold a Float32Array \(got a resident Uint8Array\)/);
    expect(() => one.encode(x, one.resident(new Uint8Array(63)))).toThrow(/encode: out holds 63 elements; 64 are needed/);
    expect(() => x.write(new Float32Array(3))).toThrow(/write: array holds 3 elements; the resident array holds 64/);
    expect(() => one.resident([1, 2])).toThrow(/resident: takes a Float32Array or a Uint8Array of e4m3 codes \(got Array\)/);
    expect(() => one.gemm({ a: x, b: new Float32Array(64), c: new Float32Array(64), m: 8, n: 8, k: 8 })).toThrow(/gemm: a must be a Float32Array or a Uint8Array/);
    x.release();
    x.release();
    expect(() => one.encode(x)).toThrow(/encode: x was released/);
    expect(() => x.read()).toThrow(/read: the resident array was released/);
  });
});
