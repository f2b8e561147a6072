/**
 * How numforge's wasm kernels split across threads (wasm-threads.js's pool) so that every thread
 * computes exactly what one thread computes for its part, bit for bit:
 *
 * - GEMM: ranges of rows of C whose boundaries are multiples of the kernel's row block (mc), so
 *   each part packs the same A panels and accumulates in the same order as one thread would.
 *   op(A) transposed is gathered into rows first (each thread gathers its own rows). A GEMM with
 *   too few rows is split by columns of C instead, at multiples of the kernel's column tile (nr):
 *   every element of C is still one dot product over k in the same order.
 * - Element plans: each step that writes only per-element, per-block, per-tile or per-channel
 *   buffers runs on ranges of elements (cut at scale-block boundaries) or of rows; a step that
 *   writes a whole-tensor value (a tensor amax, a group table) runs on one thread, so reductions
 *   are computed before the steps that use them, as with one thread. Steps that round
 *   stochastically keep one thread (their random stream is keyed by element index), and so do
 *   steps marked oneThread (a plan over a transposed layout, whose rows are not its scalars' rows).
 *
 * Shipped verbatim in generated kernel packages and used by numforge itself: plain ES2022.
 */
import { MAX_PARTS, OP_CALL, OP_COPY_ROWS, OP_GATHER_COLUMNS, splitRange } from "./wasm-threads.js";

/** Elements per part at least: an element step of fewer than twice this stays on one thread (the hand-off would cost more). */
const MIN_ELEMENTS_PER_THREAD = 32768;
/** Rows of C below which a GEMM part is not worth a thread. */
const DEFAULT_ROW_BLOCK = 64;
/**
 * Parts per thread: threads claim parts as they come free, so a thread that wakes late or loses
 * its core (a busy machine) leaves more parts to the others. Element parts cost only a call each;
 * a GEMM part packs its own copy of B's panels, hence fewer.
 */
const ELEMENT_PARTS_PER_THREAD = 4;
const GEMM_PARTS_PER_THREAD = 2;
const partsFor = (threads, perThread) => Math.min(MAX_PARTS, threads * perThread);
/** Columns of C per part at least, and multiply-adds per part at least, when a GEMM is split by columns. */
const MIN_COLUMNS = 64;
const MIN_PART_PRODUCTS = 1 << 18;

/** Bytes per element of each storage type. */
const STORAGE_BYTES = { f32: 4, i32: 4, u32: 4, u16: 2, u8: 1, i8: 1 };

/**
 * Length of a GEMM scratch buffer for a shape (the variant's factors, rounded up to their multiple and capped at their block).
 * @param {{ needed: string, factors: readonly { dim: "m" | "n" | "k", multiple: number, block: number | null }[] }} buffer
 * @param {{ m: number, n: number, k: number }} shape
 * @param {number} kc
 */
export function scratchLength(buffer, shape, kc) {
  if (buffer.needed === "k>kc" && shape.k <= kc) return 1;
  let length = 1;
  for (const f of buffer.factors) {
    const rounded = Math.ceil(shape[f.dim] / f.multiple) * f.multiple;
    length *= f.block === null ? rounded : Math.min(f.block, rounded);
  }
  return Math.max(1, length);
}

/**
 * A GEMM variant on operands resident in `heap` (byte offsets), split over `pool` when there is
 * one (else one thread): by rows of C where there are enough, else by columns of C (a GEMM with
 * few rows and many columns, as a convolution's C = W·cols). The scratch each part needs is placed
 * above the heap's mark for the call.
 * @param {{ heap: import("./wasm-runtime.js").WasmHeap, raw: Record<string, (...args: number[]) => void>, pool?: any }} env
 */
export function gemmRunner({ heap, raw, pool }) {
  /**
   * @param {{ kernel: string, params: readonly string[], scratch: readonly any[], kc: number }} variant
   * @param {{ a: number, b: number, c: number, aBytes: number, bBytes?: number, m: number, n: number, k: number, transA: 0 | 1, transB: 0 | 1, alpha: number, beta: number, extra?: Record<string, number> }} g
   */
  return (variant, g) => {
    const factors = variant.scratch.flatMap((s) => s.factors);
    const mBlock = factors.find((f) => f.dim === "m")?.block ?? DEFAULT_ROW_BLOCK;
    // Lane-group metadata is indexed by row of A / column of B (not offset per part): one thread.
    const hasLaneMeta = variant.params.some((p) => p.startsWith("a_") || p.startsWith("b_"));
    const threads = pool === undefined || hasLaneMeta ? 1 : pool.threads;
    const mark = heap.mark();
    try {
      const jobs = threads === 1 ? [] : rowJobs(variant, g, heap, threads, mBlock);
      if (jobs.length < 2 && threads > 1) jobs.splice(0, jobs.length, ...columnJobs(variant, g, heap, threads, factors));
      if (jobs.length > 1) pool.run(jobs);
      else raw[variant.kernel](...kernelArgs(variant, g, heap, g, { m: g.m, n: g.n, k: g.k }));
    } finally {
      heap.release(mark);
    }
  };
}

/** The kernel's arguments for `values` (operand offsets and sizes), its scratch allocated for `shape`. */
function kernelArgs(variant, g, heap, values, shape) {
  const scratch = new Map(variant.scratch.map((s) => [s.name, heap.alloc(scratchLength(s, shape, variant.kc) * STORAGE_BYTES[s.storage ?? "f32"])]));
  const all = { a: values.a, b: values.b, c: values.c, m: shape.m, n: shape.n, k: shape.k, transA: values.transA, transB: values.transB, alpha: g.alpha, beta: g.beta };
  return variant.params.map((name) => {
    if (name in all) return all[name];
    const offset = scratch.get(name) ?? g.extra?.[name];
    if (offset === undefined) throw new Error(`gemm: internal: no value for parameter ${name}`);
    return offset;
  });
}

/**
 * Parts by ranges of rows of C cut at the kernel's row block (mc), so each part packs the same A
 * panels and accumulates in the same order as one thread. op(A) transposed is gathered into rows
 * first (each part its own rows); a transposed code A (no gather for its width) is not split.
 */
function rowJobs(variant, g, heap, threads, mBlock) {
  if (g.transA === 1 && g.aBytes !== 4) return [];
  const parts = splitRange(g.m, partsFor(threads, GEMM_PARTS_PER_THREAD), mBlock, mBlock);
  if (parts.length < 2) return [];
  return parts.map(([r0, r1]) => {
    const rows = r1 - r0;
    const job = [];
    let a = g.a + r0 * g.k * g.aBytes;
    let transA = g.transA;
    if (g.transA === 1) {
      a = heap.alloc(rows * g.k * 4);
      job.push([OP_GATHER_COLUMNS, g.a, a, g.m, r0, rows, g.k]);
      transA = 0;
    }
    const values = { a, b: g.b, c: g.c + r0 * g.n * 4, transA, transB: g.transB };
    job.push([OP_CALL, variant.kernel, ...kernelArgs(variant, g, heap, values, { m: rows, n: g.n, k: g.k })]);
    return job;
  });
}

/**
 * Parts by ranges of columns of C cut at the kernel's column tile (nr): each part multiplies all
 * of op(A) by its columns of op(B) into its own block of C, through the same kernel and the same
 * k order per element as one thread. Columns of a row-major B are copied into a block first (a
 * transposed B's are rows: used in place); C's block is copied in (when β ≠ 0) and out.
 */
function columnJobs(variant, g, heap, threads, factors) {
  if (g.bBytes === undefined) return [];
  const nTile = factors.find((f) => f.dim === "n")?.multiple ?? 1;
  const minimum = Math.max(MIN_COLUMNS, Math.ceil(MIN_PART_PRODUCTS / Math.max(1, g.m * g.k)));
  const parts = splitRange(g.n, partsFor(threads, GEMM_PARTS_PER_THREAD), nTile, minimum);
  if (parts.length < 2) return [];
  return parts.map(([j0, j1]) => {
    const width = j1 - j0;
    const job = [];
    let b = g.b + j0 * g.k * g.bBytes;
    if (g.transB === 0) {
      b = heap.alloc(g.k * width * g.bBytes);
      job.push([OP_COPY_ROWS, g.b + j0 * g.bBytes, g.n * g.bBytes, b, width * g.bBytes, g.k, width * g.bBytes]);
    }
    const c = heap.alloc(g.m * width * 4);
    if (g.beta !== 0) job.push([OP_COPY_ROWS, g.c + j0 * 4, g.n * 4, c, width * 4, g.m, width * 4]);
    const values = { a: g.a, b, c, transA: g.transA, transB: g.transB };
    job.push([OP_CALL, variant.kernel, ...kernelArgs(variant, g, heap, values, { m: g.m, n: width, k: g.k })]);
    job.push([OP_COPY_ROWS, c, width * 4, g.c + j0 * 4, g.n * 4, g.m, width * 4]);
    return job;
  });
}

/**
 * How a step's buffer parameter moves with a part: bytes per element of the range (elements or
 * columns of one row), per row, per tile of the range, per block of `blockSize`; or null when the
 * buffer is passed whole (read-only whole-tensor values).
 */
function bufferStride(length, storage, axis, blockAxis) {
  const bytes = STORAGE_BYTES[storage];
  const keys = Object.keys(length).filter((key) => length[key] !== undefined && length[key] !== 0);
  if (keys.length !== 1) return keys.length === 0 ? { whole: true } : null;
  const key = keys[0];
  if (key === "constant") return { whole: true };
  if (key === "perElement") return { perElement: length.perElement * bytes };
  if (key === "perChannel") return axis === "rows" ? { perRow: length.perChannel * bytes } : null;
  if (key === "perTile" && axis === "flat") return null;
  if (key === "perBlock") return axis === "flat" ? { perBlock: length.perBlock.blockSize, bytes: length.perBlock.count * bytes } : null;
  if (key === "perTile") {
    const { tile, count } = length.perTile;
    if (typeof tile === "number" && blockAxis === 1) return { tile1: tile, bytes: count * bytes };
    // Tiles of several rows: whole tile rows per part (rows only; one row cannot be cut across its tiles' rows).
    if (axis !== "rows") return null;
    return typeof tile === "number" ? { tileRows: tile, tileCols: 1, bytes: count * bytes } : { tileRows: tile[0], tileCols: tile[1], bytes: count * bytes };
  }
  return null;
}

/**
 * The parts of one step for a call, as argument lists, or null to run it on one thread.
 * @param {{ params: readonly string[], args: Record<string, any>, oneThread?: true }} step
 * @param {readonly { kind: string, name: string, access?: string }[]} signature
 * @param {Map<string, { decl: any }>} buffers the plan's buffers by name
 * @param {{ n: number, channels: number, channelLength: number, blockAxis: 0 | 1, seed: number }} scalars
 * @param {(name: string) => number} offsetOf
 * @param {number} threads
 * @param {boolean} stochastic whether the format rounds stochastically
 */
export function stepParts(step, signature, buffers, scalars, offsetOf, threads, stochastic) {
  if (threads < 2 || scalars.n < 2 * MIN_ELEMENTS_PER_THREAD || step.oneThread === true) return null;
  const usesScalar = (s) => step.params.some((p) => step.args[p]?.scalar === s);
  if (stochastic && usesScalar("seed")) return null;
  const rowsScalars = usesScalar("channels") || usesScalar("channelLength");
  // "flat": the step sees n elements; "rows": channels rows of channelLength, cut by rows (or, one row, by columns).
  const axis = rowsScalars ? (scalars.channels > 1 ? "rows" : "columns") : "flat";
  if (axis === "flat" && !usesScalar("n")) return null;
  const rows = scalars.channels;
  const cols = scalars.channelLength;
  const strides = [];
  let granule = 1;
  for (let i = 0; i < step.params.length; i++) {
    const a = step.args[step.params[i]];
    if (!("buffer" in a)) continue;
    const decl = buffers.get(a.buffer).decl;
    const stride = bufferStride(decl.length, decl.storage, axis, scalars.blockAxis);
    if (stride === null) return null;
    if (stride.whole && signature[i].access !== "read") return null;
    if (stride.perBlock !== undefined) granule = lcm(granule, stride.perBlock);
    if (stride.tile1 !== undefined && axis === "columns") granule = lcm(granule, stride.tile1);
    if (stride.tileRows !== undefined) granule = lcm(granule, stride.tileRows);
    strides.push({ index: i, name: a.buffer, stride });
  }
  const total = axis === "rows" ? rows : axis === "columns" ? cols : scalars.n;
  const perUnit = axis === "rows" ? cols : 1;
  const ranges = splitRange(total, partsFor(threads, ELEMENT_PARTS_PER_THREAD), granule, Math.ceil(MIN_ELEMENTS_PER_THREAD / perUnit));
  if (ranges.length < 2) return null;
  return ranges.map(([u0, u1]) => {
    const scalarValues =
      axis === "rows"
        ? { ...scalars, n: (u1 - u0) * cols, channels: u1 - u0 }
        : axis === "columns"
          ? { ...scalars, n: u1 - u0, channelLength: u1 - u0 }
          : { ...scalars, n: u1 - u0 };
    const args = step.params.map((p) => {
      const a = step.args[p];
      if ("scalar" in a) return scalarValues[a.scalar];
      if ("constant" in a) return a.constant;
      return offsetOf(a.buffer);
    });
    for (const { index, stride } of strides) {
      if (stride.whole) continue;
      let shift = 0;
      if (stride.perElement !== undefined) shift = u0 * perUnit * stride.perElement;
      else if (stride.perRow !== undefined) shift = u0 * stride.perRow;
      else if (stride.perBlock !== undefined) shift = (u0 / stride.perBlock) * stride.bytes;
      else if (stride.tile1 !== undefined) shift = axis === "rows" ? u0 * Math.ceil(cols / stride.tile1) * stride.bytes : (u0 / stride.tile1) * stride.bytes;
      else if (stride.tileRows !== undefined) shift = (u0 / stride.tileRows) * Math.ceil(cols / stride.tileCols) * stride.bytes;
      args[index] += shift;
    }
    return args;
  });
}

function lcm(a, b) {
  const gcd = (x, y) => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}

/**
 * A step runner for wasm-runtime.js's residentPlanRunner that splits each step over `pool`
 * where stepParts allows, else calls it here.
 * @param {{ pool: any, stochastic: boolean }} env
 */
export function parallelStepRunner({ pool, stochastic }) {
  return ({ step, kernel, signature }, args, scalars, offsets, buffers) => {
    const parts = stepParts(step, signature, buffers, scalars, (name) => offsets.get(name), pool.threads, stochastic);
    if (parts === null) {
      kernel(...args);
      return;
    }
    pool.run(parts.map((partArgs) => [[OP_CALL, step.kernel, ...partArgs.map((a, i) => (signature[i].kind === "scalar" && signature[i].type !== "f32" ? a | 0 : a))]]));
  };
}
