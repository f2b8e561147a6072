/** Human-readable descriptions of a ResolvedFormat: its kind, its specials, its properties. */
import { match } from "ts-pattern";
import type { ResolvedFormat, ResolvedScaling } from "../../dsl/resolved.ts";
import { scalingKindOf } from "../../scaling/registry.ts";
import { binades, compactNumber, exactNumber, hexCode, powerOfTwoNote } from "./numbers.ts";

/** The element encoding in a few characters: "float E4M3", "posit<8,0>", "int4 sym", "int8.6". */
export function elementLabel(format: ResolvedFormat): string {
  return match(format.element)
    .with({ kind: "float" }, (e) => `float ${e.signed ? "" : "u"}E${e.exponentBits}M${e.mantissaBits}`)
    .with({ kind: "posit" }, (e) => `posit<${e.bits},${e.es}>`)
    .with({ kind: "int" }, (e) => {
      const name = `${e.signed ? "int" : "uint"}${e.bits}${e.fractionBits > 0 ? `.${e.fractionBits}` : ""}`;
      const zeroPoint = e.zeroPoint !== 0 ? ` zp${e.zeroPoint}` : "";
      return e.signed && e.minInt === -e.maxInt ? `${name} sym${zeroPoint}` : `${name}${zeroPoint}`;
    })
    .with({ kind: "table" }, (e) => `table${e.values.length}`)
    .exhaustive();
}

/** The tensor scaling in a few characters ("" for none): "block32×e8m0", "amax channel delayed16". */
export function scalingLabel(scaling: ResolvedScaling): string {
  return scalingKindOf(scaling).label(scaling);
}

/** Element and scaling together: "float E4M3 + block32×e8m0". */
export function kindLabel(format: ResolvedFormat): string {
  const scaling = scalingLabel(format.scaling);
  return scaling === "" ? elementLabel(format) : `${elementLabel(format)} + ${scaling}`;
}

/** The special values a format has: "Inf NaN -0", "NaN@0x80", "NaR", or what NaN becomes. */
export function specialsLabel(format: ResolvedFormat): string {
  const { codes, element } = format;
  const parts: string[] = [];
  if (format.hasInfinity) parts.push("Inf");
  if (codes.nan !== null)
    parts.push(element.kind === "posit" ? "NaR" : element.kind === "float" && element.nan === "negative-zero" ? `NaN@${hexCode(codes.nan, format.bits)}` : "NaN");
  else parts.push(`NaN→${format.nanInput ?? "zero"}`);
  if (codes.negativeZero !== null) parts.push("-0");
  return parts.join(" ");
}

/** A value with its exact decimal and, for powers of two, the exponent. */
const exact = (x: number) => (Number.isNaN(x) ? "none (1 is not representable)" : `${exactNumber(x)}${powerOfTwoNote(x)}`);
const code = (format: ResolvedFormat, c: number | null) => (c === null ? "none" : `${hexCode(c, format.bits)} (${c})`);

/** Every resolved property of a format, as label/value pairs for `numforge check`. */
export function propertyPairs(format: ResolvedFormat): [string, string][] {
  const { codes } = format;
  const elementPairs: [string, string][] = match(format.element)
    .with({ kind: "float" }, (e): [string, string][] => [
      ["layout", `${e.signed ? "1 sign + " : "no sign, "}${e.exponentBits} exponent + ${e.mantissaBits} mantissa bits`],
      ["bias", String(e.bias)],
      ["exponents", `normal binades 2^${e.minNormalExponent} .. 2^${e.maxExponent}`],
      ["infinity", e.infinity ? "yes" : "no"],
      ["nan encoding", e.nan],
      ["negative zero", e.negativeZero ? "yes" : "no"],
      ["subnormals", e.subnormals ? "yes" : "no"],
      ["zero", e.zero ? "yes" : "no"],
    ])
    .with({ kind: "posit" }, (e): [string, string][] => [["layout", `posit, ${e.bits} bits, es ${e.es}`]])
    .with({ kind: "int" }, (e): [string, string][] => [
      ["layout", `${e.signed ? "signed" : "unsigned"} ${e.bits}-bit integer${e.fractionBits > 0 ? `, ${e.fractionBits} fraction bits` : ""}`],
      ["integer range", `${e.minInt} .. ${e.maxInt}`],
      ...(e.zeroPoint !== 0 ? [["zero point", `${e.zeroPoint} (value = (code − ${e.zeroPoint})·2^−${e.fractionBits})`] as [string, string]] : []),
    ])
    .with({ kind: "table" }, (e): [string, string][] => [
      ["layout", `codebook of ${e.values.length} values, ${e.bits}-bit codes (code = index)`],
      ["values", e.values.map(exactNumber).join(", ")],
    ])
    .exhaustive();
  return [
    ["name", format.name],
    ["summary", format.summary],
    ["kind", kindLabel(format)],
    ["bits", `${format.bits} (${format.codeCount} codes)`],
    ...elementPairs,
    ["rounding", format.rounding.mode === "stochastic" ? `stochastic, ${format.rounding.bits} random bits` : format.rounding.mode],
    ["overflow", format.overflow],
    ["nan input", format.nanInput ?? (format.hasNaN ? "the format's NaN" : "zero")],
    ["scaling", scalingPairs(format.scaling)],
    ["max finite", exact(format.maxFinite)],
    ["min finite", exact(format.minFinite)],
    ["min normal", exact(format.minNormal)],
    ["min subnormal", `${exact(format.minSubnormal)} (smallest positive)`],
    ["epsilon", exact(format.epsilon)],
    ["dynamic range", `${binades(format.dynamicRangeBinades)} binades`],
    ["code +0", code(format, codes.positiveZero)],
    ["code -0", code(format, codes.negativeZero)],
    ["code +Inf", code(format, codes.positiveInfinity)],
    ["code -Inf", code(format, codes.negativeInfinity)],
    ["code NaN", code(format, codes.nan)],
    ["code -NaN", code(format, codes.negativeNan)],
    ["code max", `${code(format, codes.maxFinite)} = ${compactNumber(format.maxFinite)}`],
    ["code min", `${code(format, codes.minFinite)} = ${compactNumber(format.minFinite)}`],
  ];
}

function scalingPairs(scaling: ResolvedScaling): string {
  return scalingKindOf(scaling).sentence(scaling);
}
