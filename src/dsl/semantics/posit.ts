/**
 * Exact reference semantics of posit⟨n, es⟩ (Posit Standard 2022, SoftPosit behaviour for
 * conversions), as pure functions over JS numbers. Every generated kernel is tested against
 * these bit for bit, so they favour being obviously right over being fast.
 *
 * A posit pattern, after the sign bit, is: a regime (a run of equal bits closed by the
 * opposite bit or by the end of the word), up to `es` exponent bits, then fraction bits.
 * Its value is useed^k · 2^e · (1 + f) with useed = 2^(2^es). Negative posits are the
 * two's complement of the positive pattern; 0…0 is zero and 10…0 is NaR.
 */

/** Constants of one posit format; all are exact powers of two. */
export interface PositProperties {
  /** Largest finite value: useed^(n−2), code 0111…1. */
  readonly maxPos: number;
  /** Smallest positive value: useed^−(n−2), code 000…01. */
  readonly minPos: number;
  /** log2(useed) = 2^es: how far in binary exponent one regime step moves. */
  readonly useedLog2: number;
}

/**
 * Largest |binary exponent| of maxpos/minpos we accept. With (n−2)·2^es ≤ 1023, maxpos is
 * ≤ 2^1023 and every value carries at most 29 fraction bits above 2^−1023, so every posit
 * is an exact double and every rounding decision below can be made with exact arithmetic.
 */
const MAX_SCALE = 1023;

/** Doubles carry 52 fraction bits; the encoder reads all of them. */
const DOUBLE_FRACTION_BITS = 52;

/** Every power of two a double can hold, 2^−1074 … 2^1023: a frozen table, read-only. */
const POW2_MIN = -1074;
const POW2: readonly number[] = Object.freeze(
  Array.from({ length: 1024 - POW2_MIN }, (_, i) => 2 ** (i + POW2_MIN)),
);

/** Exact 2^e; a table lookup because `**` with a variable exponent dominated the run time. */
function pow2(e: number): number {
  return POW2[e - POW2_MIN] ?? 2 ** e; // outside the table: 0 or Infinity, as `**` gives
}

/** Throws a RangeError unless (n, es) is a supported format (2 ≤ n ≤ 32, range inside float64). */
function checkFormat(n: number, es: number): void {
  if (!Number.isInteger(n) || n < 2 || n > 32) {
    throw new RangeError(`posit: n must be an integer from 2 to 32, got ${n}`);
  }
  // es ≤ 31 keeps 2^es a small integer; the range bound keeps values exact doubles.
  if (!Number.isInteger(es) || es < 0 || es > 31 || (n - 2) * pow2(es) > MAX_SCALE) {
    throw new RangeError(
      `posit: es must be an integer ≥ 0 with (n−2)·2^es ≤ ${MAX_SCALE} (range inside float64), got n=${n}, es=${es}`,
    );
  }
}

/** Invariant: maxPos = 1/minPos = 2^((n−2)·useedLog2) and useedLog2 = 2^es, all exact. */
export function positProperties(n: number, es: number): PositProperties {
  checkFormat(n, es);
  const useedLog2 = pow2(es);
  const maxScale = (n - 2) * useedLog2;
  return Object.freeze({ maxPos: pow2(maxScale), minPos: pow2(-maxScale), useedLog2 });
}

/** Invariant: returns the exact value of the n-bit pattern `code` (NaN for NaR), monotonic in signed code order. */
export function decodePosit(n: number, es: number, code: number): number {
  checkFormat(n, es);
  const signBit = pow2(n - 1);
  if (!Number.isInteger(code) || code < 0 || code >= 2 * signBit) {
    throw new RangeError(`posit: code must be an integer in [0, 2^${n}), got ${code}`);
  }
  if (code === 0) return 0;
  if (code === signBit) return NaN;
  const negative = code > signBit;
  // Two's complement gives the positive pattern; it has n−1 significant bits (< 2^31),
  // so 32-bit shifts below are safe.
  const body = negative ? 2 * signBit - code : code;

  const top = n - 2; // bit index of the first regime bit
  const regimeBit = (body >>> top) & 1;
  let run = 1;
  while (run <= top && ((body >>> (top - run)) & 1) === regimeBit) run++;
  const k = regimeBit === 1 ? run - 1 : -run;

  // Bits after the regime's terminating bit; none when the run fills the word.
  const restBits = Math.max(top - run, 0);
  const rest = body & ((1 << restBits) - 1);
  let exponent: number;
  let fractionBits: number;
  let fraction: number;
  if (restBits >= es) {
    fractionBits = restBits - es;
    exponent = rest >>> fractionBits;
    fraction = rest & ((1 << fractionBits) - 1);
  } else {
    // The regime pushed some exponent bits off the end: the missing low bits read as 0.
    exponent = rest * pow2(es - restBits);
    fractionBits = 0;
    fraction = 0;
  }
  const scale = k * pow2(es) + exponent;
  // (1 + f) has ≤ 30 significant bits and 2^scale ≥ 2^−1023, so both products are exact.
  const magnitude = (1 + fraction / pow2(fractionBits)) * pow2(scale);
  return negative ? -magnitude : magnitude;
}

/**
 * Invariant: returns the n-bit code of x rounded once, to nearest with ties to even on the
 * bit pattern; NaN/±Inf → NaR, ±0 → 0, never rounds a non-zero x to 0 or a finite x to NaR.
 */
export function encodePosit(n: number, es: number, x: number): number {
  checkFormat(n, es);
  const signBit = pow2(n - 1);
  if (!Number.isFinite(x)) return signBit; // NaN and ±Inf have no posit but NaR
  if (x === 0) return 0; // −0 included: posits have a single zero
  const a = Math.abs(x);
  const maxScale = (n - 2) * pow2(es);
  let body: number;
  if (a >= pow2(maxScale)) {
    body = signBit - 1; // saturate: posits never overflow to NaR
  } else if (a <= pow2(-maxScale)) {
    body = 1; // posits never underflow to zero
  } else {
    body = roundPositiveBody(n, es, a);
  }
  return x < 0 ? 2 * signBit - body : body;
}

/**
 * The n−1 bits after the sign for minpos < a < maxpos: builds the unbounded pattern
 * regime | exponent | 52 double fraction bits exactly, then rounds it to n−1 bits with a
 * guard bit and a sticky bit. Rounding the pattern (not the value) is what makes the tie
 * point the (n+1)-bit posit between two neighbours rather than their arithmetic mean.
 */
function roundPositiveBody(n: number, es: number, a: number): number {
  // Exact binade of a: log2 may be off by one next to a power of two, so correct it.
  let scale = Math.floor(Math.log2(a));
  while (pow2(scale) > a) scale--;
  while (pow2(scale + 1) <= a) scale++;
  // a is a normal double here (a > minpos ≥ 2^−960 for n ≤ 32), so this is its exact
  // 52-bit fraction field as an integer: dividing by a power of two is exact.
  const fraction = (a / pow2(scale) - 1) * pow2(DOUBLE_FRACTION_BITS);

  const useedLog2 = pow2(es);
  const k = Math.floor(scale / useedLog2);
  const exponent = scale - k * useedLog2; // 0 ≤ exponent < 2^es
  // Regime for k ≥ 0: k+1 ones then a zero; for k < 0: −k zeros then a one. Because
  // minpos < a < maxpos, −(n−2) ≤ k ≤ n−3 and the regime always fits in n−1 bits.
  const regime = k >= 0 ? pow2(k + 2) - 2 : 1;
  const regimeBits = k >= 0 ? k + 2 : 1 - k;
  // regime|exponent as one integer: at most n−1+es ≤ 40 bits, exact in a double.
  const head = regime * useedLog2 + exponent; // regime << es
  const headBits = regimeBits + es;
  const keep = n - 1;

  let kept: number;
  let guard: boolean;
  let sticky: boolean;
  if (headBits <= keep) {
    // Some fraction bits survive; the cut falls inside the 52-bit fraction.
    const fractionKept = keep - headBits;
    const unit = pow2(DOUBLE_FRACTION_BITS - fractionKept);
    const low = fraction % unit; // exact: integers below 2^53
    kept = head * pow2(fractionKept) + (fraction - low) / unit;
    guard = low >= unit / 2;
    sticky = low % (unit / 2) !== 0;
  } else {
    // The regime is long enough to push exponent bits out (only when es > 0): the cut
    // falls inside the exponent, and the whole fraction is below the guard bit.
    const unit = pow2(headBits - keep);
    const low = head % unit;
    kept = (head - low) / unit;
    guard = low >= unit / 2;
    sticky = low % (unit / 2) !== 0 || fraction !== 0;
  }
  // Round half to even on the pattern. The carry cannot reach the sign bit: the all-ones
  // body would need k ≥ n−2, i.e. a ≥ maxpos, which was handled by the caller.
  return guard && (sticky || kept % 2 === 1) ? kept + 1 : kept;
}
