/**
 * The quantization hook of the runtime (DESIGN "A recipe"): every GEMM operand and every
 * tensor-role boundary passes through `Precision.quantize`, which fake-quantizes in place.
 * Recipes (later) bind formats to roles and sites; the identity here is full precision.
 */
import type { FloatArray } from "./tensor.ts";

/** The tensor roles a recipe binds formats to. */
export type TensorRole = "weight" | "activation" | "error" | "weightGradient" | "optimizerState" | "master";

/**
 * The GEMM an operand is quantized for: a layer's forward GEMM (weights × activations), its
 * input-gradient GEMM (errors × weights) and its weight-gradient GEMM (errors × activations).
 */
export type GemmPass = "forward" | "inputGradient" | "weightGradient";

/**
 * How a tensor splits into scaling channels (for per-channel scalings: channel amax, ShiftQuant
 * groups): viewed as [outer, channels, inner] row-major, channel c holds every element (o, c, i).
 * A GEMM operand's channels run along the axis the GEMM does not sum, so a scale per channel is
 * constant along the sum (ShiftQuant's shift after an integer accumulation needs exactly this):
 * rowChannels for a leading axis, columnChannels for the columns of a matrix.
 */
export interface ChannelLayout {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
  /**
   * Independent blocks ahead of `outer` (default 1): attention's batch × heads, whose GEMMs are
   * separate. Element (g, o, c, i) sits at ((g·outer + o)·channels + c)·inner + i, and each
   * (group, channel) is its own lane, so a lane never runs across two groups' reduction axes.
   */
  readonly groups?: number;
  /**
   * The GEMM's other operand is never stored (the embedding's one-hot matrix), so a rotation,
   * which must turn both operands, is not applied to this one.
   */
  readonly unrotated?: true;
}

/** The lanes of a layout: one per (group, channel). */
export function laneCount(layout: ChannelLayout): number {
  return (layout.groups ?? 1) * layout.channels;
}

/** One channel per row of a rows×cols matrix (the leading axis: no data movement to quantize). */
export function rowChannels(rows: number, cols: number): ChannelLayout {
  return { outer: 1, channels: rows, inner: cols };
}

/** One channel per column of a rows×cols matrix (quantized through a transposed copy). */
export function columnChannels(rows: number, cols: number): ChannelLayout {
  return { outer: rows, channels: cols, inner: 1 };
}

/** One channel per column of each of `groups` consecutive rows×cols matrices (attention's per-head operands). */
export function groupedColumnChannels(groups: number, rows: number, cols: number): ChannelLayout {
  return groups === 1 ? columnChannels(rows, cols) : { groups, outer: rows, channels: cols, inner: 1 };
}

/** Whether two layouts put every element of a tensor in the same channel (no layout: one channel). */
export function sameChannels(a: ChannelLayout | undefined, b: ChannelLayout | undefined): boolean {
  const lanes = (l: ChannelLayout | undefined) => (l === undefined ? 1 : laneCount(l));
  if (lanes(a) === 1 || lanes(b) === 1) return lanes(a) === lanes(b);
  return a!.channels === b!.channels && a!.inner === b!.inner && (a!.groups ?? 1) === (b!.groups ?? 1);
}

/** Runs shorter than this are copied element by element in gatherChannels / scatterChannels. */
const SHORT_RUN = 64;
/** Columns per chunk of a transpose (a column layout's gather): the chunk's rows of the source and its lines of the destination stay in cache. */
const TRANSPOSE_CHUNK = 512;

/** Copies `length` elements of `from` at `fromAt` to `to` at `toAt`. Short runs (an im2col matrix's lanes are single elements) go element by element: a subarray per run costs more than the copy. */
function copyRun(from: FloatArray, fromAt: number, to: FloatArray, toAt: number, length: number): void {
  if (length < SHORT_RUN) for (let i = 0; i < length; i++) to[toAt + i] = from[fromAt + i]!;
  else to.set(from.subarray(fromAt, fromAt + length), toAt);
}

/**
 * Moves every run (g, o, c) of `inner` elements between `data`'s order [groups, outer, channels, inner]
 * and the channel-major order [groups, channels, outer, inner]: `toChannelMajor` picks the direction.
 * A column layout (inner 1) is a matrix transpose per group, done in tiles.
 */
function moveChannels(data: FloatArray, channelMajor: FloatArray, layout: ChannelLayout, toChannelMajor: boolean): void {
  const { outer, channels, inner } = layout;
  const block = outer * channels * inner;
  for (let g = 0; g < (layout.groups ?? 1); g++) {
    if (inner === 1) transposeTiles(toChannelMajor ? data : channelMajor, toChannelMajor ? channelMajor : data, g * block, outer, channels, toChannelMajor);
    else
      for (let o = 0; o < outer; o++)
        for (let c = 0; c < channels; c++) {
          const at = g * block + (o * channels + c) * inner;
          const major = g * block + (c * outer + o) * inner;
          if (toChannelMajor) copyRun(data, at, channelMajor, major, inner);
          else copyRun(channelMajor, major, data, at, inner);
        }
  }
}

/**
 * The rows × cols matrix at `base` of `from` written transposed into `to` at `base` (`forward`),
 * or the transposed one written back (rows and cols then name the destination's shape): a chunk
 * of columns at a time, four rows at a time, so each column's four elements are one contiguous
 * run on the column-major side (half the time of one row at a time, measured at 4–576 rows).
 */
function transposeTiles(from: FloatArray, to: FloatArray, base: number, rows: number, cols: number, forward: boolean): void {
  for (let c0 = 0; c0 < cols; c0 += TRANSPOSE_CHUNK) {
    const cEnd = Math.min(c0 + TRANSPOSE_CHUNK, cols);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      // Row-major index r·cols + c against column-major c·rows + r, walked along c.
      const r0 = base + r * cols;
      const r1 = r0 + cols;
      const r2 = r1 + cols;
      const r3 = r2 + cols;
      let colMajor = base + c0 * rows + r;
      if (forward)
        for (let c = c0; c < cEnd; c++, colMajor += rows) {
          to[colMajor] = from[r0 + c]!;
          to[colMajor + 1] = from[r1 + c]!;
          to[colMajor + 2] = from[r2 + c]!;
          to[colMajor + 3] = from[r3 + c]!;
        }
      else
        for (let c = c0; c < cEnd; c++, colMajor += rows) {
          to[r0 + c] = from[colMajor]!;
          to[r1 + c] = from[colMajor + 1]!;
          to[r2 + c] = from[colMajor + 2]!;
          to[r3 + c] = from[colMajor + 3]!;
        }
    }
    for (; r < rows; r++) {
      const rowMajor = base + r * cols;
      let colMajor = base + c0 * rows + r;
      if (forward) for (let c = c0; c < cEnd; c++, colMajor += rows) to[colMajor] = from[rowMajor + c]!;
      else for (let c = c0; c < cEnd; c++, colMajor += rows) to[rowMajor + c] = from[colMajor]!;
    }
  }
}

/**
 * The elements of `data` gathered channel by channel: [channels, outer, inner], so channel c is
 * the c-th leading-axis slice, as quantize's `channels` option expects. Fake quantization only
 * needs the values, so a channel layout that is not leading is quantized on this copy and
 * scattered back (scatterChannels). `into` (at least data.length long) receives the copy instead
 * of a new array: callers that gather on every step keep one.
 */
export function gatherChannels(data: FloatArray, layout: ChannelLayout, where: string, into?: Float32Array): Float32Array {
  checkLayout(data, layout, where);
  const out = into === undefined ? new Float32Array(data.length) : into.subarray(0, data.length);
  moveChannels(data, out, layout, true);
  return out;
}

/** Writes a channel-major copy (gatherChannels) back into `data`'s own order. */
export function scatterChannels(channelMajor: Float32Array, layout: ChannelLayout, data: FloatArray): void {
  moveChannels(data, channelMajor, layout, false);
}

/** Throws a RangeError naming `where` unless the layout covers exactly the tensor's elements. */
export function checkLayout(data: FloatArray, layout: ChannelLayout, where: string): ChannelLayout {
  const { outer, channels, inner } = layout;
  const groups = layout.groups ?? 1;
  const whole = [groups, outer, channels, inner].every((d) => Number.isInteger(d) && d >= 1);
  if (!whole || groups * outer * channels * inner !== data.length)
    throw new RangeError(`${where}: channel layout [${groups > 1 ? `${groups}, ` : ""}${outer}, ${channels}, ${inner}] does not cover a tensor of ${data.length} elements`);
  return layout;
}

/** A precision recipe as seen by the runtime: which roles at which sites get fake-quantized, and how. */
export interface Precision {
  readonly name: string;
  /**
   * Whether `quantize(role, …, site)` may change any value. Ops copy an operand before
   * quantizing it only when this is true, so the identity costs nothing.
   */
  active(role: TensorRole, site: string, pass?: GemmPass): boolean;
  /**
   * Fake-quantize `t` in place: round every element to the format bound to `role` at `site`
   * (a layer name such as "stage1.block0.conv1"), leaving it in the array's own dtype. `pass`
   * names the GEMM a GEMM operand is for (absent for optimizer state, master weights, weight
   * gradients); `layout` its scaling channels, along the axis that GEMM does not sum (absent:
   * the whole tensor is one channel). Formats scaled per tensor ignore the layout. A GEMM
   * operand with a layout is rotated along its K first when the recipe rotates that GEMM.
   */
  quantize(role: TensorRole, t: FloatArray, site: string, pass?: GemmPass, layout?: ChannelLayout): void;
  /**
   * For speed only: the values `quantize(role, into, …)` gives after `into.set(from)`, written into
   * `into` (as long as `from`, of its type) with `from` only read, without that copy where the
   * precision can (its kernels read `from`). A precision without it — a wrapper such as
   * NumericsRecorder — gets exactly the copy and quantize (quantizedView), so leaving it out never
   * changes a value.
   */
  quantizeInto?(role: TensorRole, from: FloatArray, into: FloatArray, site: string, pass?: GemmPass, layout?: ChannelLayout): void;
  /**
   * Whether the operand `role` of GEMM `pass` at `site` must be quantized in that GEMM's
   * own lanes × K layout — its format's scales run along the reduction axis (1-D blocks, tiles),
   * or the GEMM rotates its operands. An op that reshapes an operand for its GEMM (conv2d's im2col)
   * then quantizes the reshaped copy rather than the tensor it came from.
   */
  quantizesAlongK(role: TensorRole, site: string, pass: GemmPass): boolean;
  /** Whether GEMM `pass` at `site` rotates its operands (the rotated copies then serve that GEMM only). */
  rotates(site: string, pass: GemmPass): boolean;
  /**
   * Whether quantizing operand `role` of GEMM `pass` at `site` with a column layout (lanes = the
   * columns of a rows × cols matrix) happens where the matrix lies, without a lane-major copy: an
   * op that can lay the operand out either way (conv2d's windows as columns or as rows) then picks
   * columns. The values are the same either way; only the cost differs.
   */
  quantizesColumnsInPlace(role: TensorRole, site: string, pass: GemmPass): boolean;
  /**
   * Whether quantizing `role` at `site` for GEMM `a` (with `layoutA`) and for GEMM `b`
   * (with `layoutB`) can give different values: different formats, or a per-channel format
   * under layouts that split the tensor differently. When false, an op quantizes an
   * operand once (for the first GEMM that uses it) and reuses it in the other.
   *
   * These are required, not optional: a wrapper (NumericsRecorder) that dropped one would
   * silently train on the wrong layout, as happened once.
   */
  differs(role: TensorRole, site: string, a: GemmPass, b: GemmPass, layoutA?: ChannelLayout, layoutB?: ChannelLayout): boolean;
}

/** Full precision: no role is quantized. */
export const identityPrecision: Precision = {
  name: "identity",
  active: () => false,
  quantize: () => {},
  quantizesAlongK: () => false,
  rotates: () => false,
  quantizesColumnsInPlace: () => true,
  differs: () => false,
};

/**
 * A copy of `data` quantized for `role` at `site` (with `layout`'s channels), or `data` itself
 * when the precision leaves that role alone (the caller must then not write to the result). The
 * copy is made in `into` when given (as long as data; an op's scratch, see scratch.ts).
 */
export function quantizedView(precision: Precision, role: TensorRole, data: FloatArray, site: string, pass?: GemmPass, layout?: ChannelLayout, into?: FloatArray): FloatArray {
  if (!precision.active(role, site, pass)) return data;
  if (into !== undefined && (into.length !== data.length || into.constructor !== data.constructor)) throw new RangeError(`quantizedView: into must be a ${data.constructor.name} of ${data.length} elements`);
  if (precision.quantizeInto === undefined) {
    const copy = into ?? data.slice();
    if (into !== undefined) into.set(data);
    precision.quantize(role, copy, site, pass, layout);
    return copy;
  }
  const copy = into ?? (data instanceof Float32Array ? new Float32Array(data.length) : new Float64Array(data.length));
  precision.quantizeInto(role, data, copy, site, pass, layout);
  return copy;
}

/** The channel layouts of an operand in the GEMM it was first quantized for and in the GEMM at hand. */
export interface OperandLayouts {
  readonly first: ChannelLayout;
  readonly pass: ChannelLayout;
}

/**
 * The operand of GEMM `pass`: `quantized` (already made for GEMM `first`) when the recipe gives
 * the same values in both (see Precision.differs), else a fresh quantized copy of `data` for
 * `pass`, with `layouts.pass`.
 */
export function operandFor(
  precision: Precision, role: TensorRole, data: FloatArray, quantized: FloatArray, site: string, first: GemmPass, pass: GemmPass, layouts?: OperandLayouts,
): FloatArray {
  return precision.differs(role, site, first, pass, layouts?.first, layouts?.pass)
    ? quantizedView(precision, role, data, site, pass, layouts?.pass)
    : quantized;
}
