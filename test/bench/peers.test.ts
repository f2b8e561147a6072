/**
 * The peer benchmarks (bench/peers): their reference conversions, and each measuring function on
 * a tiny non-square problem (each verifies its result itself and throws on a mismatch).
 */
import { describe, expect, it } from "vitest";
import { E4M3FN_VALUES, e4m3fnCode, float16Bits, roundHalfEven } from "../../bench/peers/common.ts";
import * as ortWeb from "../../bench/peers/onnxruntime-web.ts";
import * as tfjsWasm from "../../bench/peers/tfjs-wasm.ts";

const QUICK = { runs: 5, warmupRuns: 1, warmupMs: 0 };

function values(length: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

describe("peer references", () => {
  it("rounds half to even", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, -3]);
  });

  it("float16Bits inverts the binary16 decoding of every finite code", () => {
    for (let code = 0; code < 0x10000; code++) {
      const exp = (code >> 10) & 0x1f;
      if (exp === 0x1f) continue;
      const man = code & 0x3ff;
      const magnitude = exp === 0 ? man * 2 ** -24 : (1 + man / 1024) * 2 ** (exp - 15);
      expect(float16Bits(code & 0x8000 ? -magnitude : magnitude)).toBe(code);
    }
    expect([65504, 65519, 65520, Infinity, Number.NaN, 2 ** -25, 3 * 2 ** -25].map(float16Bits)).toEqual([0x7bff, 0x7bff, 0x7c00, 0x7c00, 0x7e00, 0, 2]);
  });

  it("e4m3fnCode inverts E4M3FN_VALUES and saturates", () => {
    for (let code = 0; code < 256; code++) if ((code & 0x7f) !== 0x7f) expect(e4m3fnCode(E4M3FN_VALUES[code])).toBe(code);
    expect([1.5, 448, 500, Number.NaN, -Infinity, 0.3, 2 ** -10].map(e4m3fnCode)).toEqual([0x3c, 0x7e, 0x7e, 0x7f, 0xfe, 0x2a, 0]);
  });
});

describe("peer benchmarks on a tiny problem", () => {
  const [m, n, k] = [5, 7, 3];
  const a = values(m * k, 1);
  const b = values(k * n, 2);

  it("tfjs-wasm matMul", async () => {
    const f = await tfjsWasm.matmulGflops(a, b, m, n, k, QUICK);
    expect(f.value).toBeGreaterThan(0);
    expect((await tfjsWasm.initTfjsWasm()).threads).toBe(1);
  });

  it("onnxruntime-web MatMul and MatMulInteger", async () => {
    expect((await ortWeb.matmulGflops(a, b, m, n, k, QUICK)).value).toBeGreaterThan(0);
    const aU8 = Uint8Array.from(values(m * k, 3), (v) => (v + 1) * 127.9);
    const bS8 = Int8Array.from(values(k * n, 4), (v) => v * 127.9);
    expect((await ortWeb.matmulIntegerGops(aU8, bS8, m, n, k, QUICK)).value).toBeGreaterThan(0);
  });

  it("onnxruntime-web casts and QuantizeLinear", async () => {
    const x = values(1000, 5).map((v) => v * 600);
    x.set([1.5, 448, 500, Number.NaN, -Infinity]);
    const cast = await ortWeb.castFloat8E4M3OrFloat16(x, QUICK);
    expect(cast.label).toMatch(/FLOAT8E4M3FN|FLOAT16/);
    expect((await ortWeb.castFloat8E4M3RoundTripElementsPerSec(x, QUICK)).value).toBeGreaterThan(0);
    expect((await ortWeb.quantizeLinearElementsPerSec(x, 4.5, -3, QUICK)).value).toBeGreaterThan(0);
  });
});
