/**
 * Declared GEMM accumulators: the exact definition every target's kernel is tested against.
 *
 * An accumulator is a float format the running sum is held in (fp32, bf16, fp16, or any declared
 * unscaled float whose values are all float32 numbers, e.g. 8 exponent and 13 mantissa bits, the
 * ~14 significant bits DeepSeek-V3 measured on FP8 tensor cores), optional promotion of the
 * partial sum into an fp32 accumulator every N products, and optional compensated (Kahan)
 * summation. For every output C[i, j], with the operands already quantized (float32 values):
 *
 *   p_t   = f32(a(i, t) · b(t, j))                      t = 0, 1, …, k − 1, ascending
 *   plain:  s ← acc(s + p_t)
 *   Kahan:  y ← acc(p_t − c);  u ← acc(s + y);  c ← acc(acc(u − s) − y);  s ← u
 *   promotion every N: after products t = N−1, 2N−1, …: F ← f32(F + s), s ← +0 (and c ← +0)
 *   v = f32(F + s) with promotion, else v = s
 *   C[i, j] ← f32(f32(α·v) + f32(β·C[i, j])), or f32(α·v) when β = 0 (C not read)
 *
 * s, c and F start at +0. acc(x + y) is the exact sum x + y rounded ONCE to the accumulator's
 * format with its own rounding and overflow (no intermediate float32 rounding); f32(·) rounds to
 * nearest even. Products of operands of ≤ 12 significant bits (bf16, fp16, fp8) are exact in
 * float32. α = 0 or k = 0: C ← β·C (0 where β = 0), as for every GEMM.
 *
 * A declared accumulator needs a defined order, so it is the whole depth in k order whatever the
 * target's blocking; the default (no declared accumulator: "fp32" in recipes) is the schedule's f32
 * or f64 accumulation of lower/gemm/gemm.ts, unchanged.
 *
 * How targets meet "rounded once" without wider arithmetic: x + y rounded to float32 with round-to-
 * odd (an inexact result takes the neighbour with an odd last bit) and then to the accumulator
 * format is the exact sum rounded once, because the format keeps at least 2 fewer significant
 * bits than float32 (Boldo & Melquiond 2008); kernels form the round-to-odd sum in integer
 * arithmetic, this file in float64 from the exact TwoSum error.
 */
import type { ResolvedFormat } from "../resolved.ts";
import { decodeF32Bits, encode } from "./scalar.ts";
import { fromF32Bits } from "./bits.ts";

/** A declared accumulator (see the module comment). */
export interface Accumulator {
  /** The format partial sums are rounded to (fp32 itself, or an unscaled float: checkAccumulator). */
  readonly format: ResolvedFormat;
  /** Promote into an fp32 accumulator after every this many products (null: never). */
  readonly promoteEvery: number | null;
  /** Compensated (Kahan) summation in the accumulator's format. */
  readonly compensated: boolean;
}

/** The most significant bits an accumulator format other than fp32 may keep (round-to-odd needs 2 spare float32 bits). */
export const MAX_ACCUMULATOR_MANTISSA_BITS = 21;
/** The smallest grid step an accumulator may have: 2 bits above float32's smallest subnormal 2^−149. */
const MIN_ACCUMULATOR_QUANTUM = 2 ** -147;
const MAX_F32 = 3.4028234663852886e38;

/** True for IEEE binary32 itself (rounded to nearest even, overflowing to infinity): its sums are plain float32 additions. */
export function isFloat32Accumulator(format: ResolvedFormat): boolean {
  const el = format.element;
  return (
    el.kind === "float" && el.signed && el.exponentBits === 8 && el.mantissaBits === 23 && el.bias === 127 && el.infinity && el.nan === "ieee" &&
    el.negativeZero && el.subnormals && format.scaling.kind === "none" && format.rounding.mode === "nearest-even" && format.overflow === "infinity"
  );
}

/** Why `format` cannot hold partial sums, or null when it can. */
export function accumulatorFormatProblem(format: ResolvedFormat): string | null {
  if (isFloat32Accumulator(format)) return null;
  const el = format.element;
  if (el.kind !== "float") return `is ${el.kind === "int" ? "an" : "a"} ${el.kind} format; an accumulator is a float format (the quire holds posit sums)`;
  if (format.scaling.kind !== "none") return `has tensor scaling "${format.scaling.kind}"; an accumulator has none`;
  if (!el.signed) return "is unsigned; partial sums need a sign";
  if (format.rounding.mode === "stochastic") return "rounds stochastically; an accumulator's rounding must be deterministic so every target agrees";
  if (el.mantissaBits > MAX_ACCUMULATOR_MANTISSA_BITS)
    return `keeps ${el.mantissaBits} mantissa bits; an accumulator other than fp32 keeps at most ${MAX_ACCUMULATOR_MANTISSA_BITS} (two fewer than float32, so a float32 round-to-odd sum rounds once)`;
  const quantum = 2 ** (el.minNormalExponent - el.mantissaBits);
  if (quantum < MIN_ACCUMULATOR_QUANTUM) return `has steps of 2^${el.minNormalExponent - el.mantissaBits} near zero; an accumulator's steps are at least 2^−147`;
  if (!(format.maxFinite <= MAX_F32)) return "has values beyond float32's range; an accumulator's values are all float32 numbers";
  return null;
}

/** Throws a RangeError saying what is wrong with an accumulator, else returns it. */
export function checkAccumulator(acc: Accumulator): Accumulator {
  const problem = accumulatorFormatProblem(acc.format);
  if (problem !== null) throw new RangeError(`accumulator ${acc.format.name} ${problem}`);
  if (acc.promoteEvery !== null && !(Number.isInteger(acc.promoteEvery) && acc.promoteEvery >= 1 && acc.promoteEvery <= 2 ** 20))
    throw new RangeError(`accumulator: promoteEvery must be an integer in [1, 2^20], got ${acc.promoteEvery}`);
  return acc;
}

const scratch = new Float64Array(1);
const scratchBits = new BigInt64Array(scratch.buffer);

/** x + y (float64 numbers) rounded to float64 with round-to-odd: exact, or the neighbour of the exact sum whose last bit is odd. */
export function addRoundToOdd(x: number, y: number): number {
  const s = x + y;
  if (!Number.isFinite(s)) return s;
  // Knuth's TwoSum: the exact error of the rounded sum.
  const bv = s - x;
  const e = x - (s - bv) + (y - bv);
  if (e === 0) return s;
  scratch[0] = s;
  if ((scratchBits[0] & 1n) === 1n) return s;
  // s is even and inexact: the exact sum lies between s and its neighbour toward e, which is odd.
  scratchBits[0] += (e > 0) === (s > 0) ? 1n : -1n;
  return scratch[0];
}

/** f32(x + y), rounded once (x, y float32 values or any doubles). */
export function addF32(x: number, y: number): number {
  return Math.fround(addRoundToOdd(x, y));
}

/** acc(x + y): the exact sum of two float32 values rounded once to the accumulator's format (as a float32 value). */
export function accumulatorAdd(format: ResolvedFormat, x: number, y: number): number {
  if (isFloat32Accumulator(format)) return addF32(x, y);
  // Round-to-odd at 53 bits keeps what rounding to ≤ 22 significant bits needs; encode rounds the double once.
  return fromF32Bits(decodeF32Bits(format, encode(format, addRoundToOdd(x, y))));
}

/** v of one output: the declared accumulation of the products p(0), …, p(k − 1) (float32 values), in that order. */
export function accumulateProducts(acc: Accumulator, k: number, product: (t: number) => number): number {
  const add = (x: number, y: number) => accumulatorAdd(acc.format, x, y);
  let s = 0;
  let c = 0;
  let total = 0;
  for (let t = 0; t < k; t++) {
    const p = product(t);
    if (acc.compensated) {
      const y = add(p, -c);
      const u = add(s, y);
      c = add(add(u, -s), -y);
      s = u;
    } else s = add(s, p);
    if (acc.promoteEvery !== null && (t + 1) % acc.promoteEvery === 0) {
      total = addF32(total, s);
      s = 0;
      c = 0;
    }
  }
  return acc.promoteEvery === null ? s : addF32(total, s);
}

/** The operands and scalars of one GEMM C ← α·op(A)·op(B) + β·C (row-major, float32 values). */
export interface AccumulateGemm {
  readonly a: ArrayLike<number>;
  readonly b: ArrayLike<number>;
  readonly c: ArrayLike<number>;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly alpha: number;
  readonly beta: number;
}

/** The GEMM under a declared accumulator, exactly as the module comment defines it: the new C. */
export function gemmAccumulate(acc: Accumulator, g: AccumulateGemm): Float32Array {
  checkAccumulator(acc);
  const { m, n, k, alpha, beta } = g;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const at = i * n + j;
      if (alpha === 0 || k <= 0) {
        out[at] = beta === 0 ? 0 : Math.fround(beta * g.c[at]);
        continue;
      }
      const a = (t: number) => g.a[g.transA ? t * m + i : i * k + t];
      const b = (t: number) => g.b[g.transB ? j * k + t : t * n + j];
      const v = accumulateProducts(acc, k, (t) => Math.fround(a(t) * b(t)));
      const av = Math.fround(alpha * v);
      out[at] = beta === 0 ? av : addF32(av, Math.fround(beta * g.c[at]));
    }
  }
  return out;
}
