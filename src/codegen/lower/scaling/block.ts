/**
 * MX block scaling (dsl/semantics/scaling/block.ts) as kernels; blocks are blockSize consecutive
 * elements, the last one possibly shorter.
 *
 * block_statistics(x, block_amax, n)              amax per block; +∞ marks a block with NaN/±Inf
 * block_finalize(block_amax, scale_codes, block_exponent, n)
 *     exponent by floor/ceil/even, clamped to the scale format; the NaN scale for marked blocks
 *     (whose exponent is 0: their elements are encoded unscaled)
 * block_encode(x, block_exponent, codes, n, seed)  codes = encode(x·2^−E)
 * block_decode(codes, scale_codes, values, n)      values = decode(code)·decode_scale(scale code)
 * block_fake_quantize(x, block_exponent, scale_codes, values, n, seed)
 */
import type { ResolvedFloat, ResolvedFormat, ResolvedScaling } from "../../../dsl/resolved.ts";
import { encode } from "../../../dsl/semantics/scalar.ts";
import { Builder, abs, bool, eq, f32, gt, i32, kernel, load, lt, max, min, mul, neg, not, or, select, u32 } from "../../ir/build.ts";
import type { Expr, Kernel, Param } from "../../ir/nodes.ts";
import { META, metaLayout } from "../../meta.ts";
import { lowerDecodeElement, lowerEncodeElement } from "../element.ts";
import { lowerFakeQuantizeElement } from "../fake-element.ts";
import { pow2 } from "../pow2.ts";
import {
  CODES, N, SEED, VALUES, X, arg, buffer, codeStorage, codesBuffer, forBlocks, lowerDecodeScale, randomSource, reads, step, valuesBuffer, writes,
  xBuffer, type ScalingLowering,
} from "./common.ts";
import { assertScaledEncodeExact } from "./exact.ts";
import { lowerBlockExponent } from "./exponents.ts";

type BlockScaling = Extract<ResolvedScaling, { kind: "block" }>;

const BLOCK_AMAX = "block_amax";
const BLOCK_EXPONENT = "block_exponent";
const INF = Number.POSITIVE_INFINITY;

function lowerStatistics(scaling: BlockScaling): Kernel {
  return kernel("block_statistics", [reads(X, "f32"), writes(BLOCK_AMAX, "f32"), N], (b) => {
    forBlocks(b, arg("i32", N.name), scaling.blockSize, (block, start, end, body) => {
      const amax = body.var("amax", f32(0));
      const nonFinite = body.var("non_finite", bool(false));
      body.for("i", start, end, (i, inner) => {
        const a = inner.let("a", abs(load("f32", X, i)));
        inner.assign(nonFinite.name, or(nonFinite.ref, not(lt(a, f32(INF)))));
        inner.assign(amax.name, select(gt(a, amax.ref), a, amax.ref));
      });
      body.store(BLOCK_AMAX, block, select(nonFinite.ref, f32(INF), amax.ref));
    });
  });
}

function lowerFinalize(format: ResolvedFormat, scaling: BlockScaling): Kernel {
  const scaleFormat = scaling.scaleFormat;
  const se = scaleFormat.element as ResolvedFloat;
  if (se.minNormalExponent < -149 || se.maxExponent > 127) throw new Error(`${format.name}: scale exponents must be float32 powers of two`);
  const nanCode = encode(scaleFormat, Number.NaN);
  const params = [reads(BLOCK_AMAX, "f32"), writes(META.scaleCodes, codeStorage(scaleFormat)), writes(BLOCK_EXPONENT, "i32"), N];
  return kernel("block_finalize", params, (b) => {
    forBlocks(b, arg("i32", N.name), scaling.blockSize, (block, _start, _end, body) => {
      const amax = body.let("amax", load("f32", BLOCK_AMAX, block));
      const nonFinite = body.let("non_finite", eq(amax, f32(INF)));
      const raw = lowerBlockExponent(body, amax, format.maxFinite, scaling.scaleRounding);
      const e = body.let("e", select(eq(amax, f32(0)), i32(se.minNormalExponent), min(max(raw, i32(se.minNormalExponent)), i32(se.maxExponent))));
      const code = lowerEncodeElement(body, scaleFormat, pow2(body, e), null);
      body.store(META.scaleCodes, block, select(nonFinite, u32(nanCode), code));
      body.store(BLOCK_EXPONENT, block, select(nonFinite, i32(0), e));
    });
  });
}

type Element = (body: Builder, i: Expr, perBlock: { readonly multiplier: Expr; readonly scale: Expr }, draw: Expr | null) => void;

/** A kernel over every element of every block, with the block's 2^−E and/or decoded scale. */
function blockElementwise(format: ResolvedFormat, scaling: BlockScaling, name: string, params: readonly Param[], element: Element): Kernel {
  const hasExponent = params.some((p) => p.name === BLOCK_EXPONENT);
  const hasScale = params.some((p) => p.name === META.scaleCodes);
  return kernel(name, params, (b) => {
    const draw = params.includes(SEED) ? randomSource(b, format) : null;
    forBlocks(b, arg("i32", N.name), scaling.blockSize, (block, start, end, body) => {
      const multiplier = hasExponent ? pow2(body, neg(load("i32", BLOCK_EXPONENT, block))) : f32(1);
      const scale = hasScale ? lowerDecodeScale(body, scaling.scaleFormat, load("u32", META.scaleCodes, block)) : f32(1);
      body.for("i", start, end, (i, inner) => element(inner, i, { multiplier, scale }, draw === null ? null : draw(inner, i)));
    });
  });
}

/** Kernels and plans of an MX block-scaled format. */
export function lowerBlock(format: ResolvedFormat, scaling: BlockScaling): ScalingLowering {
  assertScaledEncodeExact(format);
  const codes = codeStorage(format);
  const scaleCodes = codeStorage(scaling.scaleFormat);
  const statistics = lowerStatistics(scaling);
  const finalize = lowerFinalize(format, scaling);
  const encodeParams = [reads(X, "f32"), reads(BLOCK_EXPONENT, "i32"), writes(CODES, codes), N, SEED];
  const encodeKernel = blockElementwise(format, scaling, "block_encode", encodeParams, (body, i, { multiplier }, draw) => {
    body.store(CODES, i, lowerEncodeElement(body, format, body.let("v", mul(load("f32", X, i), multiplier)), draw));
  });
  const decodeParams = [reads(CODES, codes), reads(META.scaleCodes, scaleCodes), writes(VALUES, "f32"), N];
  const decodeKernel = blockElementwise(format, scaling, "block_decode", decodeParams, (body, i, { scale }) => {
    body.store(VALUES, i, mul(lowerDecodeElement(body, format, load("u32", CODES, i)), scale));
  });
  const fakeParams = [reads(X, "f32"), reads(BLOCK_EXPONENT, "i32"), reads(META.scaleCodes, scaleCodes), writes(VALUES, "f32"), N, SEED];
  const fake = blockElementwise(format, scaling, "block_fake_quantize", fakeParams, (body, i, { multiplier, scale }, draw) => {
    body.store(VALUES, i, mul(lowerFakeQuantizeElement(body, format, body.let("v", mul(load("f32", X, i), multiplier)), draw), scale));
  });

  const perBlock = { perBlock: { blockSize: scaling.blockSize, count: 1 } };
  const scratch = [buffer(BLOCK_AMAX, "f32", perBlock, "scratch"), buffer(BLOCK_EXPONENT, "i32", perBlock, "scratch")];
  const statsSteps = [step(statistics), step(finalize)];
  return {
    kernels: [statistics, finalize, encodeKernel, decodeKernel, fake],
    plans: {
      encode: { buffers: [xBuffer(), codesBuffer(format, "output"), ...scratch, ...metaLayout(format)], steps: [...statsSteps, step(encodeKernel)] },
      decode: { buffers: [codesBuffer(format, "input"), ...metaLayout(format, "input"), valuesBuffer()], steps: [step(decodeKernel)] },
      fakeQuantize: { buffers: [xBuffer(), valuesBuffer(), ...scratch, ...metaLayout(format)], steps: [...statsSteps, step(fake)] },
    },
  };
}
