/**
 * Tensor-level quantize / dequantize / fakeQuantize: the scaling kind computes its metadata from
 * the tensor, then every element is encoded with the format's rounding. Element i of a tensor
 * draws its stochastic-rounding bits from counterRandom(seed, i).
 */
import { match } from "ts-pattern";
import type { ResolvedFormat, Rounding } from "../resolved.ts";
import { InputError } from "../errors.ts";
import { codeArray, type CodeArray } from "./codes.ts";
import { counterRandom } from "./random.ts";
import { decode, encode } from "./scalar.ts";
import type { ScaleMeta, ScalingState, TensorLayout } from "./scaling/meta.ts";
import { amaxScales } from "./scaling/amax.ts";
import { blockScales } from "./scaling/block.ts";
import { shiftSqueezeParameters, squeeze, unsqueeze } from "./scaling/shift-squeeze.ts";
import { shiftGroups } from "./scaling/shift-groups.ts";

export type { ScaleMeta, ScalingState, TensorLayout } from "./scaling/meta.ts";

export interface QuantizeOptions {
  /** Seed of the stochastic-rounding generator (default 0). */
  readonly seed?: number;
  /** Leading-axis slices for per-channel and per-group scaling (default 1). */
  readonly channels?: number;
  /** Delayed amax history from the previous call. */
  readonly state?: ScalingState;
  /** Overrides the format's rounding (a recipe may ask for stochastic gradients). */
  readonly rounding?: Rounding;
}

export interface Quantized {
  readonly codes: CodeArray;
  readonly meta: ScaleMeta;
  /** The state to pass to the next call (delayed amax scaling only). */
  readonly state: ScalingState | undefined;
}

/** Encodes a float32 tensor with the format's scaling and returns the scale metadata. */
export function quantize(format: ResolvedFormat, x: Float32Array, options: QuantizeOptions = {}): Quantized {
  const layout = layoutOf(x.length, options.channels);
  const seed = options.seed ?? 0;
  const rounding = options.rounding ?? format.rounding;
  const codes = codeArray(format.bits, x.length);
  const encodeAt = (i: number, v: number) => {
    codes[i] = encode(format, v, { rounding, random: rounding.mode === "stochastic" ? counterRandom(seed, i) : undefined });
  };
  const f = Math.fround;
  const result = match(format.scaling)
    .with({ kind: "none" }, () => {
      for (let i = 0; i < x.length; i++) encodeAt(i, x[i]);
      return { meta: { kind: "none" } as const, state: undefined };
    })
    .with({ kind: "amax" }, (scaling) => {
      const { meta, state } = amaxScales(format, scaling, x, layout, options.state);
      const per = x.length / meta.scale.length;
      for (let i = 0; i < x.length; i++) encodeAt(i, f(x[i] * meta.scale[Math.floor(i / per)]));
      return { meta, state };
    })
    .with({ kind: "block" }, (scaling) => {
      const { exponents, scaleCodes } = blockScales(format, scaling, x);
      for (let i = 0; i < x.length; i++) encodeAt(i, x[i] * 2 ** -(exponents[Math.floor(i / scaling.blockSize)] ?? 0));
      return { meta: { kind: "block" as const, blockSize: scaling.blockSize, scaleCodes }, state: undefined };
    })
    .with({ kind: "shift-squeeze" }, (scaling) => {
      const { alpha, beta } = shiftSqueezeParameters(x, scaling.targetMaxLog2);
      for (let i = 0; i < x.length; i++) encodeAt(i, squeeze(x[i], alpha, beta));
      return { meta: { kind: "shift-squeeze" as const, alpha, beta }, state: undefined };
    })
    .with({ kind: "shift-groups" }, (scaling) => {
      const { channelGroup, groupExponent } = shiftGroups(format, scaling.groups, x, layout);
      const per = x.length / layout.channels;
      for (let i = 0; i < x.length; i++) encodeAt(i, x[i] * 2 ** -groupExponent[channelGroup[Math.floor(i / per)]]);
      return { meta: { kind: "shift-groups" as const, channelGroup, groupExponent }, state: undefined };
    })
    .exhaustive();
  return { codes, ...result };
}

/** Decodes codes back to float32 values with the metadata quantize returned. */
export function dequantize(format: ResolvedFormat, codes: ArrayLike<number>, meta: ScaleMeta, options: Pick<QuantizeOptions, "channels"> = {}): Float32Array {
  const n = codes.length;
  const out = new Float32Array(n);
  const value = (i: number) => decode(format, codes[i]);
  match(meta)
    .with({ kind: "none" }, () => {
      for (let i = 0; i < n; i++) out[i] = value(i);
    })
    .with({ kind: "amax" }, (m) => {
      const per = n / m.scaleInv.length;
      for (let i = 0; i < n; i++) out[i] = value(i) * m.scaleInv[Math.floor(i / per)];
    })
    .with({ kind: "block" }, (m) => {
      if (format.scaling.kind !== "block") throw new Error(`${format.name} has no block scaling`);
      const scaleFormat = format.scaling.scaleFormat;
      for (let i = 0; i < n; i++) out[i] = value(i) * decode(scaleFormat, m.scaleCodes[Math.floor(i / m.blockSize)]);
    })
    .with({ kind: "shift-squeeze" }, (m) => {
      for (let i = 0; i < n; i++) out[i] = unsqueeze(value(i), m.alpha, m.beta);
    })
    .with({ kind: "shift-groups" }, (m) => {
      const per = n / layoutOf(n, options.channels ?? m.channelGroup.length).channels;
      for (let i = 0; i < n; i++) out[i] = value(i) * 2 ** m.groupExponent[m.channelGroup[Math.floor(i / per)]];
    })
    .exhaustive();
  return out;
}

/** quantize then dequantize: the values a tensor takes when stored in the format. */
export function fakeQuantize(format: ResolvedFormat, x: Float32Array, options: QuantizeOptions = {}) {
  const q = quantize(format, x, options);
  return { values: dequantize(format, q.codes, q.meta, options), meta: q.meta, state: q.state };
}

function layoutOf(length: number, channels = 1): TensorLayout {
  if (!Number.isInteger(channels) || channels < 1 || length % channels !== 0)
    throw new InputError({ where: "channels", message: `${channels} channels do not divide a tensor of ${length} elements` });
  return { length, channels };
}
