/**
 * Throughput of the JS element kernels (encode_elements, decode_elements) next to
 * Float32Array.prototype.set of the same length: the cost of a format conversion relative to a
 * plain copy.
 */
import { lowerDecodeElements, lowerEncodeElements } from "../src/codegen/lower/elementwise.ts";
import { loadJs } from "../src/targets/js/load.ts";
import { format, uniform } from "./formats.ts";
import { measure } from "./measure.ts";
import { fixed, times, type Table } from "./table.ts";

const LENGTH = 1 << 20;
const FORMATS = ["e4m3", "int8", "bf16"];

function codesFor(bits: number, length: number): Uint8Array | Uint16Array | Uint32Array {
  return bits <= 8 ? new Uint8Array(length) : bits <= 16 ? new Uint16Array(length) : new Uint32Array(length);
}

export function elementwiseSection(): Table {
  const x = uniform(LENGTH, 7);
  for (let i = 0; i < LENGTH; i++) x[i] *= 300; // spans the 8-bit formats' ranges
  const copy = new Float32Array(LENGTH);
  const rows: string[][] = [];
  for (const name of FORMATS) {
    const f = format(name);
    const kernels = loadJs({ kernels: [lowerEncodeElements(f), lowerDecodeElements(f)] });
    const codes = codesFor(f.bits, LENGTH);
    const out = new Float32Array(LENGTH);
    const t = measure([
      { name: "set", run: () => copy.set(x) },
      { name: "encode", run: () => kernels.encode_elements(x, codes, LENGTH, 1) },
      { name: "decode", run: () => kernels.decode_elements(codes, out, LENGTH) },
    ]);
    const rate = (key: string) => LENGTH / (t.get(key) ?? Number.NaN) / 1e6;
    rows.push([name, fixed(rate("encode"), 1), fixed(rate("decode"), 1), fixed(rate("set"), 1), times(rate("encode") / rate("set")), times(rate("decode") / rate("set"))]);
  }
  return {
    title: `JS element kernels, ${LENGTH} elements (M elements/s, median of 5 after warm-up)`,
    header: ["format", "encode", "decode", "f32 set", "encode/set", "decode/set"],
    rows,
  };
}
