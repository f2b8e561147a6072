/**
 * GEMM lowered to IR: C ← α·op(A)·op(B) + β·C, row-major, op = optional transpose, A and B each
 * f32 or codes of a format. The algorithm (what an element of an operand is, how products are
 * accumulated and merged into C) is fixed here; the loop nest comes from a GemmSchedule.
 *
 * Kernel `gemm` (see describeGemm for the exact parameter list):
 *   gemm(a, b, c, m, n, k, transA, transB, alpha, beta, packA?, packB?, accumulator?, a_*…, b_*…)
 * op(A) is m×k (A stored m×k, or k×m when transA ≠ 0); op(B) is k×n (B stored k×n, or n×k);
 * C is m×n. Leading dimensions are implied by the shapes (lda = transA ? m : k, and so on).
 *
 * Accumulation (γ_n = n·u/(1 − n·u) with u = 2^−24, γ'_n the same with u' = 2^−53; nb = ⌈k/kc⌉):
 * - f32 (real-valued operands — f32, float, posit, or a lone integer operand — under a schedule
 *   with accumulator "f32"): products and sums in f32, one k block of the schedule at a time:
 *   acc = Σ_{p in block} a·b in order of p, then C ← α·acc + β·C for the first block and
 *   C ← C + α·acc for the others. Each product passes through at most k + 2 roundings, so
 *   |C − C_exact| ≤ γ_{k+2}·(|α|·Σ|a||b| + |β||c|) plus underflow.
 * - f64 (the same operands under accumulator "f64"): each product is f64(a)·f64(b), exact; the
 *   sums are f64, in order of p; the merge is done in f64 (β·c is exact there) and rounds to f32
 *   once per k block: C ← f32(α·acc + β·C) for the first block, C ← f32(C + α·acc) for the
 *   others. Each product passes through at most k + 1 f64 roundings and nb f32 roundings, so
 *   |C − C_exact| ≤ ((1 + γ_nb)(1 + γ'_{k+1}) − 1)·(|α|·Σ|a||b| + |β||c|) + nb·2^−150 (f32
 *   underflow; nothing underflows in f64); for k ≤ kc that is one f32 rounding of a nearly exact
 *   value. The f64 sum does not survive between k blocks: the tile's accumulators live for one
 *   (pc, ic, jr, ir) step and C, which is f32, is the only carrier from one k block to the next;
 *   keeping f64 would need an m×nc f64 scratch (as the i32 path's carry), and the IR has no f64
 *   storage (WGSL could not have it).
 * - i32 (both operands integer formats without tensor scaling): codes sign-extended to i32,
 *   exact i32 multiply-accumulate over the whole depth (k blocks carried in the `accumulator`
 *   scratch), then v = f32(sum)·2^−(fractionBitsA + fractionBitsB) and C ← α·v + β·C once.
 *   Under a vector schedule, operands that fit in 16 bits are packed as pairs of k steps, one
 *   i32 word (low half step 2q, high half step 2q + 1, sign-extended), and each word pair adds
 *   lo·lo + hi·hi — the lane arithmetic of i32x4.dot_i16x8_s; integer sums do not depend on
 *   the order, so C is the same.
 *   Exact while |sum| < 2^31, guaranteed for k ≤ maxK = ⌊(2^31 − 1) / (maxAbsA·maxAbsB)⌋
 *   (int8: 2^17 − 1, since |a·b| ≤ 2^14): the caller must check k ≤ maxK.
 * - i32 with lane scales (ShiftQuant: codes of shift-groups formats, beside each other or an
 *   unscaled integer operand): row i of op(A) and column j of op(B) carry power-of-two exponents
 *   eA(i), eB(j) (their groups', from the a_/b_ channel_group and group_exponent parameters), a
 *   scale constant along k, so the sum stays the exact i32 one above and the write-back is
 *   v = f32(sum)·2^(fractionBitsA/B terms + eA(i) + eB(j)), scaled in two exact steps: besides
 *   f32(sum) (exact for |sum| ≤ 2^24) v rounds only outside the f32 normal range. Then
 *   C ← α·v + β·C once. With α and β powers of two and |sum| ≤ 2^24, C is the exact
 *   α·op(A)·op(B) + β·C rounded once. A lane-scaled operand off this path (beside a non-integer
 *   operand: its scale would have to be applied per element) is a GemmUnsupportedError.
 * - declared (GemmOptions.accumulator: a format, promotion every N products, Kahan): the
 *   products f32(a·b) summed in order of k over the whole depth, each sum rounded once to the
 *   accumulator's format, exactly as dsl/semantics/accumulate.ts defines it (every target bit
 *   for bit), then C ← α·v + β·C once. The schedule's blocking does not change the result: the
 *   lowering takes one k block (kc = 2^20: the caller must keep k ≤ maxK = 2^20), one k step per
 *   iteration and scalar code; operands are real-valued (integer codes are decoded, not summed in
 *   i32; lane-scaled ones are a GemmUnsupportedError). On f32 operands the kernel is
 *   declared-rows.ts's instead: a row of C at a time, every output of the row advanced one k step
 *   per pass, which vectorizes across outputs (scratch: op(B) as rows in packB, sums, totals,
 *   compensations).
 * - α = 0 or k = 0: C ← β·C without reading A or B (C ← 0 when β = 0, NaNs in C ignored).
 */
import type { ResolvedFormat } from "../../../dsl/resolved.ts";
import { add, and, eq, f32, ge, i32, kernel, le, load, min, mul, ne, or, ref, select, shr, sub, widen, type Builder } from "../../ir/build.ts";
import type { Expr, Kernel, Param } from "../../ir/nodes.ts";
import { checkGemmSchedule, type GemmSchedule } from "../../schedule.ts";
import { checkAccumulator, isFloat32Accumulator, type Accumulator } from "../../../dsl/semantics/accumulate.ts";
import { lowerAccumulatorMicroKernel } from "./accumulator.ts";
import { DECLARED_ROWS_SCRATCH, lowerDeclaredRows } from "./declared-rows.ts";
import { GemmUnsupportedError, operandDecoder, type OperandDecoder } from "./operand.ts";
import { F32_ACCUMULATION, F64_ACCUMULATION, I32_ACCUMULATION, lowerPackPairs, lowerPackPanel, packedSliver, pairProduct, unpackedSliver, type Accumulation, type OperandView } from "./panels.ts";
import { blockMerge, forTileElements, lowerIntegerMerge, lowerMicroKernel, storeMerged } from "./tile.ts";

export interface GemmOptions {
  readonly a: ResolvedFormat | "f32";
  readonly b: ResolvedFormat | "f32";
  readonly schedule: GemmSchedule;
  /** Kernel name (default "gemm"); must be an identifier. */
  readonly name?: string;
  /** A declared accumulator (see the file comment); absent: the schedule's accumulation. */
  readonly accumulator?: Accumulator;
}

/** The deepest k a declared accumulator sums in one k block (the schedule's kc limit). */
export const MAX_DECLARED_ACCUMULATOR_K = 2 ** 20;

/** The integer path is taken only when it stays exact for at least this depth. */
const MIN_EXACT_DEPTH = 2 ** 16;

/** One factor of a scratch length: min(block, roundUp(dim, multiple)) (block null: no cap). */
export interface ScratchFactor {
  readonly dim: "m" | "n" | "k";
  readonly multiple: number;
  readonly block: number | null;
}

/** A scratch buffer the caller allocates (contents need not survive between calls). */
export interface GemmScratchBuffer {
  readonly name: "packA" | "packB" | "accumulator" | "sums" | "totals" | "compensations";
  readonly storage: "f32" | "i32";
  /** Length = product of the factors; 0 (pass any 1-element buffer) unless `needed` holds. */
  readonly factors: readonly ScratchFactor[];
  /** "always", or only when the depth spans more than one k block (k > kc). */
  readonly needed: "always" | "k>kc";
}

/** What a caller needs to invoke the lowered kernel. */
export interface GemmDescription {
  readonly kernel: string;
  /** Every parameter, in call order. */
  readonly params: readonly Param[];
  readonly scratch: readonly GemmScratchBuffer[];
  readonly accumulation: "f32" | "f64" | "i32";
  /** Integer path: the largest k for which the i32 sums are exact; a declared accumulator: the largest k of its one k block (null otherwise). */
  readonly maxK: number | null;
  readonly schedule: GemmSchedule;
}

/** Concrete length of a scratch buffer for a call of shape m×n×k (at least 1). */
export function gemmScratchLength(buffer: GemmScratchBuffer, shape: { readonly m: number; readonly n: number; readonly k: number }, kc: number): number {
  if (buffer.needed === "k>kc" && shape.k <= kc) return 1;
  let length = 1;
  for (const f of buffer.factors) {
    const rounded = Math.ceil(shape[f.dim] / f.multiple) * f.multiple;
    length *= f.block === null ? rounded : Math.min(f.block, rounded);
  }
  return Math.max(1, length);
}

interface Plan {
  readonly name: string;
  readonly schedule: GemmSchedule;
  readonly a: OperandDecoder;
  readonly b: OperandDecoder;
  readonly accumulation: Accumulation;
  readonly maxK: number | null;
  /** Integer operands packed as 16-bit pairs of k steps (see the file comment). */
  readonly pairs: boolean;
  readonly declared: Accumulator | null;
  /** The declared accumulator runs on the row kernel (declared-rows.ts): f32 operands. */
  readonly declaredRows: boolean;
}

/**
 * The schedule a declared accumulator runs under: one k block, one k step per iteration, scalar
 * code; a format other than fp32 rounds each sum in some 20–40 operations, which dwarf the
 * loads a register tile saves, so its tile is 1×1 (a small kernel, quick to compile). Only coded
 * operands take this tile; f32 ones take declared-rows.ts's kernel, vectorized across outputs.
 */
function declaredSchedule(given: GemmSchedule, declared: Accumulator): GemmSchedule {
  const tile = isFloat32Accumulator(declared.format) ? {} : { mr: 1, nr: 1 };
  return { ...given, ...tile, kc: MAX_DECLARED_ACCUMULATOR_K, unroll: 1, vector: 1, accumulator: "f32" };
}

/** A lane-scaled operand (ShiftQuant) off the integer path: its scale would have to be applied per element. */
function laneScaledNeedsInteger(name: "a" | "b", operand: ResolvedFormat | "f32", decoder: OperandDecoder): void {
  if (!decoder.laneScaled || operand === "f32") return;
  throw new GemmUnsupportedError(
    name,
    decoder.label,
    `tensor scaling "${operand.scaling.kind}" is not yet supported by the GEMM lowering off the exact integer path: its power-of-two lane scales are applied after the exact i32 accumulation, which needs both operands as integer codes (shift-groups or unscaled) with sums exact in i32 for k up to 2^16 — dequantize the operand to f32 first`,
  );
}

/** Largest |integer| a 16-bit half of a packed pair holds for every operand of a format. */
const MAX_PAIR_HALF = 2 ** 15 - 1;

function plan(options: GemmOptions): Plan {
  const declared = options.accumulator === undefined ? null : checkAccumulator(options.accumulator);
  // A declared accumulator's order is the whole depth, one k step at a time, whatever the target's blocking.
  const given = checkGemmSchedule(options.schedule);
  const schedule = declared === null ? given : checkGemmSchedule(declaredSchedule(given, declared));
  const a = operandDecoder("a", options.a);
  const b = operandDecoder("b", options.b);
  const exactK = a.integer !== null && b.integer !== null ? Math.floor((2 ** 31 - 1) / (a.integer.maxAbs * b.integer.maxAbs)) : null;
  const integer = declared === null && exactK !== null && exactK >= MIN_EXACT_DEPTH;
  const maxK = declared !== null ? MAX_DECLARED_ACCUMULATOR_K : exactK;
  if (!integer) for (const [name, operand] of [["a", options.a], ["b", options.b]] as const) laneScaledNeedsInteger(name, operand, name === "a" ? a : b);
  return {
    name: options.name ?? "gemm",
    schedule,
    a,
    b,
    accumulation: integer ? I32_ACCUMULATION : schedule.accumulator === "f64" ? F64_ACCUMULATION : F32_ACCUMULATION,
    maxK: integer || declared !== null ? maxK : null,
    pairs: integer && (schedule.vector ?? 1) > 1 && (a.integer?.maxAbs ?? Infinity) <= MAX_PAIR_HALF && (b.integer?.maxAbs ?? Infinity) <= MAX_PAIR_HALF,
    declared,
    declaredRows: declared !== null && options.a === "f32" && options.b === "f32",
  };
}

function scratchOf(p: Plan): GemmScratchBuffer[] {
  if (p.declaredRows) {
    const whole = (dim: ScratchFactor["dim"]): ScratchFactor => ({ dim, multiple: 1, block: null });
    const { rowsB, sums, totals, compensations } = DECLARED_ROWS_SCRATCH;
    return [
      { name: rowsB, storage: "f32", factors: [whole("k"), whole("n")], needed: "always" },
      { name: sums, storage: "f32", factors: [whole("n")], needed: "always" },
      { name: totals, storage: "f32", factors: [whole("n")], needed: "always" },
      { name: compensations, storage: "f32", factors: [whole("n")], needed: "always" },
    ];
  }
  const { mr, nr, kc, mc, nc, pack } = p.schedule;
  const unroll = p.schedule.unroll ?? 1;
  const storage = p.accumulation.operand;
  const list: GemmScratchBuffer[] = [];
  if (pack) {
    list.push({ name: "packA", storage, factors: [{ dim: "m", multiple: mr, block: mc }, { dim: "k", multiple: unroll, block: kc }], needed: "always" });
    list.push({ name: "packB", storage, factors: [{ dim: "n", multiple: nr, block: nc }, { dim: "k", multiple: unroll, block: kc }], needed: "always" });
  }
  if (p.accumulation.type === "i32") {
    list.push({ name: "accumulator", storage: "i32", factors: [{ dim: "m", multiple: 1, block: null }, { dim: "n", multiple: 1, block: nc }], needed: "k>kc" });
  }
  return list;
}

function paramsOf(p: Plan): Param[] {
  const scalar = (name: string, type: "i32" | "f32"): Param => ({ kind: "scalar", name, type });
  const extras = (prefix: string, d: OperandDecoder): Param[] => d.extraParams.map((x) => ({ ...x, name: `${prefix}_${x.name}` }));
  return [
    { kind: "buffer", name: "a", storage: p.a.storage, access: "read" },
    { kind: "buffer", name: "b", storage: p.b.storage, access: "read" },
    { kind: "buffer", name: "c", storage: "f32", access: "readwrite" },
    scalar("m", "i32"),
    scalar("n", "i32"),
    scalar("k", "i32"),
    scalar("transA", "i32"),
    scalar("transB", "i32"),
    scalar("alpha", "f32"),
    scalar("beta", "f32"),
    ...scratchOf(p).map((s): Param => ({ kind: "buffer", name: s.name, storage: s.storage, access: "readwrite" })),
    ...extras("a", p.a),
    ...extras("b", p.b),
  ];
}

/** The parameter list, scratch buffers and accumulation of the kernel lowerGemm builds. */
export function describeGemm(options: GemmOptions): GemmDescription {
  const p = plan(options);
  return { kernel: p.name, params: paramsOf(p), scratch: scratchOf(p), accumulation: p.accumulation.type, maxK: p.maxK, schedule: p.schedule };
}

/** The GEMM kernels for these operands and schedule (one kernel, `describeGemm(options).kernel`). */
export function lowerGemm(options: GemmOptions): Kernel[] {
  const p = plan(options);
  return [kernel(p.name, paramsOf(p), (b) => lowerGemmBody(b, p))];
}

const i32Ref = (name: string) => ref("i32", name);
const f32Ref = (name: string) => ref("f32", name);

function lowerGemmBody(b: Builder, p: Plan): void {
  const m = i32Ref("m");
  const n = i32Ref("n");
  const k = i32Ref("k");
  const alpha = f32Ref("alpha");
  const beta = f32Ref("beta");
  b.if(
    or(eq(alpha, f32(0)), le(k, i32(0))),
    (scale) => {
      scale.for("ci", i32(0), mul(m, n), (ci, inner) => {
        inner.store("c", ci, select(eq(beta, f32(0)), f32(0), mul(beta, load("f32", "c", ci))));
      });
    },
    (main) => (p.declaredRows ? lowerDeclaredRows(main, p.declared!, m, n, k, alpha, beta) : lowerProduct(main, p, m, n, k, alpha, beta)),
  );
}

function views(b: Builder, p: Plan, m: Expr, n: Expr, k: Expr): { a: OperandView; b: OperandView } {
  const { mr, nr } = p.schedule;
  const transA = b.let("trans_a", ne(i32Ref("transA"), i32(0)));
  const transB = b.let("trans_b", ne(i32Ref("transB"), i32(0)));
  const extra = (prefix: string) => (local: string) => `${prefix}_${local}`;
  const readerA = p.a.bind(b, { data: "a", extra: extra("a") });
  const readerB = p.b.bind(b, { data: "b", extra: extra("b") });
  // op(A)(i, p) is A[i·k + p], or A[p·m + i] when transposed; op(B)(p, j) is B[p·n + j] or B[j·k + p].
  const aLane = b.let("a_lane_stride", select(transA, i32(1), k));
  const aDepth = b.let("a_depth_stride", select(transA, m, i32(1)));
  const bLane = b.let("b_lane_stride", select(transB, k, i32(1)));
  const bDepth = b.let("b_depth_stride", select(transB, i32(1), n));
  const offsets = (stride: Expr, r: number) => Array.from({ length: r }, (_, i) => (i === 0 ? i32(0) : b.let("lane_off", mul(stride, i32(i)))));
  return {
    a: {
      reader: readerA,
      accumulation: p.accumulation,
      lanes: m,
      laneStride: aLane,
      depthStride: aDepth,
      laneOffsets: offsets(aLane, mr),
      stored: (lane, depth) => ({ row: select(transA, depth, lane), col: select(transA, lane, depth) }),
    },
    b: {
      reader: readerB,
      accumulation: p.accumulation,
      lanes: n,
      laneStride: bLane,
      depthStride: bDepth,
      laneOffsets: offsets(bLane, nr),
      stored: (lane, depth) => ({ row: select(transB, lane, depth), col: select(transB, depth, lane) }),
    },
  };
}

/** jc → pc (pack B) → ic (pack A) → jr → ir → micro-kernel + merge. */
function lowerProduct(b: Builder, p: Plan, m: Expr, n: Expr, k: Expr, alpha: Expr, beta: Expr): void {
  const { mr, nr, kc, mc, nc, pack } = p.schedule;
  const vector = p.schedule.vector ?? 1;
  const unroll = p.schedule.unroll ?? 1;
  const acc = p.accumulation;
  const view = views(b, p, m, n, k);
  const alphaAcc = acc.type === "f64" ? b.let("alpha_wide", widen(alpha)) : alpha;
  const cRowOffsets = Array.from({ length: mr }, (_, i) => (i === 0 ? i32(0) : b.let("c_row_off", mul(n, i32(i)))));
  const accStride = acc.type === "i32" ? b.let("acc_stride", min(n, i32(nc))) : null;
  const accRowOffsets = accStride === null ? [] : Array.from({ length: mr }, (_, i) => (i === 0 ? i32(0) : b.let("acc_row_off", mul(accStride, i32(i)))));
  const lanes = laneExponents(b, view, m, n, mr, nr);

  b.for("jc", i32(0), n, (jc, jLoop) => {
    const ncb = jLoop.let("ncb", min(i32(nc), sub(n, jc)));
    jLoop.for("pc", i32(0), k, (pc, pLoop) => {
      const kcb = pLoop.let("kcb", min(i32(kc), sub(k, pc)));
      // Packed steps: kcb (or ⌈kcb/2⌉ pairs) rounded up to the unroll (zero padded, see GemmSchedule.unroll).
      const steps = p.pairs ? pLoop.let("pair_steps", shr(add(kcb, i32(1)), i32(1))) : kcb;
      const depth = unroll === 1 ? steps : pLoop.let("steps_padded", and(add(steps, i32(unroll - 1)), i32(-unroll)));
      const packPanel = (builder: Builder, view: OperandView, panel: string, r: number, laneStart: Expr, laneCount: Expr) =>
        p.pairs
          ? lowerPackPairs(builder, view, panel, r, laneStart, laneCount, pc, kcb, depth, vector)
          : lowerPackPanel(builder, view, panel, r, laneStart, laneCount, pc, kcb, depth, vector);
      const first = pLoop.let("first", eq(pc, i32(0)));
      const last = pLoop.let("last", ge(add(pc, kcb), k));
      const merge = blockMerge(pLoop, alphaAcc, beta, first);
      if (pack) packPanel(pLoop, view.b, "packB", nr, jc, ncb);
      pLoop.for("ic", i32(0), m, (ic, iLoop) => {
        const mcb = iLoop.let("mcb", min(i32(mc), sub(m, ic)));
        if (pack) packPanel(iLoop, view.a, "packA", mr, ic, mcb);
        iLoop.for("jr", i32(0), ncb, (jr, jrLoop) => {
          jrLoop.for("ir", i32(0), mcb, (ir, tile) => {
            const aSource = pack ? packedSliver(tile, "packA", acc.operand, mr, mul(ir, depth)) : unpackedSliver(tile, view.a, mr, add(ic, ir), pc);
            const bSource = pack ? packedSliver(tile, "packB", acc.operand, nr, mul(jr, depth)) : unpackedSliver(tile, view.b, nr, add(jc, jr), pc);
            const sums = p.declared !== null
              ? lowerAccumulatorMicroKernel(tile, p.declared, mr, nr, depth, aSource, bSource)
              : lowerMicroKernel(tile, acc, mr, nr, depth, aSource, bSource, unroll, p.pairs ? pairProduct : mul);
            const row0 = tile.let("row0", add(ic, ir));
            const col0 = tile.let("col0", add(jc, jr));
            const place = {
              base: tile.let("c_base", add(mul(row0, n), col0)),
              rowOffsets: cRowOffsets,
              rowsLeft: tile.let("rows_left", sub(mcb, ir)),
              colsLeft: tile.let("cols_left", sub(ncb, jr)),
            };
            if (accStride === null) {
              forTileElements(tile, mr, nr, place, (s, i, j, ci) => storeMerged(s, "c", ci, sums[i][j], merge));
              return;
            }
            const scaleLog2 = (p.a.integer?.scaleLog2 ?? 0) + (p.b.integer?.scaleLog2 ?? 0);
            const carry = { buffer: "accumulator", base: tile.let("acc_base", add(mul(row0, accStride), jr)), rowOffsets: accRowOffsets };
            const laneExponents = lanes === null ? undefined : lanes(row0, col0);
            lowerIntegerMerge(tile, mr, nr, place, sums, { first, last, alpha, beta, scaleLog2, carry, ...(laneExponents ? { laneExponents } : {}) });
          }, mr);
        }, nr);
      }, mc);
    }, kc);
  }, nc);
}

/**
 * For lane-scaled operands: per tile at (row0, col0), the exponent of element (i, j) is
 * eA(row0 + i) + eB(col0 + j), the mr + nr lane exponents read once per finishing block. Lanes
 * past the matrix edge read the last lane (their elements are never stored), as packing does.
 */
function laneExponents(b: Builder, view: { a: OperandView; b: OperandView }, m: Expr, n: Expr, mr: number, nr: number) {
  const readA = view.a.reader.laneExponent;
  const readB = view.b.reader.laneExponent;
  if (readA === undefined && readB === undefined) return null;
  const lastRow = b.let("last_row", sub(m, i32(1)));
  const lastCol = b.let("last_col", sub(n, i32(1)));
  return (row0: Expr, col0: Expr) => (block: Builder) => {
    const rows = readA === undefined ? null : Array.from({ length: mr }, (_, i) => readA(block, min(add(row0, i32(i)), lastRow)));
    const cols = readB === undefined ? null : Array.from({ length: nr }, (_, j) => readB(block, min(add(col0, i32(j)), lastCol)));
    return (i: number, j: number): Expr => (rows === null ? cols![j] : cols === null ? rows[i] : add(rows[i], cols[j]));
  };
}
