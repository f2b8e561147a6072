/**
 * Tensor-level quantize / dequantize / fakeQuantize: the scaling kind computes its metadata from
 * the tensor, then every element is encoded with the format's rounding. Element i of a tensor
 * draws its stochastic-rounding bits from counterRandom(seed, i).
 */
import type { ResolvedFormat, Rounding } from "../resolved.ts";
import { InputError } from "../errors.ts";
import { codeArray, type CodeArray } from "./codes.ts";
import { counterRandom } from "./random.ts";
import { decode, encode } from "./scalar.ts";
import type { ScaleMeta, ScalingState } from "./scaling/meta.ts";
import { scalingKindOf } from "../../scaling/registry.ts";
import type { BlockAxis, ScalingCall } from "../../scaling/kind.ts";

export type { ScaleMeta, ScalingState, TensorLayout } from "./scaling/meta.ts";

export interface QuantizeOptions {
  /** Seed of the stochastic-rounding generator (default 0). */
  readonly seed?: number;
  /** Rows of the tensor seen as a rows × (n / rows) matrix: the channels of per-channel scalings (default 1). */
  readonly channels?: number;
  /** The axis 1-D scale blocks run along: 1, within a row (default), or 0, down a column. */
  readonly blockAxis?: BlockAxis;
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
  const call = callOf(x.length, options);
  const seed = options.seed ?? 0;
  const rounding = options.rounding ?? format.rounding;
  const codes = codeArray(format.bits, x.length);
  const encodeAt = (i: number, v: number) => {
    codes[i] = encode(format, v, { rounding, random: rounding.mode === "stochastic" ? counterRandom(seed, i) : undefined });
  };
  const { meta, state } = scalingKindOf(format.scaling).quantize(format, format.scaling, x, call, encodeAt);
  return { codes, meta, state };
}

/** Decodes codes back to float32 values with the metadata quantize returned. */
export function dequantize(format: ResolvedFormat, codes: ArrayLike<number>, meta: ScaleMeta, options: Pick<QuantizeOptions, "channels" | "blockAxis"> = {}): Float32Array {
  if (meta.kind !== format.scaling.kind) throw new Error(`${format.name}: ${meta.kind} metadata for ${format.scaling.kind} scaling`);
  const out = new Float32Array(codes.length);
  scalingKindOf(format.scaling).dequantize(format, format.scaling, meta, callOf(codes.length, options), (i) => decode(format, codes[i]), out);
  return out;
}

/** quantize then dequantize: the values a tensor takes when stored in the format. */
export function fakeQuantize(format: ResolvedFormat, x: Float32Array, options: QuantizeOptions = {}) {
  const q = quantize(format, x, options);
  return { values: dequantize(format, q.codes, q.meta, options), meta: q.meta, state: q.state };
}

/** The call as the scaling kinds see it: the tensor as channels × (n / channels), the block axis, the state. */
export function callOf(length: number, options: Pick<QuantizeOptions, "channels" | "blockAxis" | "state">): ScalingCall {
  const channels = options.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1 || length % channels !== 0)
    throw new InputError({ where: "channels", message: `${channels} channels do not divide a tensor of ${length} elements` });
  const blockAxis = options.blockAxis ?? 1;
  if (blockAxis !== 0 && blockAxis !== 1) throw new InputError({ where: "blockAxis", message: `the block axis must be 0 or 1 (got ${String(blockAxis)})` });
  return { shape: { rows: channels, cols: length / channels }, blockAxis, state: options.state };
}
