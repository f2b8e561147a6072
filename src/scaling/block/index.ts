/**
 * Block scaling: one scale per 1-D block along an axis or per 2-D tile, stored in any unscaled
 * float format, optionally under a float32 per-tensor scale (two levels). OCP MX, DeepSeek-V3's
 * 1×128 / 128×128 tiles and NVFP4 are specs of this kind; semantics.ts states the arithmetic.
 */
import * as Effect from "effect/Effect";
import type { FromSchema } from "json-schema-to-ts";
import { SpecError } from "../../dsl/errors.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { ScalingKind } from "../kind.ts";
import { lowerBlock } from "./lower.ts";
import { blockBuffersFromMeta, blockMetaFromBuffers, blockMetaFromJson, blockMetaLayout, blockMetaToJson } from "./meta.ts";
import { isPowerOfTwoRule } from "./rules.ts";
import { blockScales, tileIndex, tileScales } from "./semantics.ts";
import type { BlockMeta, BlockScaling } from "./types.ts";

const dimension = { type: "integer", minimum: 1, maximum: 4096 } as const;
const NAME = "^[a-z0-9][a-z0-9_-]{0,63}$";

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "granularity", "scale"],
  properties: {
    kind: { const: "block" },
    granularity: {
      description: "What one scale covers: `block` elements along the call's block axis (the GEMM's reduction axis; default the last), or a fixed `tile` of [rows, cols].",
      oneOf: [
        { type: "object", additionalProperties: false, required: ["block"], properties: { block: { ...dimension, description: "Elements per 1-D block (MX: 32, NVFP4: 16)." } } },
        { type: "object", additionalProperties: false, required: ["tile"], properties: { tile: { type: "array", items: dimension, minItems: 2, maxItems: 2, description: "[rows, cols] of a 2-D tile." } } },
      ],
    },
    scale: {
      type: "object",
      additionalProperties: false,
      required: ["format", "rounding"],
      description: "The scale's own encoding: an unscaled float format and how the scale is rounded into it.",
      properties: {
        format: { type: "string", pattern: NAME, description: "A built-in or declared float format without scaling: e8m0, e4m3, fp32, …" },
        rounding: {
          enum: ["floor", "ceil", "even", "nearest-even", "ceil-power-of-two"],
          description:
            "floor / ceil / even: a power of two 2^E from amax and the element's max (floor: ⌊log2 amax⌋ − emax, as OCP MX; ceil: no clipping; even: nearer in log2), for power-of-two scale formats; nearest-even: amax / maxFinite in float32 (times the tensor scale) rounded to nearest even, saturating; ceil-power-of-two: amax / maxFinite in float32 rounded up to a power of two.",
        },
      },
    },
    tensorScale: {
      type: "object",
      additionalProperties: false,
      required: ["format"],
      description: "A second level: a float32 scale per tensor above the block scales, S = maxFinite·scaleMax / amax (NVFP4). Needs scale rounding nearest-even.",
      properties: { format: { const: "fp32" } },
    },
  },
  if: { type: "object", properties: { tensorScale: true }, required: ["tensorScale"] },
  then: { type: "object", properties: { scale: { type: "object", properties: { rounding: { const: "nearest-even" } } } } },
} as const;

type BlockSpec = FromSchema<typeof schema>;

const RETIRED = ["blockSize", "scaleFormat", "scaleRounding"];

/** The scale format with the rounding scales are encoded with. */
const nearestEven = (format: ResolvedFormat): ResolvedFormat => ({ ...format, rounding: { mode: "nearest-even", bits: 0 } });

export const blockKind: ScalingKind<BlockScaling, BlockMeta> = {
  kind: "block",
  schema,
  retiredShape(scaling) {
    const old = RETIRED.find((name) => name in scaling);
    if (old === undefined) return null;
    const size = typeof scaling.blockSize === "number" ? scaling.blockSize : 32;
    const format = typeof scaling.scaleFormat === "string" ? scaling.scaleFormat : "e8m0";
    const rounding = typeof scaling.scaleRounding === "string" ? scaling.scaleRounding : "floor";
    return {
      pointer: `/scaling/${old}`,
      message: `block scaling has a new shape: write "granularity": {"block": ${size}}, "scale": {"format": "${format}", "rounding": "${rounding}"} instead of blockSize / scaleFormat / scaleRounding`,
    };
  },
  resolve: (spec: BlockSpec, { unscaled, lookup, file, fail }) =>
    Effect.gen(function* () {
      if (unscaled.element.kind === "posit") return yield* fail("", "block scaling needs float or int elements (a posit's tapered precision has no fixed element maximum to scale to)");
      const scaleFormat = yield* lookup(spec.scale.format).pipe(
        Effect.mapError((error) =>
          error._tag === "UnknownFormatError"
            ? new SpecError({ file, pointer: "/scaling/scale/format", message: `unknown format "${error.name}"${error.suggestions.length > 0 ? `; did you mean ${error.suggestions.join(", ")}?` : ""} (a built-in name or a spec file beside this one)` })
            : new SpecError({ file, pointer: "/scaling/scale/format", message: `scale format "${spec.scale.format}" is invalid: ${error.toString()}` }),
        ),
      );
      if (scaleFormat.element.kind !== "float" || scaleFormat.scaling.kind !== "none")
        return yield* fail("/scale/format", `scale format "${spec.scale.format}" must be an unscaled float format (e8m0, e4m3, fp32, …)`);
      const rounding = spec.scale.rounding;
      if (isPowerOfTwoRule(rounding)) {
        if (scaleFormat.element.mantissaBits !== 0)
          return yield* fail("/scale/format", `scale format "${spec.scale.format}" must be an unscaled power-of-two float (mantissaBits 0), such as e8m0, for "${rounding}" scales; use "nearest-even" or "ceil-power-of-two" for other scale formats`);
        if (unscaled.minSubnormal < 2 ** -126)
          return yield* fail("", "power-of-two block scales need elements whose smallest value is a float32 normal (≥ 2^-126), so scaled elements round once");
      } else if (Math.fround(unscaled.maxFinite) !== unscaled.maxFinite)
        return yield* fail("", `float32 block scales divide by the element's max finite value, which must be a float32 (got ${unscaled.maxFinite})`);
      if (spec.tensorScale !== undefined && rounding !== "nearest-even")
        return yield* fail("/tensorScale", `a tensor scale above the blocks needs scale rounding "nearest-even" (got "${rounding}")`);
      const g = spec.granularity;
      const granularity = "block" in g ? { block: g.block } : { tile: [g.tile[0], g.tile[1]] as const };
      return {
        kind: "block",
        granularity,
        scaleFormat: nearestEven(scaleFormat),
        scaleRounding: rounding,
        tensorScale: spec.tensorScale === undefined ? null : { format: "fp32" },
      } satisfies BlockScaling;
    }),
  quantize(format, scaling, x, call, encode) {
    const meta = blockScales(format, scaling, x, call.shape, call.blockAxis);
    const scales = tileScales(scaling, meta);
    for (let i = 0; i < x.length; i++) encode(i, scales[tileIndex(i, meta.shape, meta.tile)].down(x[i]));
    return { meta, state: undefined };
  },
  dequantize(_format, scaling, meta, _call, decoded, out) {
    const scales = tileScales(scaling, meta);
    for (let i = 0; i < out.length; i++) out[i] = scales[tileIndex(i, meta.shape, meta.tile)].up(decoded(i));
  },
  lower: lowerBlock,
  metaLayout: (_format, scaling, role) => blockMetaLayout(scaling, role),
  metaFromBuffers: (_format, scaling, buffers, call) => blockMetaFromBuffers(scaling, buffers, call),
  buffersFromMeta: blockBuffersFromMeta,
  metaToJson: (meta, scaling) => blockMetaToJson(scaling, meta),
  metaFromJson: blockMetaFromJson,
  toJson: (s) => ({
    kind: "block",
    granularity: s.granularity,
    scale: { format: s.scaleFormat.name, rounding: s.scaleRounding },
    ...(s.tensorScale !== null ? { tensorScale: s.tensorScale } : {}),
  }),
  label: (s) => {
    const g = "tile" in s.granularity ? `tile${s.granularity.tile.join("×")}` : `block${s.granularity.block}`;
    return `${g}×${s.scaleFormat.name}${s.tensorScale !== null ? "+fp32" : ""}`;
  },
  sentence: (s) => {
    const g = "tile" in s.granularity ? `tiles of ${s.granularity.tile.join("×")}` : `blocks of ${s.granularity.block} along the block axis`;
    const level = s.tensorScale !== null ? ", under a float32 per-tensor scale" : "";
    return `${g} sharing a ${s.scaleFormat.name} scale, rounded ${s.scaleRounding}${level}`;
  },
  // Tiles are laid out on rows: a GEMM operand as lanes × K gets its 1-D blocks along K.
  byRow: () => true,
  blocksAlongK: () => true,
  gemmOperand: (_operand, _format, s) =>
    `a ${s.scaleFormat.name} scale per ${"tile" in s.granularity ? `${s.granularity.tile.join("×")} tile` : `block of ${s.granularity.block}`}`,
};

