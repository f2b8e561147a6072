/**
 * Formats as functions: load a built-in or a spec file, and encode, decode and fake-quantize
 * values with the exact semantics (src/dsl/semantics) — what `numforge encode` / `decode` print.
 * Options are checked by the CLI's own flag rules (src/cli/options.ts), so a library call and a
 * command line refuse the same things with the same message.
 */
import * as Effect from "effect/Effect";
import type { ParsedArgs } from "../cli/command.ts";
import { attempt } from "../cli/attempt.ts";
import { UsageError } from "../cli/errors.ts";
import { affineFlags, channelsFlag, overflowFlag, roundingFlag, seedFlag } from "../cli/options.ts";
import { metaFromJson, metaToJson } from "../cli/meta-json.ts";
import { InputError } from "../dsl/errors.ts";
import { createRegistry, type Registry } from "../dsl/registry.ts";
import type { Overflow, ResolvedFormat } from "../dsl/resolved.ts";
import { counterRandom } from "../dsl/semantics/random.ts";
import { decode as decodeScalar, encode as encodeScalar } from "../dsl/semantics/scalar.ts";
import { dequantize, quantize, type ScaleMeta, type ScalingState } from "../dsl/semantics/tensor.ts";
import { inputError, runAsync, runSync } from "./errors.ts";

/** A resolved format: the spec's facts and every derived constant (max finite, code count, …). */
export type Format = ResolvedFormat;
/** The scale metadata encode returns with the codes of a scaled format ({ kind: "none" } otherwise). */
export type Meta = ScaleMeta;
/** Delayed amax history, carried from one encode of a tensor to the next. */
export type State = ScalingState;

/** A rounding mode as the CLI spells it; `stochastic:B` draws B random bits per element. */
export type RoundingOption = "nearest-even" | "nearest-away" | "toward-zero" | "toward-positive" | "toward-negative" | "odd" | `stochastic:${number}`;

export interface EncodeOptions {
  /** Overrides the format's rounding (posits only round to nearest-even). */
  readonly rounding?: RoundingOption;
  /** Overrides the format's overflow (unscaled formats only). */
  readonly overflow?: Overflow;
  /** u32 seed of the stochastic-rounding generator; element i draws counterRandom(seed, i). Default 0. */
  readonly seed?: number;
  /** Unscaled formats: divide each value by this (in float32) before encoding. */
  readonly scale?: number;
  /** Int formats: add this after rounding (clamped to the format's range). */
  readonly zeroPoint?: number;
  /** Scaled formats: leading-axis slices for per-channel and per-group scales (default 1). */
  readonly channels?: number;
  /** Delayed amax scaling: the state the previous encode of this tensor returned. */
  readonly state?: State;
}

export interface DecodeOptions {
  /** Unscaled formats: multiply each value by this. */
  readonly scale?: number;
  /** Int formats: subtract this from each code's integer before scaling. */
  readonly zeroPoint?: number;
  /** Scaled formats: the channels the codes were encoded with. */
  readonly channels?: number;
}

export interface Encoded {
  /** One code per value, an integer in 0..2^bits − 1. */
  readonly codes: number[];
  readonly meta: Meta;
  /** Pass to the next encode of the same tensor (delayed amax scaling only). */
  readonly state: State | undefined;
}

export interface FakeQuantized {
  /** The values the input takes when stored in the format. */
  readonly values: number[];
  readonly meta: Meta;
  readonly state: State | undefined;
}

/**
 * A built-in format by name (`e4m3`, `mxfp8`, … as `numforge formats` lists them) or a spec file by
 * path. Rejects with a NumforgeError carrying the file, JSON pointer and what is allowed.
 */
export function loadFormat(nameOrPath: string, registry: Registry = createRegistry()): Promise<Format> {
  return runAsync(registry.get(nameOrPath));
}

/**
 * Encodes values into codes. Unscaled formats round each value once from the exact double; scaled
 * formats (amax, block, shift-squeeze, shift-groups) encode the values as one float32 tensor and
 * return its scale metadata.
 */
export function encode(format: Format, values: ArrayLike<number>, options: EncodeOptions = {}): Encoded {
  checkValues(values, "values");
  const command = "encode";
  return runSync(
    Effect.gen(function* () {
      const args = flags(options);
      const rounding = yield* roundingFlag(command, args, format);
      const overflow = yield* overflowFlag(command, args, format);
      const seed = yield* seedFlag(command, args);
      const affine = yield* affineFlags(command, args, format);
      const channels = yield* channelsFlag(command, args, format);
      if (format.scaling.kind === "none") {
        const random = (i: number) => (rounding.mode === "stochastic" ? counterRandom(seed, i) : undefined);
        const codes = Array.from(values, (x, i) => encodeScalar(format, x, { rounding, overflow, random: random(i), scale: affine.scale, zeroPoint: affine.zeroPoint }));
        return { codes, meta: { kind: "none" } as const, state: undefined };
      }
      if (options.overflow !== undefined)
        return yield* new UsageError({ command, message: `--overflow applies to unscaled formats; ${format.name} is encoded with its own overflow` });
      const q = yield* attempt(() => quantize(format, Float32Array.from(values), { seed, channels, rounding, state: options.state }));
      return { codes: Array.from(q.codes), meta: q.meta, state: q.state };
    }),
  );
}

/** Decodes codes into values; scaled formats need the meta their encode returned. */
export function decode(format: Format, codes: ArrayLike<number>, meta?: Meta, options: DecodeOptions = {}): number[] {
  const max = 2 ** format.bits - 1;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (!Number.isInteger(c) || c < 0 || c > max) inputError(`codes[${i}]`, `${String(c)} is not a code of ${format.name} (integers 0..${max})`);
  }
  const command = "decode";
  return runSync(
    Effect.gen(function* () {
      const args = flags(options);
      const affine = yield* affineFlags(command, args, format);
      if (format.scaling.kind === "none") return Array.from(codes, (c) => decodeScalar(format, c, { scale: affine.scale, zeroPoint: affine.zeroPoint }));
      const channels = yield* channelsFlag(command, args, format);
      if (meta === undefined) return inputError("meta", `${format.name} has ${format.scaling.kind} scaling: pass the meta its encode returned`);
      // The CLI's check of a meta read from JSON: every field against the format and the code count.
      const checked = yield* metaFromJson(metaToJson(format, meta), format, codes.length).pipe(Effect.mapError((e) => new InputError({ where: "decode", message: e.message })));
      return Array.from(yield* attempt(() => dequantize(format, codes, checked, { channels })));
    }),
  );
}

/** The values `values` take when stored in the format: decode(encode(values)), with its meta and state. */
export function fakeQuantize(format: Format, values: ArrayLike<number>, options: EncodeOptions = {}): FakeQuantized {
  const { codes, meta, state } = encode(format, values, options);
  const affine = { scale: options.scale, zeroPoint: options.zeroPoint, channels: options.channels };
  return { values: decode(format, codes, meta, affine), meta, state };
}

/** Library options as the parsed command line the CLI's flag rules check. */
function flags(options: EncodeOptions | DecodeOptions): ParsedArgs {
  const names: Record<string, string> = { rounding: "rounding", overflow: "overflow", seed: "seed", scale: "scale", zeroPoint: "zero-point", channels: "channels" };
  const map = new Map<string, string | true>();
  for (const [key, flag] of Object.entries(names)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) map.set(flag, String(value));
  }
  return { positionals: [], flags: map };
}

function checkValues(values: ArrayLike<number>, where: string): void {
  if (values === null || typeof values !== "object" || typeof values.length !== "number") inputError(where, "expected an array of numbers or a Float32Array");
  for (let i = 0; i < values.length; i++)
    if (typeof values[i] !== "number") inputError(`${where}[${i}]`, `${JSON.stringify(values[i]) ?? String(values[i])} is not a number`);
}
