/**
 * S2FP8 shift and squeeze (dsl/semantics/scaling/shift-squeeze.ts) as kernels. The log2 mean
 * follows SHIFT_SQUEEZE_CHUNK: sequential sums within chunks of 256 (statistics, one chunk per
 * workgroup on a GPU), then sequential over the chunk sums (finalize).
 *
 * shift_squeeze_statistics(x, chunk_sum, chunk_count, chunk_max, n)   per chunk: Σ log2f|x|, count, max
 * shift_squeeze_finalize(chunk_sum, chunk_count, chunk_max, alpha_beta, n)   α, β
 * shift_squeeze_inverse(alpha_beta, alpha_inv)                         1/α, once, for the unsqueeze
 * shift_squeeze_encode(x, alpha_beta, codes, n, seed)                  codes = encode(squeeze(x))
 * shift_squeeze_decode(codes, alpha_beta, alpha_inv, values, n)        values = unsqueeze(decode)
 * shift_squeeze_fake_quantize(x, alpha_beta, alpha_inv, values, n, seed)
 */
import type { ResolvedFormat, ResolvedScaling } from "../../../dsl/resolved.ts";
import { f32Bits } from "../../../dsl/semantics/bits.ts";
import { log2f } from "../../../dsl/semantics/elementary.ts";
import { decode } from "../../../dsl/semantics/scalar.ts";
import { SHIFT_SQUEEZE_CHUNK } from "../../../dsl/semantics/scaling/shift-squeeze.ts";
import {
  Builder, abs, add, and, asU32, bitsOf, convert, div, eq, f32, fromBits, gt, i32, kernel, load, lt, min, mul, ne, neg, not, select, shr, sub, u32,
} from "../../ir/build.ts";
import type { Expr, Kernel, Param } from "../../ir/nodes.ts";
import { META, metaLayout } from "../../meta.ts";
import { lowerExp2f, lowerLog2Positive } from "../elementary.ts";
import { lowerDecodeElement, lowerEncodeElement } from "../element.ts";
import {
  CODES, N, SEED, VALUES, X, arg, buffer, codeStorage, codesBuffer, forBlocks, randomSource, reads, step, valuesBuffer, writes, xBuffer,
  type ScalingLowering,
} from "./common.ts";

type ShiftSqueezeScaling = Extract<ResolvedScaling, { kind: "shift-squeeze" }>;

const SUM = "chunk_sum";
const COUNT = "chunk_count";
const MAX = "chunk_max";
const ALPHA_INV = "alpha_inv";
const INF = Number.POSITIVE_INFINITY;

/** True for the entries the statistics count and the squeeze transforms: non-zero and finite. */
const transformed = (a: Expr) => and(ne(a, f32(0)), lt(a, f32(INF)));

function lowerStatistics(): Kernel {
  return kernel("shift_squeeze_statistics", [reads(X, "f32"), writes(SUM, "f32"), writes(COUNT, "u32"), writes(MAX, "f32"), N], (b) => {
    forBlocks(b, arg("i32", N.name), SHIFT_SQUEEZE_CHUNK, (chunk, start, end, body) => {
      const sum = body.var("sum", f32(0));
      const count = body.var("count", u32(0));
      const max = body.var("max", f32(Number.NEGATIVE_INFINITY));
      body.for("i", start, end, (i, inner) => {
        const a = inner.let("a", abs(load("f32", X, i)));
        const valid = inner.let("valid", transformed(a));
        const l = lowerLog2Positive(inner, a);
        // sum + (l or 0) is sum + l where valid and sum itself elsewhere (a sum from +0 is never −0,
        // and l is finite for every input), without a data-dependent select on the chain.
        inner.assign(sum.name, add(sum.ref, mul(l, convert("f32.fromU32", asU32(valid)))));
        inner.assign(count.name, add(count.ref, asU32(valid)));
        inner.assign(max.name, select(and(valid, gt(l, max.ref)), l, max.ref));
      });
      body.store(SUM, chunk, sum.ref);
      body.store(COUNT, chunk, count.ref);
      body.store(MAX, chunk, max.ref);
    });
  });
}

function lowerFinalize(format: ResolvedFormat, scaling: ShiftSqueezeScaling): Kernel {
  const target = scaling.targetMaxLog2;
  if (Math.fround(target) !== target) throw new Error(`${format.name}: targetMaxLog2 ${target} must be a float32 value for float32 α`);
  return kernel("shift_squeeze_finalize", [reads(SUM, "f32"), reads(COUNT, "u32"), reads(MAX, "f32"), writes(META.alphaBeta, "f32"), N], (b) => {
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
    b.store(META.alphaBeta, i32(0), alpha);
    b.store(META.alphaBeta, i32(1), neg(mul(alpha, mean)));
  });
}

/**
 * squeeze(v) with log2 scale `factor` and shift `offset`: sign(v)·2^(log2|v|·factor + offset)
 * (unsqueeze: (log2|v| − β)·(1/α)). `log2` computes log2 of a positive finite |v|.
 */
function lowerTransform(b: Builder, v: Expr, exponent: (log2: Expr) => Expr, log2: (b: Builder, a: Expr) => Expr = lowerLog2Positive): Expr {
  const a = b.let("a", abs(v));
  const y = lowerExp2f(b, exponent(log2(b, a)));
  const signed = select(lt(v, f32(0)), neg(y), y);
  return b.let("transformed", select(not(transformed(a)), v, signed));
}

/**
 * log2f of a positive finite value of an ≤ 8-bit format by table, for the unsqueeze: the
 * semantics' log2f of every such value, keyed by the value's float32 exponent and top m mantissa
 * bits (one key per value: a format value has at most m bits after its leading one). Null when a
 * value is not a normal float32 (its key would not be its own) or the format is wider.
 */
function formatLog2Table(format: ResolvedFormat): ((b: Builder, a: Expr) => Expr) | null {
  if (format.element.kind !== "float" || format.bits > 8) return null;
  const dropped = 23 - format.element.mantissaBits;
  const values = Array.from({ length: 2 ** format.bits }, (_, code) => decode(format, code)).filter((v) => v > 0 && v < Number.POSITIVE_INFINITY);
  if (values.some((v) => v < 2 ** -126)) return null;
  const keys = values.map((v) => f32Bits(v) >>> dropped);
  const first = Math.min(...keys);
  const entries = new Array<number>(Math.max(...keys) - first + 1).fill(0);
  values.forEach((v, i) => (entries[keys[i] - first] = f32Bits(log2f(v))));
  return (b, a) => {
    // Lanes that are not such a value (0, ∞, NaN: the transform passes them through) read a clamped entry.
    const index = min(sub(shr(bitsOf(a), u32(dropped)), u32(first)), u32(entries.length - 1));
    return b.let("log2_value", fromBits(b.names.table(`log2_values_${format.bits}_${first}`, "u32", () => entries, index)));
  };
}

type Element = (body: Builder, i: Expr, p: { readonly alpha: Expr; readonly beta: Expr; readonly alphaInv: Expr }, draw: Expr | null) => void;

function elementwise(format: ResolvedFormat, name: string, params: readonly Param[], element: Element): Kernel {
  return kernel(name, params, (b) => {
    const draw = params.includes(SEED) ? randomSource(b, format) : null;
    const alpha = b.let("alpha", load("f32", META.alphaBeta, i32(0)));
    const beta = b.let("beta", load("f32", META.alphaBeta, i32(1)));
    const alphaInv = params.some((p) => p.name === ALPHA_INV) ? b.let("alpha_inv", load("f32", ALPHA_INV, i32(0))) : f32(1);
    b.for("i", i32(0), arg("i32", N.name), (i, body) => element(body, i, { alpha, beta, alphaInv }, draw === null ? null : draw(body, i)));
  });
}

/** Kernels and plans of an S2FP8-scaled format. */
export function lowerShiftSqueeze(format: ResolvedFormat, scaling: ShiftSqueezeScaling): ScalingLowering {
  const codes = codeStorage(format);
  const statistics = lowerStatistics();
  const finalize = lowerFinalize(format, scaling);
  const inverse = kernel("shift_squeeze_inverse", [reads(META.alphaBeta, "f32"), writes(ALPHA_INV, "f32")], (b) => {
    b.store(ALPHA_INV, i32(0), div(f32(1), load("f32", META.alphaBeta, i32(0))));
  });
  const squeeze = (b: Builder, x: Expr, p: { alpha: Expr; beta: Expr }) => lowerTransform(b, x, (l) => add(mul(p.alpha, l), p.beta));
  // Unsqueezed values are the format's: their log2 comes from a table where the format is narrow.
  const valueLog2 = formatLog2Table(format) ?? lowerLog2Positive;
  const unsqueeze = (b: Builder, y: Expr, p: { beta: Expr; alphaInv: Expr }) => lowerTransform(b, y, (l) => mul(sub(l, p.beta), p.alphaInv), valueLog2);

  const encodeKernel = elementwise(format, "shift_squeeze_encode", [reads(X, "f32"), reads(META.alphaBeta, "f32"), writes(CODES, codes), N, SEED], (body, i, p, draw) => {
    body.store(CODES, i, lowerEncodeElement(body, format, squeeze(body, load("f32", X, i), p), draw));
  });
  const decodeParams = [reads(CODES, codes), reads(META.alphaBeta, "f32"), reads(ALPHA_INV, "f32"), writes(VALUES, "f32"), N];
  const decodeKernel = elementwise(format, "shift_squeeze_decode", decodeParams, (body, i, p) => {
    body.store(VALUES, i, unsqueeze(body, lowerDecodeElement(body, format, load("u32", CODES, i)), p));
  });
  const fakeParams = [reads(X, "f32"), reads(META.alphaBeta, "f32"), reads(ALPHA_INV, "f32"), writes(VALUES, "f32"), N, SEED];
  const fake = elementwise(format, "shift_squeeze_fake_quantize", fakeParams, (body, i, p, draw) => {
    // encode then decode, not the fused fake-quantize element: through the fused element the sign
    // of a NaN input did not survive on lavapipe's WGSL (the package test caught +NaN for −NaN).
    const code = lowerEncodeElement(body, format, squeeze(body, load("f32", X, i), p), draw);
    body.store(VALUES, i, unsqueeze(body, lowerDecodeElement(body, format, code), p));
  });

  const perChunk = { perBlock: { blockSize: SHIFT_SQUEEZE_CHUNK, count: 1 } };
  const chunks = [buffer(SUM, "f32", perChunk, "scratch"), buffer(COUNT, "u32", perChunk, "scratch"), buffer(MAX, "f32", perChunk, "scratch")];
  const alphaInv = buffer(ALPHA_INV, "f32", { constant: 1 }, "scratch");
  const statsSteps = [step(statistics), step(finalize)];
  return {
    kernels: [statistics, finalize, inverse, encodeKernel, decodeKernel, fake],
    plans: {
      encode: { buffers: [xBuffer(), codesBuffer(format, "output"), ...chunks, ...metaLayout(format)], steps: [...statsSteps, step(encodeKernel)] },
      decode: { buffers: [codesBuffer(format, "input"), ...metaLayout(format, "input"), alphaInv, valuesBuffer()], steps: [step(inverse), step(decodeKernel)] },
      fakeQuantize: { buffers: [xBuffer(), valuesBuffer(), ...chunks, ...metaLayout(format), alphaInv], steps: [...statsSteps, step(inverse), step(fake)] },
    },
  };
}
