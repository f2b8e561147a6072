/**
 * Scalar encode/decode for every element kind: the executable definition every kernel is
 * tested against. Inputs are doubles and are rounded once.
 */
import { match } from "ts-pattern";
import type { Overflow, ResolvedFormat, Rounding } from "../resolved.ts";
import { decodeFloat, encodeFloat } from "./float.ts";
import { decodeInt, encodeInt } from "./int.ts";
import { decodePosit, encodePosit } from "./posit.ts";
import { decodeTable, encodeTable } from "./table.ts";
import { f32Bits } from "./bits.ts";

export interface ScalarOptions {
  /** Overrides the format's rounding. */
  readonly rounding?: Rounding;
  /** Overrides the format's overflow. */
  readonly overflow?: Overflow;
  /** The u32 random draw for this element (stochastic rounding only). */
  readonly random?: number;
  /** x is divided by this (in float32) before encoding and decoded values are multiplied by it. */
  readonly scale?: number;
  /** Integer formats only: added after rounding, subtracted before decoding (default: the spec's zeroPoint). */
  readonly zeroPoint?: number;
}

/** The code of x in `format`'s element encoding (no tensor scaling). */
export function encode(format: ResolvedFormat, x: number, options: ScalarOptions = {}): number {
  const rounding = options.rounding ?? format.rounding;
  const scaled = options.scale === undefined ? x : Math.fround(x / options.scale);
  return match(format.element)
    .with({ kind: "float" }, () => encodeFloat(format, scaled, rounding, options.overflow ?? format.overflow, options.random))
    .with({ kind: "posit" }, (el) => encodePosit(el.bits, el.es, scaled))
    .with({ kind: "int" }, (el) => encodeInt(format, scaled, rounding, options.random, options.zeroPoint ?? el.zeroPoint))
    .with({ kind: "table" }, () => encodeTable(format, scaled, rounding))
    .exhaustive();
}

/** The exact value of `code` (times the scale, if one is given). */
export function decode(format: ResolvedFormat, code: number, options: Pick<ScalarOptions, "scale" | "zeroPoint"> = {}): number {
  const value = match(format.element)
    .with({ kind: "float" }, (el) => decodeFloat(el, code))
    .with({ kind: "posit" }, (el) => decodePosit(el.bits, el.es, code))
    .with({ kind: "int" }, (el) => decodeInt(el, code, options.zeroPoint ?? el.zeroPoint))
    .with({ kind: "table" }, (el) => decodeTable(el, code))
    .exhaustive();
  return options.scale === undefined ? value : value * options.scale;
}

/** True when `code` is one of the format's NaN codes (NaR for posits). */
export function isNanCode(format: ResolvedFormat, code: number): boolean {
  return Number.isNaN(decode(format, code));
}

/** The quiet NaN every target decodes NaN codes to, with the code's top bit as its sign. */
const QUIET_NAN_BITS = 0x7fc00000;

/**
 * The float32 bits a kernel's decode must produce for `code`: the exact value rounded to float32
 * (ties to even); NaN codes give the quiet NaN carrying the code's sign bit (as onnxruntime does).
 */
export function decodeF32Bits(format: ResolvedFormat, code: number): number {
  const value = decode(format, code);
  if (!Number.isNaN(value)) return f32Bits(value);
  const signed = format.element.kind !== "float" || format.element.signed;
  const top = signed && code >= 2 ** (format.bits - 1) ? 0x80000000 : 0;
  return (QUIET_NAN_BITS | top) >>> 0;
}
