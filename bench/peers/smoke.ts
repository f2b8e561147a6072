/**
 * Smoke run of the peer benchmarks: every function once at one size, printing the figure, the
 * variants and the verification. `npx tsx bench/peers/smoke.ts [matmul size] [log2 elements]`
 * (defaults 256 and 20).
 */
import { machineLine } from "../measure.ts";
import type { PeerFigure } from "./common.ts";
import * as ortWeb from "./onnxruntime-web.ts";
import * as tfjsWasm from "./tfjs-wasm.ts";

const size = Number(process.argv[2] ?? 256);
const elements = 2 ** Number(process.argv[3] ?? 20);

/** Deterministic values in [−1, 1) (mulberry32), the same for every contender. */
function uniform(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

function format(value: number, unit: PeerFigure["unit"]): string {
  return unit === "elements/s" ? `${(value / 1e6).toFixed(1)} M elements/s` : `${value.toFixed(2)} ${unit}`;
}

function print(f: PeerFigure): void {
  console.log(`\n${f.label}\n  ${format(f.value, f.unit)}  (${(f.seconds * 1e3).toFixed(3)} ms per run)`);
  for (const [name, v] of Object.entries(f.variants ?? {})) console.log(`  ${name}: ${format(v, f.unit)}`);
  console.log(`  check: ${f.check}`);
  for (const n of f.notes ?? []) console.log(`  note: ${n}`);
}

async function attempt(name: string, f: () => Promise<PeerFigure>): Promise<void> {
  try {
    print(await f());
  } catch (e) {
    process.exitCode = 1;
    console.log(`\n${name}: FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
}

console.log(machineLine());
const started = performance.now();

const a = uniform(size * size, 1);
const b = uniform(size * size, 2);
const aU8 = Uint8Array.from(uniform(size * size, 3), (v) => Math.floor((v + 1) * 128));
const bS8 = Int8Array.from(uniform(size * size, 4), (v) => Math.floor(v * 128));
const x = uniform(elements, 7).map((v) => v * 300); // spans e4m3fn's range and past it (saturation)
x.set([1.5, 448, 500, Number.NaN, -1.5, 0.3, 65504, 1e6, -Infinity, 2 ** -10]);

const info = await tfjsWasm.initTfjsWasm();
console.log(`tfjs-wasm ${info.version}: backend ${info.backend}, threads ${info.threads}, SIMD ${info.simd}, multithread binary ${info.multithreadBinary}`);
await attempt("tfjs-wasm matMul", () => tfjsWasm.matmulGflops(a, b, size, size, size));

console.log(`\nonnxruntime-web ${ortWeb.initOrt()}`);
await attempt("ORT MatMul", () => ortWeb.matmulGflops(a, b, size, size, size));
await attempt("ORT MatMulInteger", () => ortWeb.matmulIntegerGops(aU8, bS8, size, size, size));
const f8 = await ortWeb.float8Support();
console.log(`\nFLOAT8E4M3FN output supported: ${f8.supported}: ${f8.reason}`);
await attempt("ORT Cast f32 → e4m3fn or f16", () => ortWeb.castFloat8E4M3OrFloat16(x));
await attempt("ORT Cast f32 → e4m3fn → f32", () => ortWeb.castFloat8E4M3RoundTripElementsPerSec(x));
await attempt("ORT QuantizeLinear", () => ortWeb.quantizeLinearElementsPerSec(x, 300 / 127, 0));

console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s (${machineLine()})`);
