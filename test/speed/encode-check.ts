/**
 * What the fast element encode tests share: the inputs (float32 specials, every edge of a format,
 * random bit patterns), the comparison with the semantics, an encode through the JS and wasm
 * targets' encode_elements kernel, and built-ins checked on every target.
 */
import { readFileSync } from "node:fs";
import { lowerEncodeElements } from "../../src/codegen/lower/elementwise.ts";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { decodeF32Bits, encode } from "../../src/dsl/semantics/scalar.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import type { WasmAssembler } from "../../src/targets/wasm/assemble.ts";
import { compileWasmWith, instantiateWasm } from "../../src/targets/wasm/load.ts";
import { encodeInputs } from "../fuzz/inputs.ts";
import { TARGETS, type FuzzTargets } from "../fuzz/targets.ts";
import { builtin } from "../support/formats.ts";
import { edgeInputs, randomBitPatterns } from "../support/inputs.ts";

const schema = JSON.parse(readFileSync(new URL("../../formats/format.schema.json", import.meta.url), "utf8"));
/** The deterministic rounding modes and the overflow policies the format schema lists. */
export const MODES: readonly string[] = schema.properties.rounding.oneOf.find((o: { enum?: string[] }) => o.enum !== undefined).enum;
export const OVERFLOWS: readonly string[] = schema.properties.overflow.enum;

const F32_SPECIALS = Uint32Array.of(
  0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff, 0x00000000, 0x80000000, 0x7f800000, 0xff800000,
  0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x3f800000, 0xbf800000,
  // Exact values in the binades where bf16's two-step scaling applies (a reported toward-negative mismatch).
  0x81c00000, 0x01c00000, 0x80c00001, 0x00c00001,
);
const specials = () => new Float32Array(F32_SPECIALS.buffer.slice(0));

/**
 * Specials, random bit patterns and the format's edges: all of them (edgeInputs: every value, tie
 * and ulp neighbour), or `pairs` sampled neighbour pairs with both ends of the range (the fuzz
 * harness's encodeInputs) where a 16-bit format's 600 000 edges are too many to repeat per mode.
 */
export function inputs(format: ResolvedFormat, random: number, seed: number, pairs: number | "all" = "all"): Float32Array {
  const table = Uint32Array.from({ length: 2 ** Math.min(format.bits, 16) }, (_, c) => decodeF32Bits(format, c));
  const edges = pairs === "all" ? edgeInputs(format) : encodeInputs(format, seed, { random: 0, pairs, codes: 0 }, table);
  const parts = [specials(), edges, randomBitPatterns(random, seed)];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** The first element where `got` differs from the semantics, as one line, or null. */
export function mismatch(format: ResolvedFormat, x: Float32Array, got: ArrayLike<number>): string | null {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  let bad = 0;
  let first = -1;
  let want = 0;
  for (let i = 0; i < x.length; i++) {
    const w = encode(format, x[i]);
    if (got[i] !== w) {
      if (first < 0) [first, want] = [i, w];
      bad++;
    }
  }
  return first < 0 ? null : `${bad} of ${x.length} differ; first x = 0x${bits[first].toString(16)} (${x[first]}) → ${got[first]}, want ${want}`;
}

/** Encodes x with the format's encode_elements kernel on JS and on wasm (SIMD). */
export function encodeJsWasm(assembler: WasmAssembler, format: ResolvedFormat, x: Float32Array): Record<"js" | "wasm", ArrayLike<number>> {
  const kernel = lowerEncodeElements(format);
  const out = () => (format.bits <= 8 ? new Uint8Array(x.length) : format.bits <= 16 ? new Uint16Array(x.length) : new Uint32Array(x.length));
  const js = out();
  (loadJs({ kernels: [kernel] }) as Record<string, (...a: unknown[]) => void>).encode_elements(x, js, x.length, 0);
  const wasm = out();
  instantiateWasm(compileWasmWith(assembler, { kernels: [kernel] })).kernels.encode_elements(x, wasm, x.length, 0);
  return { js, wasm };
}

/** Where the encode on JS and on wasm (encodeJsWasm) differs from the semantics: [target, mismatch line] for each target that does. */
export function jsWasmMismatches(assembler: WasmAssembler, format: ResolvedFormat, x: Float32Array): [string, string][] {
  return Object.entries(encodeJsWasm(assembler, format, x)).flatMap(([target, got]): [string, string][] => {
    const m = mismatch(format, x, got);
    return m === null ? [] : [[target, m]];
  });
}


/**
 * Each built-in's encode plan on every target (JS, wasm, WGSL) against the semantics, on its edges,
 * specials and 10^5 random bit patterns (seeded `seed + index`): "name target: mismatch" per failure.
 */
export async function builtinMismatches(targets: FuzzTargets, names: readonly string[], seed: number): Promise<string[]> {
  const failures: string[] = [];
  for (const [k, name] of names.entries()) {
    const format = builtin(name);
    const x = inputs(format, 100_000, seed + k);
    const compiled = await targets.compile(format);
    for (const target of TARGETS) {
      const got = (await compiled.run[target](compiled.plans.encode, { x }, { seed: 0 })).outputs.codes;
      const m = mismatch(format, x, got);
      if (m !== null) failures.push(`${name} ${target}: ${m}`);
    }
  }
  return failures;
}
