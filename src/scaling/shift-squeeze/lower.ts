/**
 * S2FP8 shift and squeeze (semantics.ts) as kernels. The log2 mean
 * follows SHIFT_SQUEEZE_CHUNK: sequential sums within chunks of 256 (statistics, one chunk per
 * workgroup on a GPU), then sequential over the chunk sums (finalize).
 *
 * shift_squeeze_log2(x, log2_abs, n)                                        log2|x| (−150 where x is ±0, ±∞, NaN), read by the statistics and the squeeze
 * shift_squeeze_statistics(log2_abs, chunk_sum, chunk_count, chunk_max, n)  per chunk: Σ log2|x|, count, max
 * shift_squeeze_finalize(chunk_sum, chunk_count, chunk_max, alpha_beta, n)     α, β
 * shift_squeeze_inverse(alpha_beta, alpha_inv)                                 1/α, once, for the unsqueeze
 * shift_squeeze_encode(x, log2_abs, alpha_beta, codes, n, seed)                codes = encode(squeeze(x))
 * shift_squeeze_code_values(alpha_beta, alpha_inv, code_values, n)             code_values[c] = unsqueeze(decode(c)), c < 2^bits
 * shift_squeeze_decode(codes, alpha_beta, code_values | alpha_inv, values, n)  values = unsqueeze(decode)
 * shift_squeeze_fake_quantize(x, log2_abs, alpha_beta, code_values | alpha_inv, values, n, seed)
 *
 * The squeeze reads log2|x| from the pass the statistics read it from and, where the format
 * allows (squeeze-codes.ts), finds the code from α·log2|x| + β by comparisons instead of exp2f and
 * the encoder. For formats of at most 8 bits the unsqueezed value of every code is computed once
 * per call (code_values: 256 unsqueezes, the one place that unsqueezes) and decode / fake-quantize
 * look it up; wider formats unsqueeze each element.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { SHIFT_SQUEEZE_CHUNK } from "./semantics.ts";
import { f32Bits } from "../../dsl/semantics/bits.ts";
import {
  Builder, abs, add, and, asI32, asU32, bitsOf, convert, div, eq, f32, fromBits, gt, i32, kernel, load, lt, max, mul, ne, neg, not, select, shr, sub, u32, xor,
} from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Param } from "../../codegen/ir/nodes.ts";
import { ALPHA_BETA, shiftSqueezeMetaLayout } from "./meta.ts";
import type { ShiftSqueezeScaling } from "./types.ts";
import { lowerExp2f, lowerLog2Positive } from "../../codegen/lower/elementary.ts";
import { lowerDecodeElement, lowerEncodeElement } from "../../codegen/lower/element.ts";
import { lowerSqueezeCode, squeezeCodeRule } from "./squeeze-codes.ts";
import {
  CODES, N, SEED, VALUES, X, arg, buffer, codeStorage, codesBuffer, forBlocks, randomSource, reads, step, valuesBuffer, writes, xBuffer,
  type ScalingLowering,
} from "../../codegen/lower/scaling/common.ts";

const SUM = "chunk_sum";
const COUNT = "chunk_count";
const MAX = "chunk_max";
const ALPHA_INV = "alpha_inv";
const CODE_VALUES = "code_values";
/** log2|x| of every element, for the statistics and the squeeze (one log2 per element, not two). */
const LOG2_ABS = "log2_abs";
/** Widest format whose code values are tabulated per call (2^bits unsqueezes per call). */
const CODE_VALUES_MAX_BITS = 8;
const INF = Number.POSITIVE_INFINITY;

/** True for the entries the statistics count and the squeeze transforms: non-zero and finite. */
const transformed = (a: Expr) => and(ne(a, f32(0)), lt(a, f32(INF)));

/**
 * What the log2 pass writes for the entries the squeeze does not transform (±0, ±∞, NaN): log2 of
 * +0 as lowerLog2Positive computes it (the subnormal path, exponent −150, nothing added), below
 * the log2 of every non-zero finite float32 (at least −149, that of 2^−149). The statistics count
 * an entry where its log2 is above it, and read nothing else.
 */
const LOG2_NOT_TRANSFORMED = -150;

/**
 * log2|x| of every element the squeeze transforms, LOG2_NOT_TRANSFORMED for the others (±∞ and
 * NaN go through the log2 as +0: one mask on |x|), read by the statistics and by the squeeze,
 * which tests x itself.
 */
function lowerLog2Abs(): Kernel {
  return kernel("shift_squeeze_log2", [reads(X, "f32"), writes(LOG2_ABS, "f32"), N], (b) => {
    b.for("i", i32(0), arg("i32", N.name), (i, body) => {
      const a = body.let("a", abs(load("f32", X, i)));
      const finite = lt(asI32(bitsOf(a)), i32(0x7f800000));
      body.store(LOG2_ABS, i, lowerLog2Positive(body, body.let("finite_a", select(finite, a, f32(0)))));
    });
  });
}

/**
 * A float32's bits as an i32 that orders as the values do (−0 below +0, as the IR's max): the
 * negative values' magnitude bits flipped. Its own inverse. The chunk maxima are taken on it, an
 * integer max of one SIMD instruction where the float max takes several on x86 (and sits on the
 * loop-carried chain).
 */
const orderedKey = (bits: Expr) => xor(bits, and(shr(bits, i32(31)), i32(0x7fffffff)));
const orderedKeyOf = (value: number) => {
  const bits = f32Bits(value) | 0;
  return bits < 0 ? bits ^ 0x7fffffff : bits;
};

function lowerStatistics(): Kernel {
  return kernel("shift_squeeze_statistics", [reads(LOG2_ABS, "f32"), writes(SUM, "f32"), writes(COUNT, "u32"), writes(MAX, "f32"), N], (b) => {
    forBlocks(b, arg("i32", N.name), SHIFT_SQUEEZE_CHUNK, (chunk, start, end, body) => {
      const sum = body.var("sum", f32(0));
      const count = body.var("count", u32(0));
      const largest = body.var("max_key", i32(orderedKeyOf(Number.NEGATIVE_INFINITY)));
      body.for("i", start, end, (i, inner) => {
        const l = inner.let("l", load("f32", LOG2_ABS, i));
        const valid = inner.let("valid", gt(l, f32(LOG2_NOT_TRANSFORMED)));
        // sum + (l or +0) is sum + l where valid and sum itself elsewhere (a sum from +0 is never −0),
        // without a data-dependent branch on the chain.
        inner.assign(sum.name, add(sum.ref, select(valid, l, f32(0))));
        inner.assign(count.name, add(count.ref, asU32(valid)));
        // A max, not a compare-and-select: exact in any order, so SIMD keeps one per lane. The
        // entries not counted take part (LOG2_NOT_TRANSFORMED): below every counted log2, they
        // never decide the tensor's maximum where something is counted, and with nothing
        // counted the maximum is not used (α = 1, β = −0).
        inner.assign(largest.name, max(largest.ref, orderedKey(asI32(bitsOf(l)))));
      });
      body.store(SUM, chunk, sum.ref);
      body.store(COUNT, chunk, count.ref);
      body.store(MAX, chunk, fromBits(asU32(orderedKey(largest.ref))));
    });
  });
}

function lowerFinalize(format: ResolvedFormat, scaling: ShiftSqueezeScaling): Kernel {
  const target = scaling.targetMaxLog2;
  if (Math.fround(target) !== target) throw new Error(`${format.name}: targetMaxLog2 ${target} must be a float32 value for float32 α`);
  return kernel("shift_squeeze_finalize", [reads(SUM, "f32"), reads(COUNT, "u32"), reads(MAX, "f32"), writes(ALPHA_BETA, "f32"), N], (b) => {
    const total = b.var("total", f32(0));
    const count = b.var("count", u32(0));
    const max = b.var("max", f32(Number.NEGATIVE_INFINITY));
    forBlocks(b, arg("i32", N.name), SHIFT_SQUEEZE_CHUNK, (chunk, _start, _end, body) => {
      body.assign(total.name, add(total.ref, load("f32", SUM, chunk)));
      body.assign(count.name, add(count.ref, load("u32", COUNT, chunk)));
      const m = body.let("m", load("f32", MAX, chunk));
      body.assign(max.name, select(gt(m, max.ref), m, max.ref));
    });
    // Exact as the semantics' double division while the count is below 2^24 (float32 integers).
    const mean = b.let("mean", select(eq(count.ref, u32(0)), f32(0), div(total.ref, convert("f32.fromU32", count.ref))));
    const spread = and(gt(count.ref, u32(0)), gt(max.ref, mean));
    const alpha = b.let("alpha", select(spread, div(f32(target), sub(max.ref, mean)), f32(1)));
    b.store(ALPHA_BETA, i32(0), alpha);
    b.store(ALPHA_BETA, i32(1), neg(mul(alpha, mean)));
  });
}

/** sign(v)·exp2f(exponent) for non-zero finite v, v itself otherwise: the squeeze and the unsqueeze. */
function lowerSignedExp2(b: Builder, v: Expr, exponent: Expr): Expr {
  const y = lowerExp2f(b, exponent);
  const signed = select(lt(v, f32(0)), neg(y), y);
  return b.let("transformed", select(not(transformed(abs(v))), v, signed));
}

type Element = (body: Builder, i: Expr, p: { readonly alpha: Expr; readonly beta: Expr; readonly alphaInv: Expr }, draw: Expr | null) => void;

function elementwise(format: ResolvedFormat, name: string, params: readonly Param[], element: Element): Kernel {
  return kernel(name, params, (b) => {
    const draw = params.includes(SEED) ? randomSource(b, format) : null;
    const alpha = b.let("alpha", load("f32", ALPHA_BETA, i32(0)));
    const beta = b.let("beta", load("f32", ALPHA_BETA, i32(1)));
    const alphaInv = params.some((p) => p.name === ALPHA_INV) ? b.let("alpha_inv", load("f32", ALPHA_INV, i32(0))) : f32(1);
    b.for("i", i32(0), arg("i32", N.name), (i, body) => element(body, i, { alpha, beta, alphaInv }, draw === null ? null : draw(body, i)));
  });
}

/** Kernels and plans of an S2FP8-scaled format. */
export function lowerShiftSqueeze(format: ResolvedFormat, scaling: ShiftSqueezeScaling): ScalingLowering {
  const codes = codeStorage(format);
  const log2Abs = lowerLog2Abs();
  const statistics = lowerStatistics();
  const finalize = lowerFinalize(format, scaling);
  const inverse = kernel("shift_squeeze_inverse", [reads(ALPHA_BETA, "f32"), writes(ALPHA_INV, "f32")], (b) => {
    b.store(ALPHA_INV, i32(0), div(f32(1), load("f32", ALPHA_BETA, i32(0))));
  });
  const squeezeExponent = (log2: Expr, p: { alpha: Expr; beta: Expr }) => add(mul(p.alpha, log2), p.beta);
  // encode(squeeze(x)) from x and log2|x|: by the rule where the format has one (squeeze-codes.ts), else exp2f and the encoder.
  const rule = squeezeCodeRule(format);
  const squeezeCode = (b: Builder, i: Expr, p: { alpha: Expr; beta: Expr }, draw: Expr | null) => {
    const x = b.let("x", load("f32", X, i));
    const t = b.let("squeeze_exponent", squeezeExponent(load("f32", LOG2_ABS, i), p));
    return rule !== null && draw === null ? lowerSqueezeCode(b, rule, x, t) : lowerEncodeElement(b, format, lowerSignedExp2(b, x, t), draw);
  };
  const unsqueezeCode = (b: Builder, code: Expr, p: { beta: Expr; alphaInv: Expr }) => {
    const value = lowerDecodeElement(b, format, code);
    return lowerSignedExp2(b, value, mul(sub(lowerLog2Positive(b, abs(value)), p.beta), p.alphaInv));
  };
  const tabulated = format.bits <= CODE_VALUES_MAX_BITS;
  // The value a code stands for: from the per-call table where there is one.
  const valueOf = tabulated
    ? (b: Builder, code: Expr) => b.let("code_value", load("f32", CODE_VALUES, asI32(code)))
    : (b: Builder, code: Expr, p: { beta: Expr; alphaInv: Expr }) => unsqueezeCode(b, code, p);
  // What the value of a code is read from: the table, or α⁻¹ for an unsqueeze per element.
  const valueParam = tabulated ? reads(CODE_VALUES, "f32") : reads(ALPHA_INV, "f32");

  const encodeParams = [reads(X, "f32"), reads(LOG2_ABS, "f32"), reads(ALPHA_BETA, "f32"), writes(CODES, codes), N, SEED];
  const encodeKernel = elementwise(format, "shift_squeeze_encode", encodeParams, (body, i, p, draw) => {
    body.store(CODES, i, squeezeCode(body, i, p, draw));
  });
  const codeValuesKernel = elementwise(format, "shift_squeeze_code_values", [reads(ALPHA_BETA, "f32"), reads(ALPHA_INV, "f32"), writes(CODE_VALUES, "f32"), N], (body, c, p) => {
    body.store(CODE_VALUES, c, unsqueezeCode(body, asU32(c), p));
  });
  const decodeParams = [reads(CODES, codes), reads(ALPHA_BETA, "f32"), valueParam, writes(VALUES, "f32"), N];
  const decodeKernel = elementwise(format, "shift_squeeze_decode", decodeParams, (body, i, p) => {
    body.store(VALUES, i, valueOf(body, load("u32", CODES, i), p));
  });
  const fakeParams = [reads(X, "f32"), reads(LOG2_ABS, "f32"), reads(ALPHA_BETA, "f32"), valueParam, writes(VALUES, "f32"), N, SEED];
  const fake = elementwise(format, "shift_squeeze_fake_quantize", fakeParams, (body, i, p, draw) => {
    // encode then decode, not the fused fake-quantize element: through the fused element the sign
    // of a NaN input did not survive on lavapipe's WGSL (the package test caught +NaN for −NaN).
    body.store(VALUES, i, valueOf(body, squeezeCode(body, i, p, draw), p));
  });

  const perChunk = { perBlock: { blockSize: SHIFT_SQUEEZE_CHUNK, count: 1 } };
  const statisticsBuffers = [buffer(LOG2_ABS, "f32", { perElement: 1 }, "scratch"), buffer(SUM, "f32", perChunk, "scratch"), buffer(COUNT, "u32", perChunk, "scratch"), buffer(MAX, "f32", perChunk, "scratch")];
  const alphaInv = buffer(ALPHA_INV, "f32", { constant: 1 }, "scratch");
  const statsSteps = [step(log2Abs), step(statistics), step(finalize)];
  const codeValues = tabulated ? [buffer(CODE_VALUES, "f32", { constant: 2 ** format.bits }, "scratch")] : [];
  const valueSteps = [step(inverse), ...(tabulated ? [step(codeValuesKernel, { n: { constant: 2 ** format.bits } })] : [])];
  return {
    kernels: [log2Abs, statistics, finalize, inverse, encodeKernel, ...(tabulated ? [codeValuesKernel] : []), decodeKernel, fake],
    plans: {
      encode: { buffers: [xBuffer(), codesBuffer(format, "output"), ...statisticsBuffers, ...shiftSqueezeMetaLayout("meta")], steps: [...statsSteps, step(encodeKernel)] },
      decode: { buffers: [codesBuffer(format, "input"), ...shiftSqueezeMetaLayout("input"), alphaInv, ...codeValues, valuesBuffer()], steps: [...valueSteps, step(decodeKernel)] },
      fakeQuantize: { buffers: [xBuffer(), valuesBuffer(), ...statisticsBuffers, ...shiftSqueezeMetaLayout("meta"), alphaInv, ...codeValues], steps: [...statsSteps, ...valueSteps, step(fake)] },
    },
  };
}
