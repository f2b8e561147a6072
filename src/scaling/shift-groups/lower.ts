/**
 * ShiftQuant group scales (semantics.ts) as kernels.
 *
 * shift_groups_statistics(x, channel_amax, groups, group_length)    finite amax per channel
 * shift_groups_finalize(channel_amax, channel_group, group_exponent, channels)
 *     k_c = ⌈log2(amax_c / maxFinite)⌉, k_max over non-zero channels (0 if none),
 *     group = min(k_max − k_c, groups − 1) (last group for zero channels),
 *     group_exponent[g] = clamp(k_max − g, −126, 127)
 * shift_groups_encode(x, channel_group, group_exponent, codes, channels, channel_length, seed)
 * shift_groups_decode(codes, channel_group, group_exponent, values, channels, channel_length)
 * shift_groups_fake_quantize(x, channel_group, group_exponent, values, channels, channel_length, seed)
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { Builder, add, and, asI32, bool, gt, i32, kernel, load, max, min, mul, ne, neg, or, select, sub, f32 } from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Param } from "../../codegen/ir/nodes.ts";
import { SHIFT_GROUPS_META as META, shiftGroupsMetaLayout } from "./meta.ts";
import type { ShiftGroupsScaling } from "./types.ts";
import { lowerDecodeElement, lowerEncodeElement } from "../../codegen/lower/element.ts";
import { lowerFakeQuantizeElement } from "../../codegen/lower/fake-element.ts";
import { pow2 } from "../../codegen/lower/pow2.ts";
import {
  CHANNELS, CHANNEL_LENGTH, CODES, SEED, VALUES, X, arg, buffer, codeStorage, codesBuffer, forGroups, lowerGroupAmax, randomSource, reads, step,
  valuesBuffer, writes, xBuffer, type ScalingLowering,
} from "../../codegen/lower/scaling/common.ts";
import { assertScaledEncodeExact } from "../../codegen/lower/scaling/exact.ts";
import { lowerCeilExponentRatio } from "../../codegen/lower/scaling/exponents.ts";

const CHANNEL_AMAX = "channel_amax";

function lowerFinalize(format: ResolvedFormat, scaling: ShiftGroupsScaling): Kernel {
  const last = scaling.groups - 1;
  const params = [reads(CHANNEL_AMAX, "f32"), writes(META.channelGroup, "u8"), writes(META.groupExponent, "i32"), CHANNELS];
  return kernel("shift_groups_finalize", params, (b) => {
    const channels = arg("i32", CHANNELS.name);
    const exponentOf = (body: Builder, c: Expr) => {
      const amax = body.let("amax", load("f32", CHANNEL_AMAX, c));
      return { nonZero: body.let("non_zero", ne(amax, f32(0))), k: lowerCeilExponentRatio(body, amax, format.maxFinite) };
    };
    const kMax = b.var("k_max", i32(-(2 ** 31)));
    const any = b.var("any", bool(false));
    b.for("c", i32(0), channels, (c, body) => {
      const { nonZero, k } = exponentOf(body, c);
      body.assign(kMax.name, select(and(nonZero, gt(k, kMax.ref)), k, kMax.ref));
      body.assign(any.name, or(any.ref, nonZero));
    });
    const top = b.let("top", select(any.ref, kMax.ref, i32(0)));
    b.for("c", i32(0), channels, (c, body) => {
      const { nonZero, k } = exponentOf(body, c);
      body.store(META.channelGroup, c, select(nonZero, min(sub(top, k), i32(last)), i32(last)));
    });
    b.for("g", i32(0), i32(scaling.groups), (g, body) => body.store(META.groupExponent, g, min(max(sub(top, g), i32(-126)), i32(127))));
  });
}

type Element = (body: Builder, i: Expr, scale: { readonly down: Expr; readonly up: Expr }, draw: Expr | null) => void;

/** A kernel over every element of every channel, with its group's 2^−e (encode) and 2^e (decode) computed once. */
function channelElementwise(format: ResolvedFormat, name: string, params: readonly Param[], element: Element): Kernel {
  return kernel(name, params, (b) => {
    const draw = params.includes(SEED) ? randomSource(b, format) : null;
    const length = arg("i32", CHANNEL_LENGTH.name);
    forGroups(
      b,
      arg("i32", CHANNELS.name),
      (c, start, body) => {
        const exponent = body.let("e", load("i32", META.groupExponent, asI32(load("u32", META.channelGroup, c))));
        const scale = { down: pow2(body, neg(exponent)), up: pow2(body, exponent) };
        body.for("i", start, add(start, length), (i, inner) => element(inner, i, scale, draw === null ? null : draw(inner, i)));
      },
      length,
    );
  });
}

/** Kernels and plans of a ShiftQuant-scaled format. */
export function lowerShiftGroups(format: ResolvedFormat, scaling: ShiftGroupsScaling): ScalingLowering {
  assertScaledEncodeExact(format);
  const codes = codeStorage(format);
  const meta = [reads(META.channelGroup, "u8"), reads(META.groupExponent, "i32")];
  const statistics = lowerGroupAmax("shift_groups_statistics", CHANNEL_AMAX);
  const finalize = lowerFinalize(format, scaling);
  const encodeKernel = channelElementwise(format, "shift_groups_encode", [reads(X, "f32"), ...meta, writes(CODES, codes), CHANNELS, CHANNEL_LENGTH, SEED], (body, i, { down }, draw) => {
    const v = body.let("v", mul(load("f32", X, i), down));
    body.store(CODES, i, lowerEncodeElement(body, format, v, draw));
  });
  const decodeKernel = channelElementwise(format, "shift_groups_decode", [reads(CODES, codes), ...meta, writes(VALUES, "f32"), CHANNELS, CHANNEL_LENGTH], (body, i, { up }) => {
    body.store(VALUES, i, mul(lowerDecodeElement(body, format, load("u32", CODES, i)), up));
  });
  const fakeParams = [reads(X, "f32"), ...meta, writes(VALUES, "f32"), CHANNELS, CHANNEL_LENGTH, SEED];
  const fake = channelElementwise(format, "shift_groups_fake_quantize", fakeParams, (body, i, { down, up }, draw) => {
    body.store(VALUES, i, mul(lowerFakeQuantizeElement(body, format, body.let("v", mul(load("f32", X, i), down)), draw), up));
  });

  const amax = buffer(CHANNEL_AMAX, "f32", { perChannel: 1 }, "scratch");
  const channelGroups = { groups: { scalar: "channels" }, group_length: { scalar: "channelLength" } } as const;
  const statsSteps = [step(statistics, channelGroups), step(finalize)];
  return {
    kernels: [statistics, finalize, encodeKernel, decodeKernel, fake],
    plans: {
      encode: { buffers: [xBuffer(), codesBuffer(format, "output"), amax, ...shiftGroupsMetaLayout(scaling, "meta")], steps: [...statsSteps, step(encodeKernel)] },
      decode: { buffers: [codesBuffer(format, "input"), ...shiftGroupsMetaLayout(scaling, "input"), valuesBuffer()], steps: [step(decodeKernel)] },
      fakeQuantize: { buffers: [xBuffer(), valuesBuffer(), amax, ...shiftGroupsMetaLayout(scaling, "meta")], steps: [...statsSteps, step(fake)] },
    },
  };
}
