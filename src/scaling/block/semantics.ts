/**
 * Block scaling: the tensor (rows × cols, row-major) is cut into tiles — 1-D blocks of B along the
 * call's block axis ([1, B] along the last axis, [B, 1] along the first) or fixed r × c tiles —
 * visited in row-major order of the tile grid; a last, partial tile uses its own amax. amax is
 * over finite elements. Every operation below is one float32 operation unless it says "exact".
 *
 * floor / ceil / even (OCP Microscaling v1.0): the tile's scale is 2^E, exact — floor:
 *   E = ⌊log2 amax⌋ − emax(element); ceil: the smallest E with amax ≤ maxFinite·2^E; even: the
 *   nearer of the two in log2 — clamped to the scale format's exponents and stored in it. A tile
 *   holding NaN or ±Inf gets the NaN scale (all of it decodes to NaN, its elements are encoded
 *   unscaled); an all-zero tile gets the smallest scale. Elements: encode(x·2^−E) and
 *   decode·2^E, exact.
 * nearest-even, no tensor level (DeepSeek-V3 tiles): s = scale(amax / maxFinite) (amax = 0 gives
 *   s = 1), the quotient rounded to nearest even into the scale format; q = encode(x / s);
 *   value = q·s.
 * ceil-power-of-two: the same with s = the smallest power of two ≥ amax / maxFinite (at least
 *   2^−149, at most 2^127).
 * nearest-even with a tensor level (NVFP4): per tensor S = (maxFinite·scaleMax) / amax (amax = 0
 *   gives 1; capped at the largest float32); per tile d = scale((amax_tile / maxFinite)·S);
 *   e = S / d (0 where d = 0); q = encode(x·e); value = (q·d) / S.
 * NaN and ±Inf elements follow the element format's policies in the last three.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { floorLog2 } from "../../dsl/semantics/bits.ts";
import { codeArray } from "../../dsl/semantics/codes.ts";
import { decode, encode } from "../../dsl/semantics/scalar.ts";
import { ceilExponentRatio, significand } from "../../dsl/semantics/scaling/exponents.ts";
import type { BlockAxis, TensorShape } from "../kind.ts";
import type { BlockGeometry, BlockMeta, BlockScaling } from "./types.ts";

const f = Math.fround;
const MAX_F32 = f(3.4028234663852886e38);

/** The tile [rows, cols] one scale covers for a call. */
export function tileOf(granularity: BlockGeometry, axis: BlockAxis): readonly [number, number] {
  if ("tile" in granularity) return granularity.tile;
  return axis === 1 ? [1, granularity.block] : [granularity.block, 1];
}

/** Tiles along each axis of the grid. */
export function tileGrid(shape: TensorShape, tile: readonly [number, number]): { readonly rows: number; readonly cols: number } {
  return { rows: Math.ceil(shape.rows / tile[0]), cols: Math.ceil(shape.cols / tile[1]) };
}

/** Index of the tile holding element i. */
export function tileIndex(i: number, shape: TensorShape, tile: readonly [number, number]): number {
  const r = Math.floor(i / shape.cols);
  const c = i - r * shape.cols;
  return Math.floor(r / tile[0]) * Math.ceil(shape.cols / tile[1]) + Math.floor(c / tile[1]);
}

/** Finite amax of every tile, and whether it holds a NaN or ±Inf. */
function tileStatistics(x: Float32Array, shape: TensorShape, tile: readonly [number, number]) {
  const grid = tileGrid(shape, tile);
  const amax = new Float64Array(grid.rows * grid.cols);
  const nonFinite = new Uint8Array(amax.length);
  for (let i = 0; i < x.length; i++) {
    const t = tileIndex(i, shape, tile);
    const a = Math.abs(x[i]);
    if (!(a < Number.POSITIVE_INFINITY)) nonFinite[t] = 1;
    else if (a > amax[t]) amax[t] = a;
  }
  return { amax, nonFinite };
}

/** MX: the scale exponent of a tile from its finite amax, or null when it holds NaN or ±Inf. */
export function blockExponent(format: ResolvedFormat, scaling: BlockScaling, amax: number, nonFinite: boolean): number | null {
  if (nonFinite) return null;
  const scaleElement = scaling.scaleFormat.element;
  if (scaleElement.kind !== "float") throw new Error("block scale formats are floats (checked by resolve)");
  const minExponent = scaleElement.minNormalExponent;
  if (amax === 0) return minExponent;
  const elementMax = format.maxFinite;
  const e =
    scaling.scaleRounding === "floor" ? floorLog2(amax) - floorLog2(elementMax)
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

/** The smallest power of two ≥ s (a float32 ≥ 0), at least 2^−149 and at most 2^127. */
export function ceilPowerOfTwo(s: number): number {
  if (s <= 2 ** -149) return 2 ** -149;
  if (s >= 2 ** 127) return 2 ** 127;
  const e = floorLog2(s);
  return Math.min(s === 2 ** e ? s : 2 ** (e + 1), 2 ** 127);
}

/** The per-tensor scale S of a format with a level above its blocks (1 without one). */
export function tensorScaleOf(format: ResolvedFormat, scaling: BlockScaling, x: Float32Array): number {
  if (scaling.tensorScale === null) return 1;
  let amax = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > amax && a < Number.POSITIVE_INFINITY) amax = a;
  }
  if (amax === 0) return 1;
  return Math.min(f(f(format.maxFinite * scaling.scaleFormat.maxFinite) / amax), MAX_F32);
}

/** The scale code of a tile with finite amax `amax` (null exponent = MX NaN tile). */
function scaleCode(format: ResolvedFormat, scaling: BlockScaling, amax: number, nonFinite: boolean, tensorScale: number): number {
  const scaleFormat = scaling.scaleFormat;
  switch (scaling.scaleRounding) {
    case "floor":
    case "ceil":
    case "even": {
      const e = blockExponent(format, scaling, amax, nonFinite);
      return e === null ? encode(scaleFormat, Number.NaN) : encode(scaleFormat, 2 ** e);
    }
    case "nearest-even":
      if (scaling.tensorScale !== null) return encode(scaleFormat, f(f(amax / format.maxFinite) * tensorScale));
      return encode(scaleFormat, amax === 0 ? 1 : f(amax / format.maxFinite));
    case "ceil-power-of-two":
      return encode(scaleFormat, amax === 0 ? 1 : ceilPowerOfTwo(f(amax / format.maxFinite)));
  }
}

/** How an element is scaled before encoding and after decoding, for one tile's scale. */
interface TileScale {
  readonly down: (x: number) => number;
  readonly up: (q: number) => number;
}

/** The element transforms of a tile whose scale decodes to `scale`. */
export function tileScale(scaling: BlockScaling, scale: number, tensorScale: number): TileScale {
  if (scaling.tensorScale !== null) {
    const e = scale === 0 ? 0 : f(tensorScale / scale);
    return { down: (x) => f(x * e), up: (q) => f(f(q * scale) / tensorScale) };
  }
  if (scaling.scaleRounding === "floor" || scaling.scaleRounding === "ceil" || scaling.scaleRounding === "even") {
    // 2^E, exact; a NaN tile's elements are encoded unscaled and decode to NaN.
    const down = Number.isNaN(scale) ? 1 : 1 / scale;
    return { down: (x) => x * down, up: (q) => q * scale };
  }
  return { down: (x) => f(x / scale), up: (q) => f(q * scale) };
}

/** The metadata of x (the tile scale codes and the tensor scale) for a call. */
export function blockScales(format: ResolvedFormat, scaling: BlockScaling, x: Float32Array, shape: TensorShape, axis: BlockAxis): BlockMeta {
  const tile = tileOf(scaling.granularity, axis);
  const { amax, nonFinite } = tileStatistics(x, shape, tile);
  const tensorScale = tensorScaleOf(format, scaling, x);
  const scaleCodes = codeArray(scaling.scaleFormat.bits, amax.length);
  for (let t = 0; t < amax.length; t++) scaleCodes[t] = scaleCode(format, scaling, amax[t], nonFinite[t] === 1, tensorScale);
  return { kind: "block", shape, tile, scaleCodes, tensorScale };
}

/** Each tile's element transforms from the metadata. */
export function tileScales(scaling: BlockScaling, meta: BlockMeta): readonly TileScale[] {
  return Array.from(meta.scaleCodes, (code) => tileScale(scaling, decode(scaling.scaleFormat, code), meta.tensorScale));
}
