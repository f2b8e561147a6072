/**
 * Tensor scale metadata as JSON: typed arrays become plain arrays on the way out and are
 * checked and rebuilt on the way in, against the format and the number of codes.
 */
import * as Effect from "effect/Effect";
import { match } from "ts-pattern";
import { InputError } from "../dsl/errors.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { codeArray } from "../dsl/semantics/codes.ts";
import type { ScaleMeta } from "../dsl/semantics/tensor.ts";
import { jsonType, parseIntegers, parseValue, parseValues, showJson, valueToJson } from "./json-io.ts";

/** The JSON form of quantize's metadata. */
export function metaToJson(meta: ScaleMeta): Record<string, unknown> {
  const values = (a: Float32Array) => Array.from(a, valueToJson);
  return match(meta)
    .with({ kind: "none" }, () => ({ kind: "none" }))
    .with({ kind: "amax" }, (m) => ({ kind: "amax", scale: values(m.scale), scaleInv: values(m.scaleInv), amax: values(m.amax) }))
    .with({ kind: "block" }, (m) => ({ kind: "block", blockSize: m.blockSize, scaleCodes: Array.from(m.scaleCodes) }))
    .with({ kind: "shift-squeeze" }, (m) => ({ kind: "shift-squeeze", alpha: valueToJson(m.alpha), beta: valueToJson(m.beta) }))
    .with({ kind: "shift-groups" }, (m) => ({ kind: "shift-groups", channelGroup: Array.from(m.channelGroup), groupExponent: Array.from(m.groupExponent) }))
    .exhaustive();
}

const fail = (message: string) => Effect.fail(new InputError({ where: "stdin", message }));

/** Rebuilds quantize's metadata for `codeCount` codes of `format`, checking every field. */
export function metaFromJson(json: unknown, format: ResolvedFormat, codeCount: number): Effect.Effect<ScaleMeta, InputError> {
  return Effect.gen(function* () {
    if (json === null || typeof json !== "object" || Array.isArray(json))
      return yield* fail(`meta: expected an object as printed by \`numforge encode ${format.name} --json\`, got ${jsonType(json)}`);
    const meta = json as Record<string, unknown>;
    const kind = format.scaling.kind;
    if (meta.kind !== kind) return yield* fail(`meta.kind: ${showJson(meta.kind)} does not match ${format.name}, whose scaling is "${kind}"`);
    const field = (name: string) =>
      name in meta ? Effect.succeed(meta[name]) : fail(`meta.${name}: missing (${kind} metadata has ${META_FIELDS[kind].join(", ")})`);
    const scaling = format.scaling;
    return yield* match(scaling)
      .with({ kind: "none" }, () => Effect.succeed<ScaleMeta>({ kind: "none" }))
      .with({ kind: "amax" }, () =>
        Effect.gen(function* () {
          const scale = yield* parseValues(yield* field("scale"), "meta.scale");
          const scaleInv = yield* parseValues(yield* field("scaleInv"), "meta.scaleInv");
          const amax = yield* parseValues(yield* field("amax"), "meta.amax");
          if (scaleInv.length === 0 || codeCount % scaleInv.length !== 0 || scale.length !== scaleInv.length || amax.length !== scaleInv.length)
            return yield* fail(`meta: scale, scaleInv and amax need one entry per channel, a number that divides the ${codeCount} codes (got ${scale.length}, ${scaleInv.length}, ${amax.length})`);
          return { kind: "amax", scale: Float32Array.from(scale), scaleInv: Float32Array.from(scaleInv), amax: Float32Array.from(amax) } satisfies ScaleMeta;
        }),
      )
      .with({ kind: "block" }, (s) =>
        Effect.gen(function* () {
          const blockSize = yield* field("blockSize");
          if (blockSize !== s.blockSize) return yield* fail(`meta.blockSize: ${showJson(blockSize)} does not match ${format.name}'s block size ${s.blockSize}`);
          const scaleBits = s.scaleFormat.bits;
          const codes = yield* parseIntegers(yield* field("scaleCodes"), 0, 2 ** scaleBits - 1, `${s.scaleFormat.name} codes are`, "meta.scaleCodes");
          const blocks = Math.ceil(codeCount / s.blockSize);
          if (codes.length !== blocks)
            return yield* fail(`meta.scaleCodes: ${codes.length} scale codes for ${codeCount} codes; blocks of ${s.blockSize} need ${blocks}`);
          const scaleCodes = codeArray(scaleBits, blocks);
          scaleCodes.set(codes);
          return { kind: "block", blockSize: s.blockSize, scaleCodes } satisfies ScaleMeta;
        }),
      )
      .with({ kind: "shift-squeeze" }, () =>
        Effect.gen(function* () {
          const alpha = yield* parseValue(yield* field("alpha"), "meta.alpha");
          const beta = yield* parseValue(yield* field("beta"), "meta.beta");
          if (!Number.isFinite(alpha) || alpha === 0) return yield* fail(`meta.alpha: must be a finite non-zero number (got ${showJson(meta.alpha)})`);
          if (!Number.isFinite(beta)) return yield* fail(`meta.beta: must be a finite number (got ${showJson(meta.beta)})`);
          return { kind: "shift-squeeze", alpha, beta } satisfies ScaleMeta;
        }),
      )
      .with({ kind: "shift-groups" }, (s) =>
        Effect.gen(function* () {
          const groupExponent = yield* parseIntegers(yield* field("groupExponent"), -149, 127, "exponents are", "meta.groupExponent");
          if (groupExponent.length !== s.groups)
            return yield* fail(`meta.groupExponent: ${format.name} has ${s.groups} groups, got ${groupExponent.length} exponents`);
          const channelGroup = yield* parseIntegers(yield* field("channelGroup"), 0, s.groups - 1, "groups are", "meta.channelGroup");
          if (channelGroup.length === 0 || codeCount % channelGroup.length !== 0)
            return yield* fail(`meta.channelGroup: ${channelGroup.length} channels do not divide the ${codeCount} codes`);
          return { kind: "shift-groups", channelGroup: Uint8Array.from(channelGroup), groupExponent: Int32Array.from(groupExponent) } satisfies ScaleMeta;
        }),
      )
      .exhaustive();
  });
}

/** The fields each kind of metadata carries, for "missing field" messages. */
const META_FIELDS: Record<ScaleMeta["kind"], readonly string[]> = {
  none: [],
  amax: ["scale", "scaleInv", "amax"],
  block: ["blockSize", "scaleCodes"],
  "shift-squeeze": ["alpha", "beta"],
  "shift-groups": ["channelGroup", "groupExponent"],
};
