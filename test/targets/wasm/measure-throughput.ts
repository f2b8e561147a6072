/**
 * Encode/decode throughput (M elements/s) of the wasm target (SIMD and scalar; resident tensors
 * through the raw API and the copying convention) against the JS target, on 10^6 elements.
 * A measurement, not a test: `npx tsx test/targets/wasm/measure-throughput.ts [formats…]`.
 */
import { lowerDecodeElements, lowerEncodeElements } from "../../../src/codegen/lower/elementwise.ts";
import { codeArray } from "../../../src/dsl/semantics/codes.ts";
import { counterRandom } from "../../../src/dsl/semantics/random.ts";
import { loadJs } from "../../../src/targets/js/load.ts";
import { createWasmAssembler } from "../../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm, type WasmKernelSet } from "../../../src/targets/wasm/load.ts";
import { builtin } from "../../support/formats.ts";

const N = 1_000_000;
const RUNS = 15;

/** Median M elements/s of `run` over RUNS timed runs after 5 warm-up runs. */
function throughput(run: () => void): number {
  for (let k = 0; k < 5; k++) run();
  const times: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return N / (times[RUNS >> 1] * 1e3);
}

const assembler = await createWasmAssembler();
const x = Float32Array.from({ length: N }, (_, i) => (counterRandom(1, i) & 1 ? -1 : 1) * 2 ** ((counterRandom(2, i) / 2 ** 32 - 0.5) * 24));
const rows: string[] = [];
for (const name of process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["e4m3", "int8", "bf16"]) {
  const format = builtin(name);
  const module = { kernels: [lowerEncodeElements(format), lowerDecodeElements(format)] };
  const js = loadJs(module);
  const simd = instantiateWasm(compileWasmWith(assembler, module));
  const scalar = instantiateWasm(compileWasmWith(assembler, module, { vectorize: false }));
  const codes = codeArray(format.bits, N);
  const out = new Float32Array(N);
  js.encode_elements(x, codes, N, 0);

  const resident = (set: WasmKernelSet) => {
    const xAt = set.heap.copyIn(x);
    const codesAt = set.heap.copyIn(codes);
    const outAt = set.heap.alloc(4 * N);
    return {
      encode: throughput(() => set.raw.encode_elements(xAt, codesAt, N, 0)),
      decode: throughput(() => set.raw.decode_elements(codesAt, outAt, N)),
    };
  };
  const copying = (k: typeof js) => ({
    encode: throughput(() => k.encode_elements(x, codes, N, 0)),
    decode: throughput(() => k.decode_elements(codes, out, N)),
  });
  const results = { js: copying(js), simdResident: resident(simd), simdCopying: copying(simd.kernels), scalarResident: resident(scalar) };
  for (const op of ["encode", "decode"] as const) {
    const r = (v: { encode: number; decode: number }) => v[op].toFixed(0).padStart(8);
    rows.push(`| ${name.padEnd(5)} | ${op} | ${r(results.js)} | ${r(results.simdResident)} | ${r(results.simdCopying)} | ${r(results.scalarResident)} | ${(results.simdResident[op] / results.js[op]).toFixed(1).padStart(5)}× |`);
  }
}
console.log(`${N} elements, median of ${RUNS} runs, M elements/s (${process.version})\n`);
console.log("| format | op | JS target | wasm SIMD (resident) | wasm SIMD (copy in/out) | wasm scalar (resident) | SIMD / JS |");
console.log("|---|---|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
