/**
 * Shared pieces of the declared-accumulator tests: the accumulators tested (format × Kahan ×
 * promotion), GEMM problems with operands that stress the sum (wide exponent spread, cancellation,
 * bf16-quantized values), and a bit comparison that treats every NaN as one value.
 */
import { Effect } from "effect";
import { createRegistry, loadFormat } from "../../src/dsl/registry.ts";
import { resolveFormat } from "../../src/dsl/resolve.ts";
import { validateSpec } from "../../src/dsl/validate.ts";
import type { AccumulateGemm, Accumulator } from "../../src/dsl/semantics/accumulate.ts";
import { builtin } from "../support/formats.ts";
import { generator, normal } from "../codegen/gemm-support.ts";

export const ACC14 = loadFormat("recipes/formats/acc14.json");

/**
 * The widest accumulator a spec may declare: 8 exponent and 21 mantissa bits (two fewer than
 * float32). Its sums keep float32's last-but-two bit, so a round-to-odd sum one or two steps off
 * shows in its result where narrower formats round the difference away.
 */
export const ACC22 = Effect.runSync(
  Effect.flatMap(
    validateSpec(
      { name: "acc22", summary: "22 significant bits (8 exponent, 21 mantissa)", element: { kind: "float", exponentBits: 8, mantissaBits: 21, bias: 127, infinity: true, nan: "ieee", negativeZero: true, subnormals: true }, rounding: "nearest-even", overflow: "infinity", scaling: { kind: "none" } },
      "test",
    ),
    (spec) => resolveFormat(spec, "test", createRegistry().get),
  ),
);

/** Accumulator formats: fp32, bf16, fp16, the declared 14-bit one, and e5m2 (saturating steps, overflow to ∞). */
export const ACCUMULATOR_FORMATS = [builtin("fp32"), builtin("bf16"), builtin("fp16"), ACC14, builtin("e5m2")];

/** Every format × {plain, Kahan} × {no promotion, every 4 products}. */
export function accumulators(): Accumulator[] {
  const out: Accumulator[] = [];
  for (const format of ACCUMULATOR_FORMATS)
    for (const compensated of [false, true]) for (const promoteEvery of [null, 4]) out.push({ format, compensated, promoteEvery });
  return out;
}

export const accumulatorLabel = (acc: Accumulator) => `${acc.format.name}${acc.compensated ? " kahan" : ""}${acc.promoteEvery === null ? "" : ` promote ${acc.promoteEvery}`}`;

/** A GEMM of the definition's shape (AccumulateGemm) on float32 operands, as the kernels take them. */
export interface Problem extends AccumulateGemm {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly c: Float32Array;
}

/** How operands are drawn: "spread" (normal × 2^[−12, 12], sums that lose bits at every alignment), "bf16" (normal values rounded to bf16). */
export type Draw = "spread" | "bf16";

function operand(length: number, random: () => number, draw: Draw): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v = normal(random);
    out[i] = draw === "spread" ? v * 2 ** Math.floor(random() * 25 - 12) : bf16Round(v);
  }
  return out;
}

/** float32 → bfloat16 value, nearest even (finite inputs). */
function bf16Round(v: number): number {
  const bits = new Uint32Array(Float32Array.of(v).buffer)[0];
  const rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  return new Float32Array(Uint32Array.of(rounded >>> 0).buffer)[0];
}

/** Problems: shapes with ragged tiles and a k past several promotions, all transposes, α/β with β = 0 (C holds NaN: must not be read). */
export function problems(seed: number, draw: Draw): Problem[] {
  const random = generator(seed);
  const shapes: [number, number, number][] = [[1, 1, 1], [5, 9, 23], [9, 6, 40]];
  const out: Problem[] = [];
  for (const [m, n, k] of shapes)
    for (const [transA, transB] of [[false, false], [true, true], [false, true], [true, false]] as const)
      for (const [alpha, beta] of [[1, 0], [0.5, 2]] as const) {
        const c = new Float32Array(m * n);
        for (let i = 0; i < c.length; i++) c[i] = beta === 0 ? Number.NaN : normal(random);
        out.push({ m, n, k, transA, transB, alpha, beta, a: operand(m * k, random, draw), b: operand(k * n, random, draw), c });
      }
  return out;
}

export const describeProblem = (p: Problem) => `${p.m}×${p.n}×${p.k} trans(${+p.transA},${+p.transB}) α=${p.alpha} β=${p.beta}`;

/** The float32 bits of each element, every NaN as 0x7fc00000 (NaN signs and payloads from arithmetic are unspecified). */
export function canonicalBits(c: Float32Array): number[] {
  const bits = new Uint32Array(c.buffer, c.byteOffset, c.length);
  return Array.from(c, (v, i) => (Number.isNaN(v) ? 0x7fc00000 : bits[i]));
}
