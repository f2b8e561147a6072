/**
 * The inputs a generated format is checked on, within a budget: for encode, random float32 bit
 * patterns, float32 specials (±0, ±∞, NaNs of both signs and several payloads, the extremes,
 * subnormals) and the format's edges — each finite value, the midpoint to its neighbour (a tie
 * where it is a float32) and one float32 ulp either side of both, the overflow band past ±max
 * finite (its rounding midpoint included) and the underflow band below the smallest value; for
 * decode, every code of a ≤ 16-bit format, else random codes and the special ones.
 */
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";
import { fromF32Bits } from "../../src/dsl/semantics/bits.ts";
import { codeArray, type CodeArray } from "../../src/dsl/semantics/codes.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { decode } from "../../src/dsl/semantics/scalar.ts";
import { randomBitPatterns } from "../support/inputs.ts";

/** How many inputs of each kind a format gets. */
export interface InputBudget {
  /** Random float32 bit patterns (and as many random subnormal ones / 8). */
  readonly random: number;
  /** Neighbouring value pairs whose ends and midpoint (±1 ulp) are encoded. */
  readonly pairs: number;
  /** Random codes decoded for formats of more than 16 bits. */
  readonly codes: number;
}

/** NaNs of both signs with assorted payloads, ±0, ±∞, the float32 extremes and subnormal edges. */
const F32_SPECIALS = [
  0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff, 0x7fa00000, 0x00000000, 0x80000000, 0x7f800000, 0xff800000,
  0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x00400000, 0x3f800000, 0xbf800000,
];

const view = new DataView(new ArrayBuffer(4));
/** The next float32 toward +∞ (finite inputs; ±0 step to ±the smallest subnormal's neighbour). */
function nextUp(f: number): number {
  view.setFloat32(0, f);
  const b = view.getUint32(0);
  view.setUint32(0, f === 0 ? 1 : f > 0 ? b + 1 : b - 1);
  return view.getFloat32(0);
}

/** f, and the float32s one ulp either side of it (x rounded to float32 first). */
function around(out: number[], x: number): void {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return void out.push(f);
  out.push(f, nextUp(f), -nextUp(-f));
}

/**
 * Neighbouring finite values (a, b) of the format, a < b: of a ≤ 16-bit format, from the sorted
 * list of all its values — at both ends, around zero and ±min normal, and at random places; of a
 * wider one, the values of random codes c and c + 1 (neighbours in every element kind's code order).
 * `table`: the float32 bits of every code of a ≤ 16-bit format, null otherwise.
 */
function neighbourPairs(format: ResolvedFormat, count: number, seed: number, table: Uint32Array | null): [number, number][] {
  const pairs: [number, number][] = [];
  if (table !== null) {
    const sorted = [...new Set(Array.from(table, fromF32Bits).filter(Number.isFinite).map((v) => v + 0))].sort((a, b) => a - b);
    const last = sorted.length - 2;
    const near = (v: number) => sorted.findIndex((s) => s >= v);
    const picked = new Set<number>();
    const pick = (i: number) => i >= 0 && i <= last && picked.add(i);
    for (const center of [0, last, near(0), near(-format.minNormal), near(format.minNormal)]) for (let d = -3; d <= 3; d++) pick(center + d);
    if (last + 1 <= count) for (let i = 0; i <= last; i++) pick(i);
    else for (let k = 0; picked.size < count && k < 4 * count; k++) pick(counterRandom(seed, k) % (last + 1));
    for (const i of picked) pairs.push([sorted[i], sorted[i + 1]]);
    return pairs;
  }
  const mask = 2 ** format.bits;
  for (let k = 0; k < count; k++) {
    const c = counterRandom(seed, k) % mask;
    const [a, b] = [decode(format, c), decode(format, (c + 1) % mask)];
    if (Number.isFinite(a) && Number.isFinite(b)) pairs.push(a < b ? [a, b] : [b, a]);
  }
  return pairs;
}

/**
 * float32 inputs for encode and fake-quantize (see the module comment); `table` holds the float32
 * bits of every code of a ≤ 16-bit format (its values are float32s), null for wider formats.
 */
export function encodeInputs(format: ResolvedFormat, seed: number, budget: InputBudget, table: Uint32Array | null): Float32Array {
  const out: number[] = [];
  for (const [a, b] of neighbourPairs(format, budget.pairs, seed, table)) {
    around(out, a);
    around(out, (a + b) / 2);
    around(out, b);
  }
  const max = format.maxFinite;
  // Past max finite: where rounding decides between max and overflow (half the top binade's step above it).
  const topStep = format.element.kind === "float" ? 2 ** (format.element.maxExponent - format.element.mantissaBits) : max - decode(format, format.codes.maxFinite - 1);
  for (const s of [1, -1]) {
    for (const k of [1, 1.0625, 1.125, 1.5, 2, 4, 1e3]) around(out, s * max * k);
    around(out, s * (max + topStep / 2));
    for (const k of [0.25, 0.5, 0.75, 1, 1.5]) around(out, s * format.minSubnormal * k);
  }
  for (const bits of F32_SPECIALS) out.push(fromF32Bits(bits));
  const random = randomBitPatterns(budget.random, seed);
  const subnormals = Array.from({ length: budget.random >> 3 }, (_, i) => fromF32Bits((counterRandom(seed + 1, i) & 0x807fffff) >>> 0));
  const all = new Float32Array(out.length + random.length + subnormals.length);
  all.set(out);
  all.set(random, out.length);
  all.set(subnormals, out.length + random.length);
  return all;
}

/** Codes to decode: all of a ≤ 16-bit format's, else `budget.codes` random ones and the special codes. */
export function decodeCodes(format: ResolvedFormat, seed: number, budget: InputBudget): CodeArray {
  if (format.bits <= 16) {
    const codes = codeArray(format.bits, format.codeCount);
    for (let c = 0; c < codes.length; c++) codes[c] = c;
    return codes;
  }
  const top = 2 ** (format.bits - 1);
  const specials = [0, 1, 2, top - 2, top - 1, top, top + 1, top + 2, 2 * top - 2, 2 * top - 1, ...Object.values(format.codes).filter((c): c is number => c !== null)];
  const codes = codeArray(format.bits, specials.length + budget.codes);
  codes.set(specials);
  for (let k = 0; k < budget.codes; k++) codes[specials.length + k] = counterRandom(seed + 2, k) % (2 * top);
  return codes;
}
