/**
 * Codebook (`table`) elements: code c stands for values[c]. Encode finds the two values around x
 * (exact double comparisons) and picks one by the rounding mode; ties of the nearest modes are
 * decided exactly (2x against lo + hi in integers). The rules, stated once:
 *   nearest-even: the nearer value, ties to the even code;
 *   nearest-away: the nearer value, ties to the larger magnitude (between −v and v, x = ±0: x's sign);
 *   toward-zero: the value of smaller magnitude (equal magnitudes: x's sign);
 *   toward-positive / toward-negative: the value above / below;
 *   odd: the neighbour with the odd code.
 * Below the first value and above the last, x saturates to them (±Inf too); NaN takes nanInput.
 * Every rule is monotone in x ordered as float32 bit patterns with −0 just below +0, which the
 * kernels rely on (they compare x's ordered bits with per-code thresholds).
 */
import type { ResolvedFormat, ResolvedTable, Rounding } from "../resolved.ts";
import { signBit } from "./bits.ts";
import { nanInputCode } from "./nan-input.ts";

/** The value of a code; codes past the last value decode as the last value (encode never produces them). */
export function decodeTable(el: ResolvedTable, code: number): number {
  return el.values[Math.min(code, el.values.length - 1)];
}

/** The code of x (already divided by any scale). Stochastic rounding is refused by resolve. */
export function encodeTable(format: ResolvedFormat, x: number, rounding: Rounding): number {
  const values = (format.element as ResolvedTable).values;
  if (Number.isNaN(x)) return nanInputCode(format);
  const last = values.length - 1;
  if (x <= values[0]) return 0;
  if (x >= values[last]) return last;
  // values[lo] ≤ x < values[lo + 1]
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= x) lo = mid;
    else hi = mid;
  }
  if (values[lo] === x) return lo;
  const below = values[lo];
  const above = values[hi];
  const negative = signBit(x) === 1;
  // Which of the two has the larger magnitude; equal magnitudes (x = ±0 between −v and v) go by x's sign.
  const largerMagnitude = Math.abs(above) > Math.abs(below) || (Math.abs(above) === Math.abs(below) && !negative) ? hi : lo;
  const smallerMagnitude = largerMagnitude === hi ? lo : hi;
  switch (rounding.mode) {
    case "toward-positive":
      return hi;
    case "toward-negative":
      return lo;
    case "toward-zero":
      return Math.abs(above) === Math.abs(below) ? (negative ? lo : hi) : smallerMagnitude;
    case "odd":
      return lo % 2 === 1 ? lo : hi;
    case "nearest-even":
    case "nearest-away": {
      const side = compareWithMidpoint(x, below, above);
      if (side !== 0) return side < 0 ? lo : hi;
      return rounding.mode === "nearest-even" ? (lo % 2 === 0 ? lo : hi) : largerMagnitude;
    }
    case "stochastic":
      throw new Error("tables do not round stochastically (refused by resolve)");
  }
}

/** The sign of 2x − (a + b), exactly. */
export function compareWithMidpoint(x: number, a: number, b: number): number {
  const d = 2n * exact(x) - exact(a) - exact(b);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
}

const view = new DataView(new ArrayBuffer(8));
/** Every finite double is an integer multiple of 2^−1074: x·2^1074 as a BigInt. */
function exact(x: number): bigint {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  const magnitude = biased === 0 ? fraction : (fraction | (1n << 52n)) << BigInt(biased - 1);
  return hi >>> 31 === 1 ? -magnitude : magnitude;
}
