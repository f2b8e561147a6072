/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017, §3.2) over projected queries,
 * keys and values: softmax(Q·Kᵀ/√d_h + mask)·V per batch row and head. Its two GEMMs per
 * (batch, head), the scores Q·Kᵀ and the context P·V, run through the backend as one batched
 * GEMM each (backend.ts gemmBatched: one GPU round trip on the webgpu backend) with operands
 * quantized by the recipe, as `linear` does: each GEMM's A operand in the role of a layer's
 * input and its B operand (K, V) in the role of a layer's weight, so the backward GEMMs are an
 * "input gradient" (error × B) and a "weight gradient" (Aᵀ × error). Every operand is an
 * activation or an error, each at its own site so scaled formats keep one scale per tensor:
 *
 *   `${site}.scores.query`, `${site}.scores.key`    Q and K (activations) of the scores GEMM
 *   `${site}.context.probs`, `${site}.context.value` P and V (activations) of the context GEMM
 *   `${site}.scores`, `${site}.context`             ∂L/∂S and ∂L/∂C (errors)
 *
 * Since sub-sites match, a recipe pattern `${site}.scores` covers Q, K and ∂L/∂S, and
 * `${site}.context` covers P, V and ∂L/∂C. Each operand is quantized once over all batch rows
 * and heads (one scale per tensor); per-channel formats get one channel per row or column, along
 * the axis the GEMM at hand does not sum, as in `linear`.
 */
import { gemmBatched } from "../backend.ts";
import { recording, type Ctx } from "../context.ts";
import { groupedColumnChannels, operandFor, quantizedView, rowChannels } from "../precision.ts";
import { expectRank, expectSameDType, gradOf, Tensor, zerosLike, type FloatArray } from "../tensor.ts";

/** Heads and masks of one attention call. */
export interface AttentionOptions {
  /** Number of heads H; the model width D must be a multiple of it (d_h = D / H). */
  readonly heads: number;
  /**
   * [B·Tk] flags, row-major by batch row: non-zero marks a key position as padding, hidden from
   * every query of that batch row.
   */
  readonly keyPadding?: ArrayLike<number>;
  /** Query i sees keys 0..i only (decoder self-attention); needs Tq = Tk. */
  readonly causal?: boolean;
  /** Names the call for the recipe; see the module comment for the sub-sites. */
  readonly site: string;
}

/**
 * q [B, Tq, D], k and v [B, Tk, D] → [B, Tq, D]. Masked scores are −∞ before the softmax, so
 * they get probability exactly 0. A query whose every key is masked (a padded batch row with
 * no real key) has no distribution to take: its probabilities are defined as all 0, so its
 * output is 0 and it passes no gradient, rather than the NaN of 0/0.
 */
export function attention(ctx: Ctx, q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const shape = attentionShape(q, k, v, options);
  const { batch, tq, tk, heads, headDim, width } = shape;
  const { site } = options;
  const { backend, precision } = ctx;
  const sites = {
    query: `${site}.scores.query`, key: `${site}.scores.key`, probs: `${site}.context.probs`, value: `${site}.context.value`,
    scores: `${site}.scores`, context: `${site}.context`,
  };
  const qh = splitHeads(q.data, shape, tq);
  const kh = splitHeads(k.data, shape, tk);
  const vh = splitHeads(v.data, shape, tk);
  const groups = batch * heads;
  const layouts = operandLayouts(groups, tq, tk, headDim);
  const qq = quantizedView(precision, "activation", qh, sites.query, "forward", layouts.query.rows);
  const kq = quantizedView(precision, "activation", kh, sites.key, "forward", layouts.key.rows);
  const alpha = 1 / Math.sqrt(headDim);
  const probs = zerosLike(q.data, groups * tq * tk);
  gemmBatched(backend, { a: qq, b: kq, c: probs, m: tq, n: tk, k: headDim, transA: false, transB: true, alpha, beta: 0, batch: groups, pass: "forward" });
  maskedSoftmax(probs, shape, options);
  const pq = quantizedView(precision, "activation", probs, sites.probs, "forward", layouts.probs.rows);
  const vq = quantizedView(precision, "activation", vh, sites.value, "forward", layouts.value.columns);
  const context = zerosLike(q.data, groups * tq * headDim);
  gemmBatched(backend, { a: pq, b: vq, c: context, m: tq, n: headDim, k: tk, transA: false, transB: false, alpha: 1, beta: 0, batch: groups, pass: "forward" });
  const y = zerosLike(q.data, batch * tq * width);
  mergeHeadsInto(y, context, shape, tq);
  const rec = recording(ctx, q, k, v);
  const out = new Tensor([batch, tq, width], y, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    if (out.grad === null) return;
    const dContext = splitHeads(out.grad, shape, tq);
    const dcq = quantizedView(precision, "error", dContext, sites.context, "inputGradient", layouts.context.rows);
    if (v.requiresGrad) {
      const pw = operandFor(precision, "activation", probs, pq, sites.probs, "forward", "weightGradient", { first: layouts.probs.rows, pass: layouts.probs.columns });
      const dcw = operandFor(precision, "error", dContext, dcq, sites.context, "inputGradient", "weightGradient", { first: layouts.context.rows, pass: layouts.context.columns });
      const dv = zerosLike(q.data, groups * tk * headDim);
      gemmBatched(backend, { a: pw, b: dcw, c: dv, m: tk, n: headDim, k: tq, transA: true, transB: false, alpha: 1, beta: 0, batch: groups, pass: "weightGradient" });
      mergeHeadsInto(gradOf(v), dv, shape, tk);
    }
    if (!q.requiresGrad && !k.requiresGrad) return;
    const vi = operandFor(precision, "activation", vh, vq, sites.value, "forward", "inputGradient", { first: layouts.value.columns, pass: layouts.value.rows });
    const dScores = zerosLike(q.data, groups * tq * tk);
    gemmBatched(backend, { a: dcq, b: vi, c: dScores, m: tq, n: tk, k: headDim, transA: false, transB: true, alpha: 1, beta: 0, batch: groups, pass: "inputGradient" });
    softmaxBackwardInPlace(dScores, probs, tk);
    const dsq = quantizedView(precision, "error", dScores, sites.scores, "inputGradient", layouts.probs.rows);
    if (q.requiresGrad) {
      const ki = operandFor(precision, "activation", kh, kq, sites.key, "forward", "inputGradient", { first: layouts.key.rows, pass: layouts.key.columns });
      const dq = zerosLike(q.data, groups * tq * headDim);
      gemmBatched(backend, { a: dsq, b: ki, c: dq, m: tq, n: headDim, k: tk, transA: false, transB: false, alpha, beta: 0, batch: groups, pass: "inputGradient" });
      mergeHeadsInto(gradOf(q), dq, shape, tq);
    }
    if (k.requiresGrad) {
      const dsw = operandFor(precision, "error", dScores, dsq, sites.scores, "inputGradient", "weightGradient", { first: layouts.probs.rows, pass: layouts.probs.columns });
      const qw = operandFor(precision, "activation", qh, qq, sites.query, "forward", "weightGradient", { first: layouts.query.rows, pass: layouts.query.columns });
      const dk = zerosLike(q.data, groups * tk * headDim);
      gemmBatched(backend, { a: dsw, b: qw, c: dk, m: tk, n: headDim, k: tq, transA: true, transB: false, alpha, beta: 0, batch: groups, pass: "weightGradient" });
      mergeHeadsInto(gradOf(k), dk, shape, tk);
    }
  });
  return out;
}

/** The sizes of one attention call. */
interface AttentionShape {
  readonly batch: number;
  readonly tq: number;
  readonly tk: number;
  readonly heads: number;
  readonly headDim: number;
  readonly width: number;
}

function attentionShape(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): AttentionShape {
  const op = `attention ${options.site}`;
  for (const t of [q, k, v]) expectRank(op, t, 3);
  expectSameDType(op, q, k, v);
  const [batch, tq, width] = q.shape;
  const [kb, tk, kw] = k.shape;
  if (kb !== batch || kw !== width || v.shape[0] !== batch || v.shape[1] !== tk || v.shape[2] !== width) {
    throw new RangeError(`${op}: q [${q.shape.join(", ")}] needs k and v of [${batch}, Tk, ${width}], got [${k.shape.join(", ")}] and [${v.shape.join(", ")}]`);
  }
  const { heads } = options;
  if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0) {
    throw new RangeError(`${op}: ${heads} heads do not divide the width ${width}`);
  }
  if (options.causal === true && tq !== tk) throw new RangeError(`${op}: a causal mask needs as many queries as keys, got ${tq} and ${tk}`);
  if (options.keyPadding !== undefined && options.keyPadding.length !== batch * tk) {
    throw new RangeError(`${op}: the key padding mask has ${options.keyPadding.length} flags, needs ${batch}×${tk}`);
  }
  return { batch, tq, tk, heads, headDim: width / heads, width };
}

/**
 * Row and column channel layouts of the per-(batch, head) operands, all heads stacked: Q and ∂L/∂C
 * are [G·Tq, d_h], K and V [G·Tk, d_h], P and ∂L/∂S [G·Tq, Tk]. A column layout gives one channel
 * per column across every (batch, head) block, which still keeps each scale constant along the sum.
 */
function operandLayouts(groups: number, tq: number, tk: number, headDim: number) {
  // Rows are lanes within one (batch, head) already; columns are lanes per group, so no lane (and no block along K) runs across heads.
  const both = (rows: number, cols: number) => ({ rows: rowChannels(groups * rows, cols), columns: groupedColumnChannels(groups, rows, cols) });
  const query = both(tq, headDim);
  return { query, context: query, key: both(tk, headDim), value: both(tk, headDim), probs: both(tq, tk) };
}

/** [B, T, H·d_h] → a fresh [B, H, T, d_h] copy, so each (batch, head) block is contiguous for the GEMMs. */
function splitHeads(src: FloatArray, s: AttentionShape, t: number): FloatArray {
  const dst = zerosLike(src, s.batch * t * s.width);
  const { heads, headDim, width } = s;
  for (let b = 0; b < s.batch; b++) {
    for (let i = 0; i < t; i++) {
      const row = (b * t + i) * width;
      for (let h = 0; h < heads; h++) {
        const from = row + h * headDim;
        const to = ((b * heads + h) * t + i) * headDim;
        for (let j = 0; j < headDim; j++) dst[to + j] = src[from + j];
      }
    }
  }
  return dst;
}

/** dst [B, T, H·d_h] += src [B, H, T, d_h] (the inverse layout of splitHeads, accumulating). */
function mergeHeadsInto(dst: FloatArray, src: FloatArray, s: AttentionShape, t: number): void {
  const { heads, headDim, width } = s;
  for (let b = 0; b < s.batch; b++) {
    for (let i = 0; i < t; i++) {
      const row = (b * t + i) * width;
      for (let h = 0; h < heads; h++) {
        const from = ((b * heads + h) * t + i) * headDim;
        const to = row + h * headDim;
        for (let j = 0; j < headDim; j++) dst[to + j] += src[from + j];
      }
    }
  }
}

/** Scores [B, H, Tq, Tk] → probabilities in place, row by row; masked entries and fully masked rows become 0. */
function maskedSoftmax(p: FloatArray, s: AttentionShape, options: AttentionOptions): void {
  const { tq, tk, heads } = s;
  const padding = options.keyPadding;
  const causal = options.causal === true;
  const visible = new Uint8Array(tk);
  for (let b = 0; b < s.batch; b++) {
    for (let j = 0; j < tk; j++) visible[j] = padding === undefined || padding[b * tk + j] === 0 ? 1 : 0;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tq; i++) {
        const o = ((b * heads + h) * tq + i) * tk;
        const end = causal ? i + 1 : tk;
        let max = -Infinity;
        for (let j = 0; j < end; j++) if (visible[j] === 1 && p[o + j] > max) max = p[o + j];
        if (max === -Infinity) {
          p.fill(0, o, o + tk);
          continue;
        }
        let z = 0;
        for (let j = 0; j < tk; j++) {
          const e = j < end && visible[j] === 1 ? Math.exp(p[o + j] - max) : 0;
          p[o + j] = e;
          z += e;
        }
        const inv = 1 / z;
        for (let j = 0; j < end; j++) p[o + j] *= inv;
      }
    }
  }
}

/** dP → dS in place: dS_ij = P_ij·(dP_ij − Σ_l dP_il·P_il), row by row (zero where P is 0). */
function softmaxBackwardInPlace(d: FloatArray, p: FloatArray, tk: number): void {
  for (let o = 0; o < d.length; o += tk) {
    let dot = 0;
    for (let j = 0; j < tk; j++) dot += d[o + j] * p[o + j];
    for (let j = 0; j < tk; j++) d[o + j] = p[o + j] * (d[o + j] - dot);
  }
}
