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
 *
 * Lanes as columns (the fakeQuantizeColumns plan: x is channel_length rows × channels columns, lane c
 * is column c), each loop over c consecutive, so the vectorizer takes 4 lanes at a time:
 * shift_groups_statistics_columns(x, channel_amax_bits, channel_amax, channels, channel_length)
 *     the same finite amax per lane, a running maximum per column row by row
 * shift_groups_factors(channel_group, group_exponent, channel_down, channel_up, channels)
 *     each lane's 2^−e and 2^e, computed once per lane
 * shift_groups_fake_quantize_columns(x, channel_down, channel_up, values, channels, channel_length, seed)
 *     element (r, c) as the row kernel's element c·channel_length + r, drawn with that index
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
  CHANNELS, CHANNEL_LENGTH, CODES, FINITE_BITS_AMAX, SEED, VALUES, X, arg, buffer, codeStorage, codesBuffer, forGroups, lowerGroupAmax, randomSource, reads, step,
  valuesBuffer, writes, xBuffer, type ScalingLowering,
} from "../../codegen/lower/scaling/common.ts";
import { assertScaledEncodeExact } from "../../codegen/lower/scaling/exact.ts";
import { lowerCeilExponentRatio } from "../../codegen/lower/scaling/exponents.ts";

const CHANNEL_AMAX = "channel_amax";
/** Lanes as columns: each lane's running maximum on bits (FINITE_BITS_AMAX), and its scale factors. */
const CHANNEL_AMAX_BITS = "channel_amax_bits";
const CHANNEL_DOWN = "channel_down";
const CHANNEL_UP = "channel_up";

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

type Scale = { readonly down: Expr; readonly up: Expr };
type Element = (body: Builder, i: Expr, scale: Scale, draw: Expr | null) => void;

/** Channel c's 2^−e and 2^e, e its group's exponent. */
function channelScale(body: Builder, c: Expr): Scale {
  const exponent = body.let("e", load("i32", META.groupExponent, asI32(load("u32", META.channelGroup, c))));
  return { down: pow2(body, neg(exponent)), up: pow2(body, exponent) };
}

/** A kernel over every element of every channel, with its group's 2^−e (encode) and 2^e (decode) computed once. */
function channelElementwise(format: ResolvedFormat, name: string, params: readonly Param[], element: Element): Kernel {
  return kernel(name, params, (b) => {
    const draw = params.includes(SEED) ? randomSource(b, format) : null;
    const length = arg("i32", CHANNEL_LENGTH.name);
    forGroups(
      b,
      arg("i32", CHANNELS.name),
      (c, start, body) => {
        const scale = channelScale(body, c);
        body.for("i", start, add(start, length), (i, inner) => element(inner, i, scale, draw === null ? null : draw(inner, i)));
      },
      length,
    );
  });
}

/**
 * The finite amax of every column of x (channel_length rows × channels columns) as semantics
 * finiteAmax: FINITE_BITS_AMAX's running maximum kept per column and advanced a row at a time.
 */
function lowerColumnStatistics(): Kernel {
  const params = [reads(X, "f32"), writes(CHANNEL_AMAX_BITS, "i32"), writes(CHANNEL_AMAX, "f32"), CHANNELS, CHANNEL_LENGTH];
  return kernel("shift_groups_statistics_columns", params, (b) => {
    const lanes = arg("i32", CHANNELS.name);
    b.for("c", i32(0), lanes, (c, body) => body.store(CHANNEL_AMAX_BITS, c, FINITE_BITS_AMAX.start));
    forGroups(
      b,
      arg("i32", CHANNEL_LENGTH.name),
      (_r, rowStart, rb) =>
        // Row r's element of lane c at rowStart + c: x at an offset from c, the running maxima at c itself.
        rb.for("c", i32(0), lanes, (c, body) => {
          const candidate = FINITE_BITS_AMAX.candidate(body, load("f32", X, add(c, rowStart)));
          body.store(CHANNEL_AMAX_BITS, c, max(load("i32", CHANNEL_AMAX_BITS, c), candidate));
        }),
      lanes,
    );
    b.for("c", i32(0), lanes, (c, body) => body.store(CHANNEL_AMAX, c, FINITE_BITS_AMAX.amax(load("i32", CHANNEL_AMAX_BITS, c))));
  });
}

/** Each lane's 2^−e and 2^e (channelScale, as channelElementwise takes them per channel). */
function lowerFactors(): Kernel {
  const params = [reads(META.channelGroup, "u8"), reads(META.groupExponent, "i32"), writes(CHANNEL_DOWN, "f32"), writes(CHANNEL_UP, "f32"), CHANNELS];
  return kernel("shift_groups_factors", params, (b) => {
    b.for("c", i32(0), arg("i32", CHANNELS.name), (c, body) => {
      const { down, up } = channelScale(body, c);
      body.store(CHANNEL_DOWN, c, down);
      body.store(CHANNEL_UP, c, up);
    });
  });
}

/**
 * channelElementwise's fake-quantize with lanes as columns: element (r, c) at r·channels + c is
 * the row kernel's element c·channel_length + r, with the same factors and, under stochastic
 * rounding, the same draw (keyed by that lane-major index).
 */
function lowerColumnFakeQuantize(format: ResolvedFormat): Kernel {
  const params = [reads(X, "f32"), reads(CHANNEL_DOWN, "f32"), reads(CHANNEL_UP, "f32"), writes(VALUES, "f32"), CHANNELS, CHANNEL_LENGTH, SEED];
  return kernel("shift_groups_fake_quantize_columns", params, (b) => {
    const draw = randomSource(b, format);
    const lanes = arg("i32", CHANNELS.name);
    const length = arg("i32", CHANNEL_LENGTH.name);
    forGroups(
      b,
      length,
      (r, rowStart, rb) => {
        // Element i of row r is lane i − rowStart's: its factors load at an offset fixed for the row
        // (consecutive, so the wasm vectorizer takes 4 lanes at a time; the store at i is the WGSL grid's shape).
        const laneOffset = rb.let("lane_offset", neg(rowStart));
        rb.for("i", rowStart, add(rowStart, lanes), (i, body) => {
          const v = body.let("v", mul(load("f32", X, i), load("f32", CHANNEL_DOWN, add(i, laneOffset))));
          const u = draw === null ? null : draw(body, add(mul(add(i, laneOffset), length), r));
          body.store(VALUES, i, mul(lowerFakeQuantizeElement(body, format, v, u), load("f32", CHANNEL_UP, add(i, laneOffset))));
        });
      },
      lanes,
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
  const columnStatistics = lowerColumnStatistics();
  const factors = lowerFactors();
  const columnFake = lowerColumnFakeQuantize(format);
  const perLane = (name: string, storage: "i32" | "f32") => buffer(name, storage, { perChannel: 1 }, "scratch");
  // Its steps see a transposed layout: a threaded runner cutting "rows" would cut lanes, so one thread.
  const columnSteps = [step(columnStatistics), step(finalize), step(factors), step(columnFake)].map((s) => ({ ...s, oneThread: true as const }));
  return {
    kernels: [statistics, finalize, encodeKernel, decodeKernel, fake, columnStatistics, factors, columnFake],
    plans: {
      encode: { buffers: [xBuffer(), codesBuffer(format, "output"), amax, ...shiftGroupsMetaLayout(scaling, "meta")], steps: [...statsSteps, step(encodeKernel)] },
      decode: { buffers: [codesBuffer(format, "input"), ...shiftGroupsMetaLayout(scaling, "input"), valuesBuffer()], steps: [step(decodeKernel)] },
      fakeQuantize: { buffers: [xBuffer(), valuesBuffer(), amax, ...shiftGroupsMetaLayout(scaling, "meta")], steps: [...statsSteps, step(fake)] },
      fakeQuantizeColumns: {
        buffers: [xBuffer(), valuesBuffer(), amax, perLane(CHANNEL_AMAX_BITS, "i32"), perLane(CHANNEL_DOWN, "f32"), perLane(CHANNEL_UP, "f32"), ...shiftGroupsMetaLayout(scaling, "meta")],
        steps: columnSteps,
      },
    },
  };
}
