/**
 * What the fast element paths learn from the exact semantics at lowering time, by calling them:
 * how the format's rounding decides between two neighbouring grid points, and the codes of the
 * inputs the arithmetic does not produce itself (±0, ±∞, NaN, overflow). Nothing here names a
 * rounding mode or an overflow policy: a mode the semantics gain later is probed the same way,
 * and a mode whose decision is not a function of these probes (stochastic) gets no fast path.
 */
import type { Overflow, ResolvedFormat, Rounding } from "../../../dsl/resolved.ts";
import { fromF32Bits } from "../../../dsl/semantics/bits.ts";
import { encode } from "../../../dsl/semantics/scalar.ts";

/** Where an exact grid value's fraction lies: 0, in (0, ½), ½, in (½, 1). */
export const FRACTION_CLASSES = ["exact", "below", "half", "above"] as const;
export type FractionClass = (typeof FRACTION_CLASSES)[number];

/**
 * Whether the rounded integer is the floor + 1, by the floor's last bit (0 even, 1 odd) and the
 * fraction's class: `up[lsb][class]`.
 */
export interface RoundingDecision {
  readonly up: readonly [readonly boolean[], readonly boolean[]];
}

export const MAX_F32 = 3.4028234663852886e38;
export const POSITIVE_NAN = fromF32Bits(0x7fc00000);
export const NEGATIVE_NAN = fromF32Bits(0xffc00000);

/** The semantics' encode under the element rounding and overflow the kernel uses. */
export type Encoder = (x: number) => number;

export function encoderOf(format: ResolvedFormat, rounding: Rounding, overflow: Overflow): Encoder {
  return (x) => encode(format, x, { rounding, overflow });
}

/**
 * The decision the semantics take for one sign: `gridIndex(x)` maps an encoded code back to its
 * grid integer, `value(n)` is the value at grid integer n (positive). Probed at two neighbouring
 * grid intervals starting at n0 (even) and n0 + 1 (odd), at the fractions 0, ¼, ½, ¾ of the
 * quantum. Null when a result is not the floor or the floor + 1 (not a rounding of this shape).
 */
export function probeDecision(enc: Encoder, sign: 1 | -1, n0: number, value: (n: number) => number, gridIndex: (code: number) => number | null): RoundingDecision | null {
  const up: [boolean[], boolean[]] = [[], []];
  for (const lsb of [0, 1] as const) {
    const n = n0 + lsb;
    const low = value(n);
    const quantum = value(n + 1) - low;
    for (const fraction of [0, 0.25, 0.5, 0.75]) {
      const x = sign * (low + fraction * quantum);
      if (Math.fround(x) !== x) return null;
      const got = gridIndex(enc(x));
      if (got !== n && got !== n + 1) return null;
      up[lsb].push(got === n + 1);
    }
    if (up[lsb][0]) return null; // an exact grid value must stay where it is
  }
  return { up };
}

/** Codes from the semantics, [positive, negative], of the inputs a fast path's arithmetic does not produce itself. */
export interface SpecialCodes {
  readonly zero: readonly [number, number];
  readonly beyondMax: readonly [number, number];
  readonly infinity: readonly [number, number];
  readonly nan: readonly [number, number];
  /** Unsigned formats: the code of every negative non-zero input. */
  readonly negativeCode: number | null;
}

/**
 * The special codes of a format whose smallest non-zero magnitude is `smallest`. An unsigned
 * format must give every negative non-zero input one code, and −0 the code of +0 (else null: the
 * fast paths have no form for it).
 */
export function probeSpecialCodes(enc: Encoder, signed: boolean, smallest: number): SpecialCodes | null {
  let negativeCode: number | null = null;
  if (!signed) {
    const codes = [-(2 ** -149), -smallest, -1, -MAX_F32, Number.NEGATIVE_INFINITY, NEGATIVE_NAN].map(enc);
    if (codes.some((c) => c !== codes[0]) || enc(-0) !== enc(0)) return null;
    negativeCode = codes[0];
  }
  const pair = (x: number) => [enc(x), enc(-x)] as const;
  return { zero: pair(0), beyondMax: pair(MAX_F32), infinity: pair(Number.POSITIVE_INFINITY), nan: [enc(POSITIVE_NAN), enc(NEGATIVE_NAN)], negativeCode };
}

export function sameDecision(a: RoundingDecision, b: RoundingDecision): boolean {
  return a.up.every((row, lsb) => row.every((v, k) => v === b.up[lsb][k]));
}
