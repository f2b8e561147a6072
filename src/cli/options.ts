/**
 * Typed readers for the flag values commands share (rounding, overflow, seed, scale, zero point,
 * channels), each checked against the format it will be used with.
 */
import * as Effect from "effect/Effect";
import type { Overflow, ResolvedFormat, Rounding } from "../dsl/resolved.ts";
import type { BlockAxis } from "../scaling/kind.ts";
import type { ParsedArgs } from "./command.ts";
import { excerpt } from "../dsl/errors.ts";
import { UsageError } from "./errors.ts";

type Check<A> = Effect.Effect<A, UsageError>;

/** A string flag's value, or undefined when absent. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === "string" ? value : undefined;
}

/** True when a boolean flag is present. */
export const booleanFlag = (args: ParsedArgs, name: string): boolean => args.flags.get(name) === true;

const usage = (command: string, message: string) => Effect.fail(new UsageError({ command, message }));

/** A flag holding a finite number, or undefined when absent. */
function numberFlag(command: string, args: ParsedArgs, name: string): Check<number | undefined> {
  const text = stringFlag(args, name);
  if (text === undefined) return Effect.succeed(undefined);
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) return usage(command, `--${name} must be a finite number (got "${excerpt(text)}")`);
  return Effect.succeed(value);
}

/** A flag holding an integer in [min, max], or undefined when absent. */
function integerFlag(command: string, args: ParsedArgs, name: string, min: number, max: number): Check<number | undefined> {
  return numberFlag(command, args, name).pipe(
    Effect.flatMap((value) =>
      value === undefined || (Number.isInteger(value) && value >= min && value <= max)
        ? Effect.succeed(value)
        : usage(command, `--${name} must be an integer in ${min}..${max} (got ${excerpt(stringFlag(args, name) ?? "")})`),
    ),
  );
}

const DETERMINISTIC_MODES = ["nearest-even", "nearest-away", "toward-zero", "toward-positive", "toward-negative", "odd"] as const;

/** --rounding: one of DETERMINISTIC_MODES | stochastic:BITS; posits only round to nearest-even, tables never stochastically. */
export function roundingFlag(command: string, args: ParsedArgs, format: ResolvedFormat): Check<Rounding> {
  const text = stringFlag(args, "rounding");
  if (text === undefined) return Effect.succeed(format.rounding);
  const stochastic = /^stochastic:(\d+)$/.exec(text);
  const rounding: Rounding | undefined =
    (DETERMINISTIC_MODES as readonly string[]).includes(text) ? { mode: text as (typeof DETERMINISTIC_MODES)[number], bits: 0 }
    : stochastic !== null ? { mode: "stochastic", bits: Number(stochastic[1]) }
    : undefined;
  if (rounding === undefined)
    return usage(command, `--rounding must be ${DETERMINISTIC_MODES.join(", ")} or stochastic:BITS (got "${excerpt(text)}")`);
  if (rounding.mode === "stochastic" && (rounding.bits < 1 || rounding.bits > 24))
    return usage(command, `stochastic rounding takes 1..24 random bits (got ${rounding.bits})`);
  if (format.element.kind === "posit" && rounding.mode !== "nearest-even")
    return usage(command, `${format.name} is a posit; posits always round to nearest-even on the bit pattern`);
  if (format.element.kind === "table" && rounding.mode === "stochastic")
    return usage(command, `${format.name} is a table (codebook); its values are not evenly spaced, so it takes a deterministic rounding`);
  return Effect.succeed(rounding);
}

/** --overflow: saturate | infinity | saturate-propagate; infinity needs a float format with an Inf or a NaN, saturate-propagate one with an Inf. */
export function overflowFlag(command: string, args: ParsedArgs, format: ResolvedFormat): Check<Overflow> {
  const text = stringFlag(args, "overflow");
  if (text === undefined) return Effect.succeed(format.overflow);
  if (text !== "saturate" && text !== "infinity" && text !== "saturate-propagate")
    return usage(command, `--overflow must be saturate, infinity or saturate-propagate (got "${excerpt(text)}")`);
  if (text === "saturate-propagate" && !format.hasInfinity)
    return usage(command, `--overflow saturate-propagate keeps ±Inf, and ${format.name} has no infinity; use saturate or infinity`);
  if (text === "infinity" && (format.element.kind !== "float" || (!format.hasInfinity && !format.hasNaN)))
    return usage(command, `--overflow infinity needs a float format with an infinity or a NaN; ${format.name} saturates`);
  return Effect.succeed(text);
}

/** --seed: the u32 key of the stochastic-rounding generator (default 0). */
export const seedFlag = (command: string, args: ParsedArgs): Check<number> =>
  integerFlag(command, args, "seed", 0, 2 ** 32 - 1).pipe(Effect.map((seed) => seed ?? 0));

/** --channels: leading-axis slices for per-channel / per-group scaling (scaled formats only). */
export function channelsFlag(command: string, args: ParsedArgs, format: ResolvedFormat): Check<number | undefined> {
  if (stringFlag(args, "channels") !== undefined && format.scaling.kind === "none")
    return usage(command, `--channels applies to formats with tensor scaling; ${format.name} has none`);
  return integerFlag(command, args, "channels", 1, 2 ** 31);
}

/** How a scaled call lays its n values out: rows (the channels of per-channel scales) and the axis of 1-D scale blocks. */
export interface TensorLayoutFlags {
  readonly channels: number | undefined;
  readonly blockAxis: BlockAxis;
}

/**
 * --shape R,C (the values as R rows × C columns, row-major; default one row), --channels R (the
 * same as --shape R,n/R) and --block-axis 0|1 (1-D scale blocks down columns or along rows; default 1,
 * the last axis). Scaled formats only.
 */
export function layoutFlags(command: string, args: ParsedArgs, format: ResolvedFormat, n: number): Check<TensorLayoutFlags> {
  return Effect.gen(function* () {
    const shapeText = stringFlag(args, "shape");
    const axisText = stringFlag(args, "block-axis");
    if ((shapeText !== undefined || axisText !== undefined) && format.scaling.kind === "none")
      return yield* usage(command, `--shape and --block-axis apply to formats with tensor scaling; ${format.name} has none`);
    const channelsGiven = yield* channelsFlag(command, args, format);
    if (channelsGiven !== undefined && shapeText !== undefined) return yield* usage(command, "give --shape R,C or --channels R, not both");
    if (axisText !== undefined && axisText !== "0" && axisText !== "1") return yield* usage(command, `--block-axis must be 0 (down columns) or 1 (along rows) (got "${excerpt(axisText)}")`);
    const blockAxis: BlockAxis = axisText === "0" ? 0 : 1;
    if (shapeText === undefined) return { channels: channelsGiven, blockAxis };
    const dims = shapeText.split(",").map((d) => Number(d.trim()));
    if (dims.length !== 2 || dims.some((d) => !Number.isInteger(d) || d < 1 || d > 2 ** 31))
      return yield* usage(command, `--shape must be R,C: two positive integers (got "${excerpt(shapeText)}")`);
    if (dims[0] * dims[1] !== n) return yield* usage(command, `--shape ${dims[0]},${dims[1]} holds ${dims[0] * dims[1]} values; stdin has ${n}`);
    return { channels: dims[0], blockAxis };
  });
}

/** The static affine mapping of an unscaled format: --scale S (positive) and --zero-point Z (int formats). */
export interface Affine {
  readonly scale: number | undefined;
  readonly zeroPoint: number | undefined;
}

/** --scale and --zero-point, refused for formats whose tensor scaling computes its own scales. */
export function affineFlags(command: string, args: ParsedArgs, format: ResolvedFormat): Check<Affine> {
  return Effect.gen(function* () {
    const scale = yield* numberFlag(command, args, "scale");
    const given = scale !== undefined || stringFlag(args, "zero-point") !== undefined;
    if (given && format.scaling.kind !== "none")
      return yield* usage(command, `--scale and --zero-point apply to unscaled formats; ${format.name} has ${format.scaling.kind} scaling, which computes its own scales`);
    if (scale !== undefined && !(scale > 0)) return yield* usage(command, `--scale must be positive (got ${scale})`);
    const el = format.element;
    if (stringFlag(args, "zero-point") !== undefined && el.kind !== "int")
      return yield* usage(command, `--zero-point applies to int formats; ${format.name} is a ${el.kind} format`);
    const zeroPoint = el.kind === "int" ? yield* integerFlag(command, args, "zero-point", el.minInt, el.maxInt) : undefined;
    return { scale, zeroPoint };
  });
}
