/**
 * No tensor scaling: the element kernels of elementwise.ts and a fused fake-quantize.
 *
 * encode_elements(x, codes, n, seed)       codes = encode(x)
 * decode_elements(codes, out, n)           out = decode(codes)  (the plan binds out to values)
 * fake_quantize_elements(x, values, n, seed)
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { i32, kernel, load } from "../../codegen/ir/build.ts";
import { lowerDecodeElements, lowerEncodeElements } from "../../codegen/lower/elementwise.ts";
import { lowerFakeQuantizeElement } from "../../codegen/lower/fake-element.ts";
import { N, SEED, VALUES, X, arg, codesBuffer, randomSource, reads, step, valuesBuffer, writes, xBuffer, type ScalingLowering } from "../../codegen/lower/scaling/common.ts";

/** Kernels and plans of an unscaled format. */
export function lowerUnscaled(format: ResolvedFormat): ScalingLowering {
  const encode = lowerEncodeElements(format);
  const decode = lowerDecodeElements(format);
  const fake = kernel("fake_quantize_elements", [reads(X, "f32"), writes(VALUES, "f32"), N, SEED], (b) => {
    const draw = randomSource(b, format);
    b.for("i", i32(0), arg("i32", N.name), (i, body) => {
      body.store(VALUES, i, lowerFakeQuantizeElement(body, format, load("f32", X, i), draw === null ? null : draw(body, i)));
    });
  });
  return {
    kernels: [encode, decode, fake],
    plans: {
      encode: { buffers: [xBuffer(), codesBuffer(format, "output")], steps: [step(encode)] },
      decode: { buffers: [codesBuffer(format, "input"), valuesBuffer()], steps: [step(decode, { out: { buffer: VALUES } })] },
      fakeQuantize: { buffers: [xBuffer(), valuesBuffer()], steps: [step(fake)] },
    },
  };
}
