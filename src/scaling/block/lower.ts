/**
 * Block scaling (semantics.ts) as kernels. The tensor is `channels` rows of `channel_length`;
 * tiles are numbered in row-major order of the tile grid. 1-D blocks take their orientation from
 * the call's `block_axis` ([B, 1] tiles when it is 0, [1, B] otherwise). Per-tile kernels loop
 * over tiles (tile t's corner from t by integer division), per-element kernels over row segments
 * (one row × one tile column: its tile from the segment number likewise), so every loop runs
 * across GPU invocations. Innermost loops run over consecutive elements `for i in [from, to)`
 * with every load and store at i and the tile's scale computed before them, the form the wasm
 * vectorizer runs 4 lanes at a time (integer divisions once per segment, none per element).
 *
 * block_statistics(x, tile_amax, channels, channel_length, block_axis)      finite amax per tile
 *     (MX: +∞ marks a tile holding NaN or ±Inf)
 * block_tensor_amax(tile_amax, tensor_amax, …), block_tensor_scale(tensor_amax, tensor_scale)   S (tensor level only,
 *     after the statistics: the tensor's amax is the maximum of the tiles')
 * block_finalize(tile_amax, [tensor_scale,] scale_codes, [tile_exponent,] channels, channel_length, block_axis)
 *     the scale code of every tile (MX: and its exponent, 0 for NaN tiles)
 * block_encode(x, tile_exponent | scale_codes, [tensor_scale,] codes, …, seed)
 * block_decode(codes, scale_codes, [tensor_scale,] values, …)
 * block_fake_quantize(x, tile_exponent | scale_codes, … values, …, seed)
 *
 * With 1-D blocks, [B, 1] blocks (block_axis 0) have kernels of their own, block_statistics_columns
 * (B ≤ MAX_UNROLLED_BLOCK) and block_{encode,decode,fake_quantize}_columns, whose innermost loops
 * load each tile's values or scale factors (block_*_factors, once per tile before them) at the
 * loop index plus an offset fixed for the loop; so do
 * [1, B] blocks lying end to end (whole blocks per row, or one row: flatBlocks), block_statistics_flat
 * and block_{encode,decode,fake_quantize}_flat, block t the elements from t·B on; every plan runs
 * every form, and the forms for other calls have no iterations.
 *
 * Stochastically rounded 1-D blocks also have block_fake_quantize_columns_lanes, the [B, 1] form
 * with each draw keyed by the element's index in the transposed copy, for the fakeQuantizeColumns
 * plan (a column as a lane: a recipe's errors in a column layout, quantized where they lie).
 */
import type { ResolvedFloat, ResolvedFormat } from "../../dsl/resolved.ts";
import { decode, encode } from "../../dsl/semantics/scalar.ts";
import {
  Builder, add, and, asI32, asU32, bitsOf, convert, div, eq, f32, fromBits, ge, i32, kernel, gt, le, load, lt, max, min, mul, ne, neg, or, select, shl, shr, sub, u32,
} from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Param } from "../../codegen/ir/nodes.ts";
import type { Step, StepArg } from "../../codegen/plan.ts";
import { lowerDecodeElement, lowerEncodeElement } from "../../codegen/lower/element.ts";
import { lowerFakeQuantizeElement, lowerFakeQuantizeTimes, type FactorRange } from "../../codegen/lower/fake-element.ts";
import { pow2 } from "../../codegen/lower/pow2.ts";
import {
  CHANNELS, CHANNEL_LENGTH, CODES, FINITE_BITS_AMAX, SEED, VALUES, X, arg, buffer, codeStorage, codesBuffer, finiteAmax, forBlocks, forGroups, lowerDecodeScale, randomSource, reads,
  scalar, step, valuesBuffer, writes, xBuffer, type BitsAmax, type ScalingLowering,
} from "../../codegen/lower/scaling/common.ts";
import { assertScaledEncodeExact } from "../../codegen/lower/scaling/exact.ts";
import { lowerBlockExponent } from "../../codegen/lower/scaling/exponents.ts";
import { BLOCK_META, blockMetaLayout, tileSize } from "./meta.ts";
import { isPowerOfTwoRule } from "./rules.ts";
import type { BlockScaling } from "./types.ts";

const TILE_AMAX = "tile_amax";
const TILE_EXPONENT = "tile_exponent";
const TENSOR_AMAX = "tensor_amax";
const BLOCK_AXIS = scalar("block_axis", "i32");
const INF = Number.POSITIVE_INFINITY;
/** The call's blocks lie along rows ([B, 1]: block_axis 0). */
const alongRows = () => eq(arg("i32", BLOCK_AXIS.name), i32(0));
const MAX_F32 = 3.4028234663852886e38;

/** The tile grid of a call, as lets: tile rows × cols, tiles per grid row, number of tiles. */
interface Grid {
  readonly rows: Expr;
  readonly cols: Expr;
  readonly tileRows: Expr;
  readonly tileCols: Expr;
  readonly gridCols: Expr;
  readonly tiles: Expr;
}

/**
 * The grid from the call scalars: a fixed tile, or a 1-D block laid along the block axis — or, for
 * a kernel that runs only when the axis is 1 (`rowBlocks`), the fixed [1, B] tile.
 */
function gridOf(b: Builder, scaling: BlockScaling, rowBlocks = false): Grid {
  const rows = arg("i32", CHANNELS.name);
  const cols = arg("i32", CHANNEL_LENGTH.name);
  const g = scaling.granularity;
  const [tileRows, tileCols] =
    "tile" in g ? [i32(g.tile[0]), i32(g.tile[1])]
    : rowBlocks ? [i32(1), i32(g.block)]
    : [b.let("tile_rows", select(alongRows(), i32(g.block), i32(1))), b.let("tile_cols", select(alongRows(), i32(1), i32(g.block)))];
  const gridCols = b.let("grid_cols", div(sub(add(cols, tileCols), i32(1)), tileCols));
  const gridRows = b.let("grid_rows", div(sub(add(rows, tileRows), i32(1)), tileRows));
  return { rows, cols, tileRows, tileCols, gridCols, tiles: b.let("tiles", mul(gridRows, gridCols)) };
}

/** body(t, i) for every element i of tile t, for the first `count` tiles (one loop over tiles, each tile's elements in row-major order). */
function forTiles(b: Builder, grid: Grid, count: Expr, body: (tile: Expr, inner: Builder) => { element: (i: Expr, inner: Builder) => void; after: (inner: Builder) => void }): void {
  if (isOne(grid.tileRows)) return forRowTiles(b, grid, count, body);
  b.for("t", i32(0), count, (t, tb) => {
    const tileRow = tb.let("tile_row", div(t, grid.gridCols));
    const r0 = tb.let("r0", mul(tileRow, grid.tileRows));
    const c0 = tb.let("c0", mul(sub(t, mul(tileRow, grid.gridCols)), grid.tileCols));
    const r1 = tb.let("r1", min(add(r0, grid.tileRows), grid.rows));
    const c1 = tb.let("c1", min(add(c0, grid.tileCols), grid.cols));
    const { element, after } = body(t, tb);
    tb.for("r", r0, r1, (r, rb) => {
      const base = rb.let("row_base", mul(r, grid.cols));
      rb.for("i", add(base, c0), add(base, c1), element);
    });
    after(tb);
  });
}

/**
 * forTiles for [1, B] tiles (one row each). Where the tiles lie end to end — whole tiles per row
 * (cols a multiple of B) or a single row — tile t is the elements [t·B, min(t·B + B, n)), found
 * without the integer division by the grid's width that the general form takes per tile (an
 * i32.div_s costs about as much as the loads of a 16-element tile); a branch the same for every tile chooses.
 */
function forRowTiles(b: Builder, grid: Grid, count: Expr, body: (tile: Expr, inner: Builder) => { element: (i: Expr, inner: Builder) => void; after: (inner: Builder) => void }): void {
  const wholeTiles = eq(sub(grid.cols, mul(div(grid.cols, grid.tileCols), grid.tileCols)), i32(0));
  const endToEnd = b.let("end_to_end", or(wholeTiles, eq(grid.rows, i32(1))));
  const n = b.let("n", mul(grid.rows, grid.cols));
  b.for("t", i32(0), count, (t, tb) => {
    const from = tb.var("from", i32(0));
    const to = tb.var("to", i32(0));
    tb.if(
      endToEnd,
      (flat) => {
        const start = flat.let("start", mul(t, grid.tileCols));
        flat.assign(from.name, start);
        flat.assign(to.name, min(add(start, grid.tileCols), n));
      },
      (ragged) => {
        const row = ragged.let("tile_row", div(t, grid.gridCols));
        const c0 = ragged.let("c0", mul(sub(t, mul(row, grid.gridCols)), grid.tileCols));
        const base = ragged.let("row_base", mul(row, grid.cols));
        ragged.assign(from.name, add(base, c0));
        ragged.assign(to.name, add(base, min(add(c0, grid.tileCols), grid.cols)));
      },
    );
    const { element, after } = body(t, tb);
    tb.for("i", from.ref, to.ref, element);
    after(tb);
  });
}

/**
 * body(tile, inner) then element(i) for every i of the segment, for the first `count` row segments in order:
 * segment s is row s / gridCols, tile column s mod gridCols, elements [row·cols + c0, row·cols +
 * min(c0 + tileCols, cols)). The segments tile the elements in order, each nonempty (the WGSL
 * schedule's innerRange recognizes this form and runs segments across invocations).
 */
function forSegments(b: Builder, grid: Grid, count: Expr, body: (tile: Expr, inner: Builder) => (i: Expr, inner: Builder) => void): void {
  b.for("s", i32(0), count, (s, sb) => {
    const row = sb.let("row", div(s, grid.gridCols));
    const tileCol = sb.let("tile_col", sub(s, mul(row, grid.gridCols)));
    const c0 = sb.let("c0", mul(tileCol, grid.tileCols));
    const base = sb.let("row_base", mul(row, grid.cols));
    // With one row per tile, tile row·gridCols + tile column is s itself.
    const tile = isOne(grid.tileRows) ? s : sb.let("tile", add(mul(div(row, grid.tileRows), grid.gridCols), tileCol));
    const element = body(tile, sb);
    sb.for("i", add(base, c0), add(base, min(add(c0, grid.tileCols), grid.cols)), element);
  });
}

const TILE_PARAMS = [CHANNELS, CHANNEL_LENGTH, BLOCK_AXIS];

/**
 * Whether the call's blocks are [1, B] blocks lying end to end over the tensor — whole blocks per
 * row (cols a multiple of B) or a single row —, so that block t is the elements [t·B, min(t·B + B,
 * n)): then the `_flat` kernels take them as consecutive runs (forBlocks, no corner to compute per
 * block) and the per-tile and per-segment kernels have no iterations.
 */
function flatBlocks(b: Builder, block: number): Expr {
  const cols = arg("i32", CHANNEL_LENGTH.name);
  const endToEnd = or(eq(sub(cols, mul(div(cols, i32(block)), i32(block))), i32(0)), eq(arg("i32", CHANNELS.name), i32(1)));
  return b.let("flat", and(ne(arg("i32", BLOCK_AXIS.name), i32(0)), endToEnd));
}

/** n where flatBlocks, else 0: the extent of a `_flat` kernel's loop. */
const flatLength = (b: Builder, block: number) => b.let("flat_n", select(flatBlocks(b, block), mul(arg("i32", CHANNELS.name), arg("i32", CHANNEL_LENGTH.name)), i32(0)));

const isOne = (e: Expr) => e.kind === "const" && e.value === 1;

/**
 * The finite amax of each tile (MX: +∞ when it holds NaN or ±Inf) as a maximum of |x|'s float32
 * bits (tileAmaxRule): for non-negative floats the bits order as the values, and NaN and ±Inf lie
 * above every finite value (0x7f800000 and up). One exact integer maximum, which the vectorizer
 * keeps per lane; ±0 gives +0, as the running maximum from +0 did. With 1-D blocks of up to
 * MAX_UNROLLED_BLOCK elements this kernel takes [1, B] blocks only, block_statistics_columns the
 * [B, 1] ones; [1, B] blocks end to end go to block_statistics_flat.
 */
function lowerStatistics(scaling: BlockScaling): Kernel[] {
  const g = scaling.granularity;
  const columns = "block" in g && g.block <= MAX_UNROLLED_BLOCK ? g.block : null;
  const tiles = kernel("block_statistics", [reads(X, "f32"), writes(TILE_AMAX, "f32"), ...TILE_PARAMS], (b) => {
    const grid = gridOf(b, scaling, columns !== null);
    const count = "tile" in g ? grid.tiles : select(flatBlocks(b, g.block), i32(0), columns === null ? grid.tiles : select(alongRows(), i32(0), grid.tiles));
    forTiles(b, grid, count, (t, body) => {
      const rule = tileAmaxRule(scaling);
      const amax = body.var("amax_bits", rule.start);
      return {
        element: (i, inner) => inner.assign(amax.name, max(amax.ref, rule.candidate(inner, load("f32", X, i)))),
        after: (after) => after.store(TILE_AMAX, t, rule.amax(amax.ref)),
      };
    });
  });
  if ("tile" in g) return [tiles];
  return [tiles, lowerFlatStatistics(scaling, g.block), ...(columns === null ? [] : columnStatisticsWidths(columns).map((width, k, all) => lowerColumnStatistics(scaling, columns, width, all[k - 1] ?? 0)))];
}

/**
 * The band heights the [B, 1] statistics unroll: a band has B rows but the tensor's last may have
 * fewer (a convolution's im2col matrix blocked along K = 9 or 36 rows by 1×128 blocks has only
 * that band), and a kernel unrolled for B loads B per tile whatever the band holds. So one kernel
 * per height in COLUMN_BAND_HEIGHTS below B, and B itself, each taking the bands whose rows exceed
 * the previous height: a band of 4 rows under B = 128 loads 8 per tile instead of 128, one of 36 loads 64.
 */
function columnStatisticsWidths(block: number): number[] {
  return [...COLUMN_BAND_HEIGHTS.filter((h) => h < block), block];
}
const COLUMN_BAND_HEIGHTS = [8, 16, 32, 64];

/** Blocks up to this size (and a multiple of 4) take flat statistics one block per SIMD lane. */
const MAX_LANE_BLOCK = 16;

/**
 * The amax of [1, B] blocks lying end to end (flatBlocks), block t from element t·B, the maximum
 * as block_statistics keeps it. Small blocks (B ≤ MAX_LANE_BLOCK, a multiple of 4) write the
 * update as a select of the larger, which the wasm vectorizer does not take for a maximum it may
 * split into lane partials, so it runs the loop over blocks 4 at a time, one block per lane
 * (vectorize-blocks.ts) — for 16-element blocks ~1.4× the per-block form, whose 4 partials' fold
 * and loop setup cost more than the block's own 4 vector maxima; larger blocks keep the maximum
 * and its lane partials. Either is the exact maximum of the same integers.
 */
function lowerFlatStatistics(scaling: BlockScaling, block: number): Kernel {
  const perLane = block % 4 === 0 && block <= MAX_LANE_BLOCK;
  return kernel("block_statistics_flat", [reads(X, "f32"), writes(TILE_AMAX, "f32"), ...TILE_PARAMS], (b) => {
    forBlocks(b, flatLength(b, block), block, (t, start, end, body) => {
      const rule = tileAmaxRule(scaling);
      const amax = body.var("amax_bits", rule.start);
      body.for("i", start, end, (i, inner) => {
        const c = rule.candidate(inner, load("f32", X, i));
        // As i32s: the finite rule's candidates are i32 already, MX's are |x|'s bits, below 2^31.
        inner.assign(amax.name, perLane ? select(gt(asI32(amax.ref), asI32(c)), amax.ref, c) : max(amax.ref, c));
      });
      body.store(TILE_AMAX, t, rule.amax(amax.ref));
    });
  });
}

/** The largest [B, 1] block whose statistics unroll B loads per tile (larger ones stay with block_statistics). */
const MAX_UNROLLED_BLOCK = 128;

const INFINITY_BITS = 0x7f800000;

/** MX's tile amax: the u32 maximum of |x|'s bits, in which NaN and ±Inf (0x7f800000 and up) lie above every finite value and give the +∞ mark. */
const MARKED_BITS_AMAX: BitsAmax = {
  start: u32(0),
  candidate: (b, x) => b.let("abs_bits", and(bitsOf(x), u32(0x7fffffff))),
  amax: (bits) => select(ge(bits, u32(INFINITY_BITS)), f32(INF), fromBits(bits)),
};

/** How a tile's amax is kept on bits: MX's marked maximum, else the finite amax every amax statistic keeps. */
const tileAmaxRule = (scaling: BlockScaling): BitsAmax => (isPowerOfTwoRule(scaling.scaleRounding) ? MARKED_BITS_AMAX : FINITE_BITS_AMAX);

/**
 * [B, 1] blocks' statistics (block_axis 0) band by band (a band: B rows, one tile per column),
 * across the band's tiles: tile t's elements lie at t + offset_k (row k of the band, offset_k
 * fixed for the band; rows past the band's last repeat it, which a maximum takes alike), so the
 * loop over t loads consecutive elements and vectorizes — 4 tiles at a time, `height` loads each.
 * This kernel takes the bands of more than `below` and at most `height` rows (columnStatisticsWidths).
 */
function lowerColumnStatistics(scaling: BlockScaling, block: number, height: number, below: number): Kernel {
  const name = height === block ? "block_statistics_columns" : `block_statistics_columns_${height}`;
  return kernel(name, [reads(X, "f32"), writes(TILE_AMAX, "f32"), ...TILE_PARAMS], (b) => {
    const rows = arg("i32", CHANNELS.name);
    const cols = arg("i32", CHANNEL_LENGTH.name);
    const bands = b.let("bands", div(sub(add(rows, i32(block)), i32(1)), i32(block)));
    // Every band but the last has B rows; the last has last_rows, and is this kernel's where those
    // exceed `below` (the B kernel takes every full band, and the last where no smaller kernel does).
    const lastRows = b.let("last_rows", sub(rows, mul(sub(bands, i32(1)), i32(block))));
    const lastMine = b.let("last_mine", and(gt(lastRows, i32(below)), le(lastRows, i32(height))));
    const [first, end] = height === block ? [i32(0), select(lastMine, bands, sub(bands, i32(1)))] : [select(lastMine, sub(bands, i32(1)), bands), bands];
    b.for("band", first, select(alongRows(), end, first), (band, gb) => {
      const r0 = gb.let("r0", mul(band, i32(block)));
      const bandRows = gb.let("band_rows", sub(min(add(r0, i32(block)), rows), r0));
      const tile0 = gb.let("tile0", mul(band, cols));
      const offsets = Array.from({ length: height }, (_, k) => gb.let(`row_offset_${k}`, sub(mul(add(r0, min(i32(k), sub(bandRows, i32(1)))), cols), tile0)));
      gb.for("t", tile0, add(tile0, cols), (t, tb) => {
        // A pairwise tree of maxima (independent operations for the CPU to overlap).
        // The rule's start joins the tree: with the finite rule, a tile of only NaN and ±Inf gives 0.
        const rule = tileAmaxRule(scaling);
        let level = [rule.start, ...offsets.map((o) => rule.candidate(tb, load("f32", X, add(t, o))))];
        while (level.length > 1) level = Array.from({ length: Math.ceil(level.length / 2) }, (_, j) => (2 * j + 1 < level.length ? tb.let("amax_bits", max(level[2 * j], level[2 * j + 1])) : level[2 * j]));
        tb.store(TILE_AMAX, t, rule.amax(level[0]));
      });
    });
  });
}

/**
 * The tensor's finite amax as the maximum of the tiles' finite amaxes (tile_amax, written by the
 * statistics before it): the tiles partition the tensor and a maximum is exact in any grouping, so
 * this is the semantics' maximum over every element, from one value per tile instead of a second
 * pass over x. One group of all the tiles, the form a GPU runs as a two-pass reduction.
 */
function lowerTensorAmax(scaling: BlockScaling): Kernel {
  return kernel("block_tensor_amax", [reads(TILE_AMAX, "f32"), writes(TENSOR_AMAX, "f32"), ...TILE_PARAMS], (b) => {
    const tiles = gridOf(b, scaling).tiles;
    forGroups(b, i32(1), (g, start, body) => body.store(TENSOR_AMAX, g, finiteAmax(body, TILE_AMAX, start, add(start, tiles))), tiles);
  });
}

/** S = (maxFinite·scaleMax) / amax (1 for 0), capped at the largest float32, from the tensor's finite amax. */
function lowerTensorScale(format: ResolvedFormat, scaling: BlockScaling): Kernel {
  const numerator = Math.fround(format.maxFinite * scaling.scaleFormat.maxFinite);
  return kernel("block_tensor_scale", [reads(TENSOR_AMAX, "f32"), writes(BLOCK_META.tensorScale, "f32")], (b) => {
    const amax = b.let("amax", load("f32", TENSOR_AMAX, i32(0)));
    b.store(BLOCK_META.tensorScale, i32(0), select(eq(amax, f32(0)), f32(1), min(div(f32(numerator), amax), f32(MAX_F32))));
  });
}

/** The smallest power of two ≥ s (float32 s ≥ 0), at least 2^−149 and at most 2^127, on the bit pattern. */
function lowerCeilPowerOfTwo(b: Builder, s: Expr): Expr {
  const bits = b.let("s_bits", bitsOf(s));
  const exponentField = b.let("s_exponent", shr(bits, u32(23)));
  const mantissa = b.let("s_mantissa", and(bits, u32(0x7fffff)));
  // Normal: itself when the mantissa is zero, else the next binade's 1.0; 2^127 at most (∞ included).
  const normal = min(select(eq(mantissa, u32(0)), bits, shl(add(exponentField, u32(1)), u32(23))), u32(0x7f000000));
  // Subnormal (or zero) m·2^−149: the next power of two of m as bits, 1 (= 2^−149) for m ≤ 1. For
  // m ≥ 2 that is 2^(⌊log2(m − 1)⌋ + 1): the float32 of m − 1 (exact, m < 2^23) with its exponent
  // stepped and its mantissa cleared, back to an integer — shifts by constants only (SIMD has no
  // per-lane shift count).
  const m = b.let("s_m", max(mantissa, u32(1)));
  const below = b.let("s_m_below", convert("f32.fromU32", sub(m, u32(1))));
  const subnormal = select(le(m, u32(1)), u32(1), convert("u32.fromF32", fromBits(shl(add(shr(bitsOf(below), u32(23)), u32(1)), u32(23)))));
  return b.let("pow2_scale", fromBits(select(eq(exponentField, u32(0)), subnormal, normal)));
}

/**
 * The offset c with code(2^e) = e + c in a power-of-two scale format for every exponent e a tile
 * can get (minNormalExponent … maxExponent: E8M0's c is 127), checked against the semantics' encode
 * of each, or null where the codes do not run that way: then the finalize encodes 2^e itself. One
 * addition per 4 tiles instead of a power of two and an encode.
 */
function powerOfTwoCodeOffset(scaleFormat: ResolvedFormat): number | null {
  const el = scaleFormat.element as ResolvedFloat;
  const offset = encode(scaleFormat, 2 ** el.minNormalExponent) - el.minNormalExponent;
  for (let e = el.minNormalExponent; e <= el.maxExponent; e++) if (encode(scaleFormat, 2 ** e) !== e + offset) return null;
  return offset;
}

function lowerFinalize(format: ResolvedFormat, scaling: BlockScaling): Kernel {
  const scaleFormat = scaling.scaleFormat;
  const mx = isPowerOfTwoRule(scaling.scaleRounding);
  const level = scaling.tensorScale !== null;
  const params: Param[] = [
    reads(TILE_AMAX, "f32"),
    ...(level ? [reads(BLOCK_META.tensorScale, "f32")] : []),
    writes(BLOCK_META.scaleCodes, codeStorage(scaleFormat)),
    ...(mx ? [writes(TILE_EXPONENT, "i32")] : []),
    ...TILE_PARAMS,
  ];
  if (!mx && Math.fround(format.maxFinite) !== format.maxFinite) throw new Error(`${format.name}: float32 block scales need a float32 max finite value`);
  return kernel("block_finalize", params, (b) => {
    const tensorScale = level ? b.let("tensor_scale", load("f32", BLOCK_META.tensorScale, i32(0))) : null;
    // Tile by tile, from the tile's amax alone: no corner (and no integer division), so the loop vectorizes.
    b.for("t", i32(0), gridOf(b, scaling).tiles, (t, body) => {
      const amax = body.let("amax", load("f32", TILE_AMAX, t));
      if (mx) {
        const se = scaleFormat.element as ResolvedFloat;
        if (se.minNormalExponent < -149 || se.maxExponent > 127) throw new Error(`${format.name}: scale exponents must be float32 powers of two`);
        const nonFinite = body.let("non_finite", eq(amax, f32(INF)));
        const raw = lowerBlockExponent(body, amax, format.maxFinite, scaling.scaleRounding as "floor" | "ceil" | "even");
        const e = body.let("e", select(eq(amax, f32(0)), i32(se.minNormalExponent), min(max(raw, i32(se.minNormalExponent)), i32(se.maxExponent))));
        const offset = powerOfTwoCodeOffset(scaleFormat);
        const code = offset !== null ? asU32(add(e, i32(offset))) : lowerEncodeElement(body, scaleFormat, pow2(body, e), null);
        body.store(BLOCK_META.scaleCodes, t, select(nonFinite, u32(encode(scaleFormat, Number.NaN)), code));
        body.store(TILE_EXPONENT, t, select(nonFinite, i32(0), e));
        return;
      }
      const ratio = body.let("ratio", div(amax, f32(format.maxFinite)));
      const scale =
        tensorScale !== null ? mul(ratio, tensorScale)
        : scaling.scaleRounding === "ceil-power-of-two" ? select(eq(amax, f32(0)), f32(1), lowerCeilPowerOfTwo(body, ratio))
        : select(eq(amax, f32(0)), f32(1), ratio);
      body.store(BLOCK_META.scaleCodes, t, lowerEncodeElement(body, scaleFormat, body.let("scale", scale), null));
    });
  });
}

/**
 * Whether the format rounds ±2^−149 (standing for any nonzero float32-tiny value, exact.ts) to
 * other codes than ±0: an unsigned format (−tiny is NaN), rounding away from zero. Stochastic
 * rounding is taken to differ without asking.
 */
function zeroDiffersFromTiny(format: ResolvedFormat): boolean {
  if (format.rounding.mode === "stochastic") return true;
  const tiny = 2 ** -149;
  return encode(format, tiny) !== encode(format, 0) || encode(format, -tiny) !== encode(format, -0);
}

interface Transforms {
  readonly down: (b: Builder, x: Expr) => Expr;
  readonly up: (b: Builder, q: Expr) => Expr;
  /** up(fake-quantized v), where the tile's scale can be folded into the rounding (else absent). */
  readonly fakeUp?: (b: Builder, v: Expr, draw: Expr | null) => Expr | null;
}

type Element = (body: Builder, i: Expr, scale: Transforms, draw: Expr | null) => void;

/**
 * The positive values a tile scale decodes to, with 1 (what a zero scale folds), as a factor range
 * for lowerFakeQuantizeTimes, or null where the scale format could decode a non-finite value (a
 * scale encodes the finite float32 (amax / maxFinite)·S, so the largest float32 is the worst case).
 */
function decodedScaleRange(scaleFormat: ResolvedFormat): FactorRange | null {
  const el = scaleFormat.element;
  if (el.kind !== "float" || !Number.isFinite(decode(scaleFormat, encode(scaleFormat, MAX_F32)))) return null;
  return { min: Math.min(1, scaleFormat.minSubnormal), max: Math.max(1, scaleFormat.maxFinite), significandBits: el.mantissaBits + 1 };
}

/**
 * The per-tile numbers the element transforms multiply or divide by (null where the kernel's
 * parameters cannot give it: an encode needs only `down`, a decode only `up`): MX 2^−E and the
 * decoded scale; with a tensor scale S, e = S / d and d; else the decoded scale twice.
 */
interface TileFactors {
  readonly down: Expr | null;
  readonly up: Expr | null;
}

/** Which factors a kernel with these parameters can compute (tileFactors gives null for the others). */
function factorsGiven(scaling: BlockScaling, names: ReadonlySet<string>): { down: boolean; up: boolean } {
  const scale = names.has(BLOCK_META.scaleCodes);
  return { down: isPowerOfTwoRule(scaling.scaleRounding) ? names.has(TILE_EXPONENT) : scale, up: scale };
}

/** Tile t's factors (semantics tileScale), bound in b. */
function tileFactors(b: Builder, scaling: BlockScaling, names: ReadonlySet<string>, tensorScale: Expr | null, t: Expr): TileFactors {
  const has = factorsGiven(scaling, names);
  const scale = has.up ? b.let("tile_scale", lowerDecodeScale(b, scaling.scaleFormat, load("u32", BLOCK_META.scaleCodes, t))) : null;
  if (!has.down) return { down: null, up: scale };
  if (isPowerOfTwoRule(scaling.scaleRounding)) return { down: b.let("tile_down", pow2(b, neg(load("i32", TILE_EXPONENT, t)))), up: scale };
  const d = scale as Expr;
  return { down: tensorScale === null ? d : b.let("element_scale", select(eq(d, f32(0)), f32(0), div(tensorScale, d))), up: scale };
}

/** The element transforms of a tile from its factors (what they need once per tile bound in b). */
function transformsOf(b: Builder, format: ResolvedFormat, scaling: BlockScaling, names: ReadonlySet<string>, tensorScale: Expr | null, factors: TileFactors): Transforms {
  const down = factors.down as Expr;
  const up = factors.up as Expr;
  if (isPowerOfTwoRule(scaling.scaleRounding)) {
    // The semantics scale exactly; in float32 a tiny x·2^−E can underflow to ±0, which every rounding
    // treats like the tiny value (exact.ts) except by its sign's absence of magnitude: an unsigned
    // format takes −tiny to NaN but −0 to 0. So a product that underflowed keeps a magnitude, ±2^−149,
    // where the format's codes of ±0 and ±2^−149 differ.
    const scaled = (inner: Builder, x: Expr) => {
      const v = inner.let("scaled", mul(x, down));
      if (!zeroDiffersFromTiny(format)) return v;
      return select(and(eq(v, f32(0)), ne(x, f32(0))), select(lt(x, f32(0)), f32(-(2 ** -149)), f32(2 ** -149)), v);
    };
    return { down: scaled, up: (_b, q) => mul(q, up) };
  }
  if (tensorScale !== null) {
    const d = up;
    // (q·d) / S with d folded into q's rounding (lowerFakeQuantizeTimes): q·d is exact either way.
    // A tile with d = 0 has e = 0, so its v is ±0 or NaN, whose q·d is q·1: it folds 1.
    const range = names.has(X) && names.has(VALUES) ? decodedScaleRange(scaling.scaleFormat) : null;
    const factor = range === null ? null : b.let("folded_scale", select(eq(d, f32(0)), f32(1), d));
    const fakeUp = (inner: Builder, v: Expr, draw: Expr | null) => {
      const folded = range === null || factor === null ? null : lowerFakeQuantizeTimes(inner, format, v, draw, factor, range);
      return folded === null ? null : div(folded, tensorScale);
    };
    return { down: (_b, x) => mul(x, down), up: (inner, q) => div(inner.let("qd", mul(q, d)), tensorScale), fakeUp };
  }
  return { down: (_b, x) => div(x, down), up: (_b, q) => mul(q, up) };
}

/** The scratch a [B, 1]-block kernel reads its tiles' factors from (written per tile by `<name>_factors` before it). */
const TILE_DOWN = "tile_down";
const TILE_UP = "tile_up";

/**
 * The kernels over every element, with the element transforms of its tile: row segments, the
 * tile's scale once per segment; with 1-D blocks the segments take [1, B] blocks only where they
 * do not lie end to end, `<name>_flat` those that do (block t is [t·B, t·B + B): no division and no
 * corner per block, ~5% of an NVFP4 fake-quantize), and `<name>_columns` takes [B, 1] blocks
 * (block_axis 0) row by row (columnKernel), after `<name>_factors` wrote each tile's factors.
 * Each kernel has no iterations where the call is another's.
 */
function tileElementwise(format: ResolvedFormat, scaling: BlockScaling, name: string, params: readonly Param[], element: Element): Kernel[] {
  const g = scaling.granularity;
  const segments = kernel(name, params, (b) => {
    const { transforms, run } = elementPrologue(b, format, scaling, params, element);
    const grid = gridOf(b, scaling, "block" in g);
    const count = mul(grid.rows, grid.gridCols);
    forSegments(b, grid, "tile" in g ? count : select(or(alongRows(), flatBlocks(b, g.block)), i32(0), count), (t, sb) => run(transforms(sb, t)));
  });
  if (!("block" in g)) return [segments];
  const flat = kernel(`${name}_flat`, params, (b) => {
    const { transforms, run } = elementPrologue(b, format, scaling, params, element);
    forBlocks(b, flatLength(b, g.block), g.block, (t, start, end, tb) => tb.for("i", start, end, run(transforms(tb, t))));
  });
  // [B, 1] blocks: each element's tile differs from its neighbour's, so its factors are loaded
  // (written per tile by the factors kernel: a decode, a power of two or a division per tile,
  // not per element).
  const names = new Set(params.map((p) => p.name));
  const has = factorsGiven(scaling, names);
  const inputs = params.filter((p) => p.kind === "buffer" && [BLOCK_META.scaleCodes, BLOCK_META.tensorScale, TILE_EXPONENT].includes(p.name));
  const factors = kernel(`${name}_factors`, [...inputs, ...factorParams(has).map((f) => writes(f, "f32")), ...TILE_PARAMS], (b) => {
    const tensorScale = names.has(BLOCK_META.tensorScale) ? b.let("tensor_scale", load("f32", BLOCK_META.tensorScale, i32(0))) : null;
    b.for("t", i32(0), select(alongRows(), gridOf(b, scaling).tiles, i32(0)), (t, tb) => {
      const f = tileFactors(tb, scaling, names, tensorScale, t);
      if (f.down !== null) tb.store(TILE_DOWN, t, f.down);
      if (f.up !== null) tb.store(TILE_UP, t, f.up);
    });
  });
  return [segments, flat, factors, columnKernel(format, scaling, `${name}_columns`, params, element, "element")];
}

/** The element kernels' shared start: the stochastic key, the tensor scale, and how a tile's transforms run over elements. */
function elementPrologue(b: Builder, format: ResolvedFormat, scaling: BlockScaling, params: readonly Param[], element: Element) {
  const names = new Set(params.map((p) => p.name));
  const draw = params.includes(SEED) ? randomSource(b, format) : null;
  const tensorScale = names.has(BLOCK_META.tensorScale) ? b.let("tensor_scale", load("f32", BLOCK_META.tensorScale, i32(0))) : null;
  return {
    transforms: (tb: Builder, t: Expr) => transformsOf(tb, format, scaling, names, tensorScale, tileFactors(tb, scaling, names, tensorScale, t)),
    stored: (tb: Builder, factors: TileFactors) => transformsOf(tb, format, scaling, names, tensorScale, factors),
    /** Element i under transforms t; its stochastic draw keyed by drawIndex (default i itself). */
    run: (t: Transforms, drawIndex?: Expr) => (i: Expr, inner: Builder) => element(inner, i, t, draw === null ? null : draw(inner, drawIndex ?? i)),
  };
}

/** The per-tile factor scratch a kernel with these factors reads or writes. */
const factorParams = (has: { down: boolean; up: boolean }) => [...(has.down ? [TILE_DOWN] : []), ...(has.up ? [TILE_UP] : [])];

/**
 * [B, 1] blocks row by row (block_axis 0): element i of row r lies in tile (r / B)·cols + (i −
 * r·cols), at i plus an offset fixed for the row, so the factors load at consecutive indices and
 * the loop vectorizes. Its stochastic draws are keyed by `draws`: "element", element i itself
 * (the semantics of a block-axis-0 call); "lane-major", element (r, c)'s index in the transposed
 * copy, c·rows + r (a column as a lane: FormatPlans.fakeQuantizeColumns).
 */
function columnKernel(format: ResolvedFormat, scaling: BlockScaling, name: string, params: readonly Param[], element: Element, draws: "element" | "lane-major"): Kernel {
  const g = scaling.granularity as { block: number };
  const has = factorsGiven(scaling, new Set(params.map((p) => p.name)));
  return kernel(name, [...params, ...factorParams(has).map((f) => reads(f, "f32"))], (b) => {
    const { stored, run } = elementPrologue(b, format, scaling, params, element);
    const rows = arg("i32", CHANNELS.name);
    const cols = arg("i32", CHANNEL_LENGTH.name);
    b.for("r", i32(0), select(alongRows(), rows, i32(0)), (r, rb) => {
      const base = rb.let("row_base", mul(r, cols));
      const offset = rb.let("tile_offset", sub(mul(div(r, i32(g.block)), cols), base));
      rb.for("i", base, add(base, cols), (i, ib) => {
        const t = add(i, offset);
        const loaded = { down: has.down ? load("f32", TILE_DOWN, t) : null, up: has.up ? load("f32", TILE_UP, t) : null };
        run(stored(ib, loaded), draws === "lane-major" ? add(mul(sub(i, base), rows), r) : undefined)(i, ib);
      });
    });
  });
}

/** Kernels and plans of a block-scaled format. */
export function lowerBlock(format: ResolvedFormat, scaling: BlockScaling): ScalingLowering {
  const mx = isPowerOfTwoRule(scaling.scaleRounding);
  if (mx) assertScaledEncodeExact(format);
  const level = scaling.tensorScale !== null;
  const codes = codeStorage(format);
  const scaleCodes = codeStorage(scaling.scaleFormat);
  const tensorScaleParam = level ? [reads(BLOCK_META.tensorScale, "f32")] : [];
  // What encoding reads per tile: MX its exponent (exact 2^−E), the others the decoded scale.
  const encodeScale = mx ? [reads(TILE_EXPONENT, "i32")] : [reads(BLOCK_META.scaleCodes, scaleCodes), ...tensorScaleParam];
  const statistics = lowerStatistics(scaling);
  const finalize = lowerFinalize(format, scaling);
  // The tensor's amax from the tile statistics, then S.
  const tensorScale = level ? [lowerTensorAmax(scaling), lowerTensorScale(format, scaling)] : [];

  const encodeKernels = tileElementwise(format, scaling, "block_encode", [reads(X, "f32"), ...encodeScale, writes(CODES, codes), ...TILE_PARAMS, SEED], (body, i, t, draw) => {
    body.store(CODES, i, lowerEncodeElement(body, format, body.let("v", t.down(body, load("f32", X, i))), draw));
  });
  const decodeParams = [reads(CODES, codes), reads(BLOCK_META.scaleCodes, scaleCodes), ...tensorScaleParam, writes(VALUES, "f32"), ...TILE_PARAMS];
  const decodeKernels = tileElementwise(format, scaling, "block_decode", decodeParams, (body, i, t) => {
    body.store(VALUES, i, t.up(body, lowerDecodeElement(body, format, load("u32", CODES, i))));
  });
  const fakeParams = [reads(X, "f32"), ...(mx ? [reads(TILE_EXPONENT, "i32")] : []), reads(BLOCK_META.scaleCodes, scaleCodes), ...tensorScaleParam, writes(VALUES, "f32"), ...TILE_PARAMS, SEED];
  const fakeElement: Element = (body, i, t, draw) => {
    const v = body.let("v", t.down(body, load("f32", X, i)));
    body.store(VALUES, i, t.fakeUp?.(body, v, draw) ?? t.up(body, lowerFakeQuantizeElement(body, format, v, draw)));
  };
  const fake = tileElementwise(format, scaling, "block_fake_quantize", fakeParams, fakeElement);
  // Stochastic 1-D blocks on a tensor whose lanes are its columns: the [B, 1] kernels with each
  // draw keyed by the element's lane-major index (FormatPlans.fakeQuantizeColumns). Rounding to
  // nearest needs no plan of its own: the block-axis-0 plan gives the transposed copy's values.
  const laneColumns = format.rounding.mode === "stochastic" && "block" in scaling.granularity
    ? columnKernel(format, scaling, "block_fake_quantize_columns_lanes", fakeParams, fakeElement, "lane-major")
    : null;

  const perTile = tileSize(scaling);
  // [B, 1] blocks' per-tile factors (tileElementwise): 1-D blocks only.
  const factorScratch = "block" in scaling.granularity ? [buffer(TILE_DOWN, "f32", perTile, "scratch"), buffer(TILE_UP, "f32", perTile, "scratch")] : [];
  const scratch = [
    buffer(TILE_AMAX, "f32", perTile, "scratch"),
    ...(mx ? [buffer(TILE_EXPONENT, "i32", perTile, "scratch")] : []),
    ...(level ? [buffer(TENSOR_AMAX, "f32", { constant: 1 }, "scratch")] : []),
    ...factorScratch,
  ];
  const axis: Record<string, StepArg> = { block_axis: { scalar: "blockAxis" } };
  const tensorSteps = level ? [step(tensorScale[0], axis), step(tensorScale[1])] : [];
  const statsSteps = [...statistics.map((k) => step(k, axis)), ...tensorSteps, step(finalize, axis)];
  const steps = (kernels: readonly Kernel[]) => kernels.map((k) => step(k, axis));
  const fakeBuffers = [xBuffer(), valuesBuffer(), ...scratch, ...blockMetaLayout(scaling, "meta")];
  return {
    kernels: [...statistics, ...tensorScale, finalize, ...encodeKernels, ...decodeKernels, ...fake, ...(laneColumns === null ? [] : [laneColumns])],
    plans: {
      encode: { buffers: [xBuffer(), codesBuffer(format, "output"), ...scratch, ...blockMetaLayout(scaling, "meta")], steps: [...statsSteps, ...steps(encodeKernels)] },
      decode: { buffers: [codesBuffer(format, "input"), ...blockMetaLayout(scaling, "input"), valuesBuffer(), ...factorScratch], steps: steps(decodeKernels) },
      fakeQuantize: { buffers: fakeBuffers, steps: [...statsSteps, ...steps(fake)] },
      ...(laneColumns === null
        ? {}
        : { fakeQuantizeColumns: { buffers: fakeBuffers, steps: [...statistics, ...tensorScale, finalize, kernelNamed(fake, "block_fake_quantize_factors"), laneColumns].map(columnsAsLanes) } }),
    },
  };
}

/** The kernel of that name among `kernels` (a lowering's own: missing is a bug here). */
function kernelNamed(kernels: readonly Kernel[], name: string): Kernel {
  const k = kernels.find((kn) => kn.name === name);
  if (k === undefined) throw new Error(`block scaling: no kernel ${name}`);
  return k;
}

/**
 * A step of a fakeQuantizeColumns plan: the call gives `channels` = the lanes (the matrix's
 * columns) and n / channels = K (its rows), which the block kernels take as their rows and
 * columns, with blocks down the columns (block_axis 0). On one thread: a threaded runner cuts
 * steps by the call's rows, and these rows are the lanes.
 */
function columnsAsLanes(k: Kernel): Step {
  const args: Record<string, StepArg> = {};
  const has = (name: string) => k.params.some((p) => p.name === name);
  if (has(CHANNELS.name)) args[CHANNELS.name] = { scalar: "channelLength" };
  if (has(CHANNEL_LENGTH.name)) args[CHANNEL_LENGTH.name] = { scalar: "channels" };
  if (has(BLOCK_AXIS.name)) args[BLOCK_AXIS.name] = { constant: 0 };
  return { ...step(k, args), oneThread: true };
}
