/**
 * Exact reference semantics of posit⟨n, es⟩ arithmetic (Posit Standard 2022): add, sub, mul,
 * div, sqrt and fused multiply-add on codes, each computed exactly (BigInt) and rounded once.
 *
 * Rounding (standard §4 / §5): the exact value's unbounded posit pattern, regime | exponent |
 * fraction, is rounded to n−1 bits after the sign, to nearest with ties to even on the pattern;
 * a nonzero finite value never rounds to 0 or NaR: below minpos it becomes ±minpos, at or above
 * maxpos it becomes ±maxpos. NaR is the result when any operand is NaR, for x/0 and for the
 * square root of a negative number. These functions are the oracle every posit kernel is
 * tested against, so they favour being obviously right over being fast.
 */

/** A posit format: n bits, es exponent bits (2 ≤ n ≤ 32). */
export interface PositShape {
  readonly n: number;
  readonly es: number;
}

/** An exact value: zero, NaR, or (−1)^negative · magnitude · 2^exponent with magnitude > 0. */
export type ExactValue =
  | { readonly kind: "zero" }
  | { readonly kind: "nar" }
  | { readonly kind: "finite"; readonly negative: boolean; readonly magnitude: bigint; readonly exponent: number };

export const ZERO: ExactValue = Object.freeze({ kind: "zero" });
export const NAR: ExactValue = Object.freeze({ kind: "nar" });

export type PositBinaryOp = "add" | "sub" | "mul" | "div";
export type PositOp = PositBinaryOp | "sqrt" | "fma";

/** How many operands each op takes (fma: a·b + c). */
export const POSIT_OP_ARITY: Readonly<Record<PositOp, number>> = Object.freeze({ add: 2, sub: 2, mul: 2, div: 2, sqrt: 1, fma: 3 });

/** Throws a RangeError unless (n, es) is a posit format this module handles. */
export function checkShape({ n, es }: PositShape): void {
  if (!Number.isInteger(n) || n < 2 || n > 32) throw new RangeError(`posit: n must be an integer from 2 to 32, got ${n}`);
  if (!Number.isInteger(es) || es < 0 || es > 31) throw new RangeError(`posit: es must be an integer from 0 to 31, got ${es}`);
}

/** log2(maxpos) = (n−2)·2^es. */
export const maxScaleOf = ({ n, es }: PositShape): number => (n - 2) * 2 ** es;

/** The NaR code 10…0. */
export const narCode = ({ n }: PositShape): number => 2 ** (n - 1);

/** The code of −x for a code x (two's complement on n bits; 0 and NaR are their own negation). */
export function negateCode({ n }: PositShape, code: number): number {
  return (2 ** n - code) % 2 ** n;
}

/**
 * Invariant: the exact value of an n-bit code (integer in [0, 2^n)). Accepts n up to 52 besides
 * the arithmetic formats: the tie points between neighbouring n-bit posits are (n+1)-bit posits.
 */
export function positToExact(shape: PositShape, code: number): ExactValue {
  if (!Number.isInteger(shape.n) || shape.n < 2 || shape.n > 52) throw new RangeError(`posit: n must be an integer from 2 to 52, got ${shape.n}`);
  if (!Number.isInteger(shape.es) || shape.es < 0 || shape.es > 31) throw new RangeError(`posit: es must be an integer from 0 to 31, got ${shape.es}`);
  const { n, es } = shape;
  if (!Number.isInteger(code) || code < 0 || code >= 2 ** n) throw new RangeError(`posit: code must be an integer in [0, 2^${n}), got ${code}`);
  if (code === 0) return ZERO;
  if (code === narCode(shape)) return NAR;
  const negative = code > narCode(shape);
  const body = BigInt(negative ? 2 ** n - code : code); // n−1 significant bits
  const top = n - 2;
  const bit = (i: number) => Number((body >> BigInt(i)) & 1n);
  const regimeBit = bit(top);
  let run = 1;
  while (run <= top && bit(top - run) === regimeBit) run++;
  const k = regimeBit === 1 ? run - 1 : -run;
  const restBits = Math.max(top - run, 0); // bits after the regime's terminating bit
  const rest = body & ((1n << BigInt(restBits)) - 1n);
  // Exponent bits cut off by the end of the word read as 0.
  const exponentBits = Math.min(es, restBits);
  const fractionBits = restBits - exponentBits;
  const exponent = Number(rest >> BigInt(fractionBits)) * 2 ** (es - exponentBits);
  const fraction = rest & ((1n << BigInt(fractionBits)) - 1n);
  const scale = k * 2 ** es + exponent;
  return { kind: "finite", negative, magnitude: (1n << BigInt(fractionBits)) | fraction, exponent: scale - fractionBits };
}

/** Number of bits of a positive BigInt. */
export function bitLength(x: bigint): number {
  return x.toString(2).length;
}

/**
 * Invariant: the code of `value` rounded once to the posit format. `inexactAbove` says the true
 * magnitude lies strictly between magnitude·2^exponent and the next multiple of 2^exponent (a
 * sticky bit); callers that use it supply a magnitude of at least n+1 bits so the guard bit is
 * exact.
 */
export function roundToPosit(shape: PositShape, value: ExactValue, inexactAbove = false): number {
  checkShape(shape);
  if (value.kind === "zero") return 0;
  if (value.kind === "nar") return narCode(shape);
  const { n, es } = shape;
  const maxScale = maxScaleOf(shape);
  const m = bitLength(value.magnitude) - 1;
  const scale = m + value.exponent; // 2^scale ≤ |value| < 2^(scale+1)
  let body: bigint;
  if (scale >= maxScale) body = (1n << BigInt(n - 1)) - 1n; // ≥ maxpos: saturate, never NaR
  else if (scale < -maxScale) body = 1n; // below minpos: minpos, never 0
  else body = roundPattern(n, es, scale, value.magnitude - (1n << BigInt(m)), m, inexactAbove);
  const code = Number(body);
  return value.negative ? 2 ** n - code : code;
}

/**
 * The n−1 bits after the sign for −maxScale ≤ scale < maxScale: the unbounded pattern
 * regime | es exponent bits | the m fraction bits, rounded to n−1 bits, ties to even.
 * The carry cannot reach the sign bit (that would need scale ≥ maxScale) and the result is
 * at least 1 (the regime of scale ≥ −maxScale fits in n−1 bits and ends in a one).
 */
function roundPattern(n: number, es: number, scale: number, fraction: bigint, m: number, inexactAbove: boolean): bigint {
  const k = Math.floor(scale / 2 ** es);
  const exponent = BigInt(scale - k * 2 ** es);
  // k ≥ 0: k+1 ones then a zero; k < 0: −k zeros then a one.
  const regimeBits = k >= 0 ? k + 2 : 1 - k;
  const regime = k >= 0 ? (1n << BigInt(k + 2)) - 2n : 1n;
  const pattern = (((regime << BigInt(es)) | exponent) << BigInt(m)) | fraction;
  const total = regimeBits + es + m;
  const keep = n - 1;
  if (total <= keep) {
    if (inexactAbove) throw new RangeError("posit: roundToPosit needs more magnitude bits when inexactAbove is set");
    return pattern << BigInt(keep - total);
  }
  const cut = BigInt(total - keep);
  const kept = pattern >> cut;
  const low = pattern & ((1n << cut) - 1n);
  const half = 1n << (cut - 1n);
  const up = low > half || (low === half && (inexactAbove || (kept & 1n) === 1n));
  return up ? kept + 1n : kept;
}

/** The exact value of x with its sign flipped. */
export function negateExact(x: ExactValue): ExactValue {
  return x.kind === "finite" ? { ...x, negative: !x.negative } : x;
}

/** The exact sum of two exact values (NaR if either is NaR). */
export function addExact(a: ExactValue, b: ExactValue): ExactValue {
  if (a.kind === "nar" || b.kind === "nar") return NAR;
  if (a.kind === "zero") return b;
  if (b.kind === "zero") return a;
  const exponent = Math.min(a.exponent, b.exponent);
  const signed = (x: typeof a) => (x.negative ? -1n : 1n) * (x.magnitude << BigInt(x.exponent - exponent));
  const sum = signed(a) + signed(b);
  if (sum === 0n) return ZERO;
  return { kind: "finite", negative: sum < 0n, magnitude: sum < 0n ? -sum : sum, exponent };
}

/** The exact product of two exact values (NaR if either is NaR). */
export function mulExact(a: ExactValue, b: ExactValue): ExactValue {
  if (a.kind === "nar" || b.kind === "nar") return NAR;
  if (a.kind === "zero" || b.kind === "zero") return ZERO;
  return { kind: "finite", negative: a.negative !== b.negative, magnitude: a.magnitude * b.magnitude, exponent: a.exponent + b.exponent };
}

/** Extra quotient/root bits beyond the format's width: enough for a guard bit at any scale. */
const extraBits = (shape: PositShape) => shape.n + 4;

function divCodes(shape: PositShape, a: ExactValue, b: ExactValue): number {
  if (a.kind === "nar" || b.kind === "nar" || b.kind === "zero") return narCode(shape);
  if (a.kind === "zero") return 0;
  // Scale the dividend so the integer quotient has at least n+4 bits; the remainder is the sticky bit.
  const shift = Math.max(0, bitLength(b.magnitude) - bitLength(a.magnitude) + extraBits(shape));
  const dividend = a.magnitude << BigInt(shift);
  const quotient = dividend / b.magnitude;
  const exact: ExactValue = { kind: "finite", negative: a.negative !== b.negative, magnitude: quotient, exponent: a.exponent - shift - b.exponent };
  return roundToPosit(shape, exact, quotient * b.magnitude !== dividend);
}

/** ⌊√x⌋ for x ≥ 0 (Newton's method on BigInt). */
export function isqrt(x: bigint): bigint {
  if (x < 2n) return x;
  let r = 1n << BigInt(Math.ceil(bitLength(x) / 2)); // ≥ √x
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}

function sqrtCode(shape: PositShape, a: ExactValue): number {
  if (a.kind === "nar") return narCode(shape);
  if (a.kind === "zero") return 0;
  if (a.negative) return narCode(shape);
  // Make the exponent even and the radicand wide enough for an (n+4)-bit root.
  let shift = Math.max(0, 2 * extraBits(shape) - bitLength(a.magnitude));
  if ((a.exponent - shift) % 2 !== 0) shift++;
  const radicand = a.magnitude << BigInt(shift);
  const root = isqrt(radicand);
  const exact: ExactValue = { kind: "finite", negative: false, magnitude: root, exponent: (a.exponent - shift) / 2 };
  return roundToPosit(shape, exact, root * root !== radicand);
}

/**
 * Invariant: the code of `op` applied to the operand codes, computed exactly and rounded once.
 * Operands: one for sqrt, three for fma (a·b + c), two otherwise.
 */
export function positOp(shape: PositShape, op: PositOp, codes: readonly number[]): number {
  if (codes.length !== POSIT_OP_ARITY[op]) throw new RangeError(`posit ${op} takes ${POSIT_OP_ARITY[op]} operands, got ${codes.length}`);
  const [a, b, c] = codes.map((code) => positToExact(shape, code));
  switch (op) {
    case "add":
      return roundToPosit(shape, addExact(a, b));
    case "sub":
      return roundToPosit(shape, addExact(a, negateExact(b)));
    case "mul":
      return roundToPosit(shape, mulExact(a, b));
    case "div":
      return divCodes(shape, a, b);
    case "sqrt":
      return sqrtCode(shape, a);
    case "fma":
      return roundToPosit(shape, addExact(mulExact(a, b), c));
  }
}
