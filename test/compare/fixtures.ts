/** Small MNIST fixtures for comparison tests: IDX files written from the mnist package's digits. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The package's digits as bytes (row-major 28×28) with labels, interleaved by class so any prefix is balanced. */
function packageDigits(): { pixels: Uint8Array[]; labels: number[] } {
  const dir = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");
  const perClass = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")) as { data: number[] }).data);
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = 0; ; i++) {
    let any = false;
    for (let d = 0; d < 10; d++) {
      const flat = perClass[d];
      if ((i + 1) * 784 > flat.length) continue;
      any = true;
      pixels.push(Uint8Array.from(flat.slice(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
      labels.push(d);
    }
    if (!any) break;
  }
  return { pixels, labels };
}

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, magic);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.byteLength + body.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(body, head.byteLength);
  return out;
}

/** Writes the train and t10k IDX files with `train` and `test` digits into `dir`. */
export function writeIdxFixture(dir: string, train: number, test: number): void {
  mkdirSync(dir, { recursive: true });
  const { pixels, labels } = packageDigits();
  const write = (prefix: string, from: number, count: number) => {
    const body = new Uint8Array(count * 784);
    for (let i = 0; i < count; i++) body.set(pixels[from + i], i * 784);
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idx(0x803, [count, 28, 28], body));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idx(0x801, [count], Uint8Array.from(labels.slice(from, from + count))));
  };
  write("train", 0, train);
  write("t10k", train, test);
}
