/**
 * The scales a scaled format chooses for a tensor (amax scales, S2FP8 α and β, MX/NVFP4 block
 * scales, ShiftQuant group exponents), found by running the format's own encode plan on a copy of
 * the tensor laid out as RecipePrecision lays it out, and summarized per metadata field: a scalar
 * stays a number, a vector becomes a ScaleSummary (a histogram). Block scales are stored as codes
 * of the scale format; they are decoded first so every histogram is of scale values.
 */
import { metaFromBuffers } from "../../codegen/meta.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { decode } from "../../dsl/semantics/scalar.ts";
import { quantizesByRow } from "../../recipes/precision.ts";
import { scalingKindOf } from "../../scaling/registry.ts";
import type { BufferArray } from "../../package-runtime/run-plan.js";
import type { KernelSource } from "../backends/kernel-source.ts";
import { jsonNumber } from "../compare/results.ts";
import { gatherChannels, type ChannelLayout } from "../precision.ts";
import { BinadeCounter, binadeOf } from "./measure.ts";
import type { ScaleSummary, ScaleValue } from "./types.ts";

/** Fields of the metadata that describe its layout, not the scales. */
const LAYOUT_FIELDS = new Set(["kind", "shape", "tile", "channelGroup"]);

/** The scales `format` chooses for x (its values before quantization), or undefined when it has no tensor scaling. */
export function scalesOf(
  format: ResolvedFormat, kernels: KernelSource, x: Float32Array, layout: ChannelLayout | undefined,
  state: Readonly<Record<string, BufferArray>> | undefined,
): Record<string, ScaleValue> | undefined {
  if (format.scaling.kind === "none") return undefined;
  const channels = quantizesByRow(format) && layout !== undefined ? layout.channels : 1;
  const values = channels > 1 && layout!.outer > 1 ? gatherChannels(x, layout!, "numerics") : x.slice();
  const loaded = kernels.load(format);
  const plan = loaded.compiled.plans.encode;
  const bindings: Record<string, BufferArray> = {};
  for (const b of plan.buffers) if (b.role === "input") bindings[b.name] = values;
  // The plan writes the state it is given: hand it copies so the run's own state stays untouched.
  for (const [name, buffer] of Object.entries(state ?? {})) bindings[name] = buffer.slice();
  const result = loaded.runPlan(plan, bindings, { n: values.length, channels, seed: 0 });
  const meta = metaFromBuffers(format, result.meta, { n: values.length, channels });
  const json = scalingKindOf(format.scaling).metaToJson(meta, format.scaling);
  const out: Record<string, ScaleValue> = {};
  for (const [field, value] of Object.entries(json)) {
    if (LAYOUT_FIELDS.has(field)) continue;
    const numbers = numbersOf(field, value, format);
    if (numbers === null) continue;
    out[field === "scaleCodes" ? "blockScales" : field] = numbers.length === 1 ? jsonNumber(numbers[0]) : summarize(numbers);
  }
  // Delayed scaling's state (the amax history before this call) is short: kept as it is.
  if (state !== undefined)
    for (const [name, buffer] of Object.entries(state))
      if (buffer instanceof Float32Array) out[`state.${name}`] = buffer.length <= 64 ? Array.from(buffer, (v) => Number(v.toPrecision(6))) : summarize(Array.from(buffer));
  return out;
}

/** A metadata field as numbers (block scale codes decoded through the scale format), or null when it holds none. */
function numbersOf(field: string, value: unknown, format: ResolvedFormat): number[] | null {
  const list = Array.isArray(value) ? value : [value];
  const numbers = list.map((v) => (typeof v === "number" ? v : typeof v === "string" ? Number(v) : Number.NaN));
  if (numbers.length === 0 || numbers.every(Number.isNaN)) return null;
  if (field === "scaleCodes" && "scaleFormat" in format.scaling) {
    const scaleFormat = format.scaling.scaleFormat as ResolvedFormat;
    // Scale formats have few codes (E8M0: 256) and one tensor many blocks: decode each code once.
    const values = new Map<number, number>();
    return numbers.map((code) => {
      let v = values.get(code);
      if (v === undefined) values.set(code, (v = decode(scaleFormat, code)));
      return v;
    });
  }
  return numbers;
}

/** A vector of scales as its count, range and histogram: of values when they are a few integers, else of log2. */
export function summarize(numbers: readonly number[]): ScaleSummary {
  const finite = numbers.filter(Number.isFinite);
  let min = Infinity;
  let max = -Infinity;
  for (const v of finite) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const integers = finite.length > 0 && finite.every(Number.isInteger) && max - min <= 64;
  const counter = new BinadeCounter();
  for (const v of finite) {
    if (integers) counter.add(v);
    else if (v !== 0) counter.add(binadeOf(v));
  }
  return { count: numbers.length, min: jsonNumber(min), max: jsonNumber(max), of: integers ? "value" : "log2", histogram: counter.histogram() };
}
