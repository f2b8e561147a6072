/**
 * MX block scaling (OCP Microscaling v1.0): each run of `blockSize` consecutive elements shares a
 * power-of-two scale 2^E, stored in the scale format (E8M0). floor: E = ⌊log2 amax⌋ − emax(element);
 * ceil: the smallest E with no clipping; even: the nearer of the two in log2. A block holding NaN
 * or ±Inf gets the NaN scale, so all of it decodes to NaN; a zero block gets the smallest scale.
 */
import type { ResolvedFormat, ResolvedScaling } from "../../resolved.ts";
import { codeArray } from "../codes.ts";
import { encode } from "../scalar.ts";
import { floorLog2 } from "../bits.ts";
import { ceilExponentRatio, significand } from "./exponents.ts";

type BlockScaling = Extract<ResolvedScaling, { kind: "block" }>;

/** The scale exponent of one block, or null when the block holds NaN or ±Inf. */
export function blockExponent(format: ResolvedFormat, scaling: BlockScaling, x: Float32Array, start: number, end: number): number | null {
  let amax = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(x[i]);
    if (!(a < Number.POSITIVE_INFINITY)) return null;
    if (a > amax) amax = a;
  }
  const scaleElement = scaling.scaleFormat.element;
  if (scaleElement.kind !== "float") throw new Error("block scale formats are floats (checked by resolve)");
  const minExponent = scaleElement.minNormalExponent;
  if (amax === 0) return minExponent;
  const elementMax = format.maxFinite;
  const floorE = floorLog2(amax) - floorLog2(elementMax);
  const e =
    scaling.scaleRounding === "floor" ? floorE
    : scaling.scaleRounding === "ceil" ? ceilExponentRatio(amax, elementMax)
    : evenExponent(amax, elementMax);
  return Math.min(Math.max(e, minExponent), scaleElement.maxExponent);
}

/** round(log2(amax / elementMax)): up when the ratio's significand is at least √2. */
function evenExponent(amax: number, elementMax: number): number {
  const ratio = significand(amax) / significand(elementMax);
  const k = floorLog2(amax) - floorLog2(elementMax) + (ratio < 1 ? -1 : 0);
  const rest = ratio < 1 ? ratio * 2 : ratio;
  return rest * rest >= 2 ? k + 1 : k;
}

/** Scale exponents of every block (null for NaN blocks) and their codes in the scale format. */
export function blockScales(format: ResolvedFormat, scaling: BlockScaling, x: Float32Array) {
  const blocks = Math.ceil(x.length / scaling.blockSize);
  const exponents: (number | null)[] = [];
  const scaleCodes = codeArray(scaling.scaleFormat.bits, blocks);
  for (let b = 0; b < blocks; b++) {
    const e = blockExponent(format, scaling, x, b * scaling.blockSize, Math.min((b + 1) * scaling.blockSize, x.length));
    exponents.push(e);
    scaleCodes[b] = e === null ? encode(scaling.scaleFormat, Number.NaN) : encode(scaling.scaleFormat, 2 ** e);
  }
  return { exponents, scaleCodes };
}
