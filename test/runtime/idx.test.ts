import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { IdxError, parseIdx, readIdxFile } from "../../src/runtime/data/idx.ts";
import { loadMnist, loadMnistIdx } from "../../src/runtime/data/mnist.ts";
import { MNIST_MEAN, MNIST_STD } from "../../src/runtime/data/normalize.ts";

const dir = mkdtempSync(join(tmpdir(), "numforge-idx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX file of unsigned bytes with the given dimensions. */
function idxBytes(dims: number[], data: number[], type = 0x08): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  const view = new DataView(head.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe("IDX reader", () => {
  it("reads dims and bytes, plain and gzipped", () => {
    const bytes = idxBytes([2, 3], [0, 1, 2, 253, 254, 255]);
    const plain = readIdxFile(write("ok-idx2-ubyte", bytes));
    expect(plain.dims).toEqual([2, 3]);
    expect(Array.from(plain.data)).toEqual([0, 1, 2, 253, 254, 255]);
    const gz = readIdxFile(write("ok-idx2-ubyte.gz", gzipSync(bytes)));
    expect(gz.dims).toEqual([2, 3]);
    expect(Array.from(gz.data)).toEqual(Array.from(plain.data));
  });

  it("a truncated file gives an IdxError naming the file and the shortfall", () => {
    const full = idxBytes([4, 2, 2], Array.from({ length: 16 }, (_, i) => i));
    const file = write("short-idx3-ubyte", full.subarray(0, full.length - 5));
    expect(() => readIdxFile(file)).toThrow(IdxError);
    expect(() => readIdxFile(file)).toThrow(`${file}: truncated: dimensions [4, 2, 2] need 16 data bytes, file has 11`);
    const header = write("header-idx3-ubyte", full.subarray(0, 9));
    expect(() => readIdxFile(header)).toThrow(new RegExp(`^${header.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: truncated: header declares 3 dimensions`));
    const gzTrunc = write("trunc-idx3-ubyte.gz", gzipSync(full).subarray(0, 20));
    expect(() => readIdxFile(gzTrunc)).toThrow(`${gzTrunc}: corrupt gzip data`);
  });

  it("malformed files: bad magic, unsupported type, trailing bytes, missing file", () => {
    const txt = write("notidx", new TextEncoder().encode("hello world"));
    expect(() => readIdxFile(txt)).toThrow(`${txt}: not an IDX file: magic number starts with 0x6865, expected 0x0000`);
    expect(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d), "f.idx")).toThrow("f.idx: element type 0x0d (float32) is not supported");
    expect(() => parseIdx(idxBytes([2], [1, 2, 3]), "g.idx")).toThrow("g.idx: malformed: 1 bytes after the 2 data bytes");
    expect(() => parseIdx(new Uint8Array([0, 0]), "h.idx")).toThrow("h.idx: truncated: 2 bytes");
    const missing = join(dir, "nope-idx1-ubyte");
    expect(() => readIdxFile(missing)).toThrow(`${missing}: cannot read: ENOENT`);
  });
});

describe("MNIST from an IDX directory", () => {
  const sub = join(dir, "mnist");
  const pixels = (n: number) => Array.from({ length: n * 784 }, (_, i) => i % 256);
  function writeSet(prefix: string, n: number, labels: number[], gz: boolean) {
    const img = idxBytes([n, 28, 28], pixels(n));
    const lab = idxBytes([n], labels);
    writeFileSync(join(sub, `${prefix}-images-idx3-ubyte${gz ? ".gz" : ""}`), gz ? gzipSync(img) : img);
    writeFileSync(join(sub, `${prefix}-labels-idx1-ubyte${gz ? ".gz" : ""}`), gz ? gzipSync(lab) : lab);
  }

  it("loads train-* and t10k-* (plain or .gz) and normalizes pixels", async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(sub, { recursive: true });
    writeSet("train", 3, [0, 9, 4], false);
    writeSet("t10k", 2, [7, 1], true);
    const { train, test } = loadMnist({ dataDir: sub });
    expect(train.count).toBe(3);
    expect(test.count).toBe(2);
    expect(Array.from(train.labels)).toEqual([0, 9, 4]);
    expect(Array.from(test.labels)).toEqual([7, 1]);
    expect(train.sampleShape).toEqual([1, 28, 28]);
    expect(train.images[255]).toBeCloseTo((1 - MNIST_MEAN) / MNIST_STD, 6);
    expect(train.images[0]).toBeCloseTo(-MNIST_MEAN / MNIST_STD, 6);
  });

  it("reports a label count mismatch, a bad label and a missing file by name", () => {
    writeFileSync(join(sub, "train-labels-idx1-ubyte"), idxBytes([2], [1, 2]));
    expect(() => loadMnistIdx(sub)).toThrow(/train-labels-idx1-ubyte: 2 labels for 3 images/);
    writeFileSync(join(sub, "train-labels-idx1-ubyte"), idxBytes([3], [1, 12, 2]));
    expect(() => loadMnistIdx(sub)).toThrow(/train-labels-idx1-ubyte: label 12 at index 1 is not a digit/);
    const empty = join(dir, "empty");
    expect(() => loadMnistIdx(empty)).toThrow(/empty\/train-images-idx3-ubyte: not found/);
  });
});
