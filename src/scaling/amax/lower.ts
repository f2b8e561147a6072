/**
 * amax scaling (semantics.ts) as kernels. Groups are the whole tensor or its
 * channels; the plans pass (groups, group_length) = (1, n) or (channels, n / channels).
 *
 * amax_statistics(x, amax_current, groups, group_length)           finite amax per group
 * amax_finalize(amax_current, [amax_history, history_count,] scale, scale_inv, amax, groups)
 *     delayed: amax = max of the stored history (this call's amax when it is empty), then the
 *     history takes this call's amax (oldest dropped); scale as scaleFor, scale_inv = 1/scale
 * amax_encode(x, scale, codes, groups, group_length, seed)          codes = encode(x·scale)
 * amax_decode(codes, scale_inv, values, groups, group_length)       values = decode·scale_inv
 * amax_fake_quantize(x, scale, scale_inv, values, groups, group_length, seed)
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import {
  Builder, add, asI32, asU32, div, eq, f32, ge, gt, i32, kernel, load, lt, max, min, mul, ne, or, select, sub, u32,
} from "../../codegen/ir/build.ts";
import type { Expr, Kernel, Param } from "../../codegen/ir/nodes.ts";
import { AMAX_META as META, AMAX_STATE as STATE, amaxMetaLayout, amaxStateLayout } from "./meta.ts";
import type { AmaxScaling } from "./types.ts";
import type { StepArg } from "../../codegen/plan.ts";
import { lowerDecodeElement, lowerEncodeElement } from "../../codegen/lower/element.ts";
import { lowerFakeQuantizeElement } from "../../codegen/lower/fake-element.ts";
import { pow2 } from "../../codegen/lower/pow2.ts";
import {
  CODES, GROUPS, GROUP_LENGTH, SEED, VALUES, X, arg, buffer, codeStorage, codesBuffer, forGroups, lowerGroupAmax, randomSource, reads, step,
  updates, valuesBuffer, writes, xBuffer, type ScalingLowering,
} from "../../codegen/lower/scaling/common.ts";
import { lowerFloorExponentRatio } from "../../codegen/lower/scaling/exponents.ts";

const CURRENT = "amax_current";

/** The scale for a positive amax `used` (1 for 0), as semantics scaleFor. */
function lowerScale(b: Builder, format: ResolvedFormat, scaling: AmaxScaling, used: Expr): Expr {
  let scale: Expr;
  if (scaling.scale === "power-of-two") {
    const k = sub(lowerFloorExponentRatio(b, format.maxFinite, used), i32(scaling.margin));
    scale = pow2(b, min(max(k, i32(-126)), i32(127)));
  } else {
    if (Math.fround(format.maxFinite) !== format.maxFinite) throw new Error(`${format.name}: fp32 amax scaling needs a float32 max finite value`);
    const s = b.let("scale_fp32", div(div(f32(format.maxFinite), used), f32(2 ** scaling.margin)));
    scale = select(lt(s, f32(Number.POSITIVE_INFINITY)), s, f32(2 ** 127));
  }
  return b.let("scale", select(eq(used, f32(0)), f32(1), scale));
}

function lowerFinalize(format: ResolvedFormat, scaling: AmaxScaling): Kernel {
  const delayed = scaling.history.mode === "delayed" ? scaling.history.length : null;
  const stateParams = delayed === null ? [] : [updates(STATE.history, "f32"), updates(STATE.count, "u32")];
  const params = [reads(CURRENT, "f32"), ...stateParams, writes(META.scale, "f32"), writes(META.scaleInv, "f32"), writes(META.amax, "f32"), GROUPS];
  return kernel("amax_finalize", params, (b) => {
    const groups = arg("i32", GROUPS.name);
    const count = delayed === null ? null : b.let("count", asI32(min(load("u32", STATE.count, i32(0)), u32(delayed))));
    forGroups(b, groups, (g, _start, body) => {
      const current = body.let("current", load("f32", CURRENT, g));
      let used = current;
      if (delayed !== null && count !== null) {
        const row = (r: Expr) => add(mul(r, groups), g);
        // Math.max over the history: NaN (only from a hand-made state) propagates as there.
        const m = body.var("history_max", f32(Number.NEGATIVE_INFINITY));
        body.for("r", i32(0), count, (r, inner) => {
          const h = inner.let("h", load("f32", STATE.history, row(r)));
          inner.assign(m.name, select(or(gt(h, m.ref), ne(h, h)), h, m.ref));
        });
        used = body.let("used", select(gt(count, i32(0)), m.ref, current));
        body.if(
          ge(count, i32(delayed)),
          (full) => {
            full.for("r", i32(0), i32(delayed - 1), (r, inner) => inner.store(STATE.history, row(r), load("f32", STATE.history, row(add(r, i32(1))))));
            full.store(STATE.history, row(i32(delayed - 1)), current);
          },
          (room) => room.store(STATE.history, row(count), current),
        );
      }
      const scale = lowerScale(body, format, scaling, used);
      body.store(META.scale, g, scale);
      body.store(META.scaleInv, g, div(f32(1), scale));
      body.store(META.amax, g, used);
    });
    if (count !== null && delayed !== null) b.store(STATE.count, i32(0), asU32(min(add(count, i32(1)), i32(delayed))));
  });
}

type Element = (body: Builder, i: Expr, perGroup: readonly Expr[], draw: Expr | null) => void;

/** A kernel over the elements of every group, with each group's entry of `groupBuffers` (f32) loaded once. */
function groupElementwise(format: ResolvedFormat, name: string, params: readonly Param[], groupBuffers: readonly string[], element: Element): Kernel {
  return kernel(name, params, (b) => {
    const draw = params.includes(SEED) ? randomSource(b, format) : null;
    const length = arg("i32", GROUP_LENGTH.name);
    forGroups(
      b,
      arg("i32", GROUPS.name),
      (g, start, body) => {
        const perGroup = groupBuffers.map((name) => body.let(name, load("f32", name, g)));
        body.for("i", start, add(start, length), (i, inner) => element(inner, i, perGroup, draw === null ? null : draw(inner, i)));
      },
      length,
    );
  });
}

/** Kernels and plans of an amax-scaled format. */
export function lowerAmax(format: ResolvedFormat, scaling: AmaxScaling): ScalingLowering {
  const codes = codeStorage(format);
  const statistics = lowerGroupAmax("amax_statistics", CURRENT);
  const finalize = lowerFinalize(format, scaling);
  const encodeParams = [reads(X, "f32"), reads(META.scale, "f32"), writes(CODES, codes), GROUPS, GROUP_LENGTH, SEED];
  const encode = groupElementwise(format, "amax_encode", encodeParams, [META.scale], (body, i, [s], draw) => {
    const v = body.let("v", mul(load("f32", X, i), s));
    body.store(CODES, i, lowerEncodeElement(body, format, v, draw));
  });
  const decodeParams = [reads(CODES, codes), reads(META.scaleInv, "f32"), writes(VALUES, "f32"), GROUPS, GROUP_LENGTH];
  const decode = groupElementwise(format, "amax_decode", decodeParams, [META.scaleInv], (body, i, [inv]) => {
    body.store(VALUES, i, mul(lowerDecodeElement(body, format, load("u32", CODES, i)), inv));
  });
  const fakeParams = [reads(X, "f32"), reads(META.scale, "f32"), reads(META.scaleInv, "f32"), writes(VALUES, "f32"), GROUPS, GROUP_LENGTH, SEED];
  const fake = groupElementwise(format, "amax_fake_quantize", fakeParams, [META.scale, META.scaleInv], (body, i, [s, inv], draw) => {
    body.store(VALUES, i, mul(lowerFakeQuantizeElement(body, format, body.let("v", mul(load("f32", X, i), s)), draw), inv));
  });

  const tensor = scaling.granularity === "tensor";
  const groups: Record<string, StepArg> = tensor ? { groups: { constant: 1 }, group_length: { scalar: "n" } } : { groups: { scalar: "channels" }, group_length: { scalar: "channelLength" } };
  const current = buffer(CURRENT, "f32", tensor ? { constant: 1 } : { perChannel: 1 }, "scratch");
  const statsSteps = [step(statistics, { groups: groups.groups, group_length: groups.group_length }), step(finalize, { groups: groups.groups })];
  return {
    kernels: [statistics, finalize, encode, decode, fake],
    plans: {
      encode: {
        buffers: [xBuffer(), codesBuffer(format, "output"), current, ...amaxMetaLayout(format, scaling, "meta"), ...amaxStateLayout(format, scaling)],
        steps: [...statsSteps, step(encode, groups)],
      },
      decode: { buffers: [codesBuffer(format, "input"), ...amaxMetaLayout(format, scaling, "input"), valuesBuffer()], steps: [step(decode, groups)] },
      fakeQuantize: {
        buffers: [xBuffer(), valuesBuffer(), current, ...amaxMetaLayout(format, scaling, "meta"), ...amaxStateLayout(format, scaling)],
        steps: [...statsSteps, step(fake, groups)],
      },
    },
  };
}
