/**
 * Block metadata as plan buffers and as JSON.
 * Buffers: scale_codes — one scale-format code per tile (tiles of the call, row-major grid);
 * tensor_scale — f32[1], S, with a tensor level only.
 * JSON: {kind, shape: [rows, cols], tile: [r, c], scaleCodes, tensorScale?}.
 */
import * as Effect from "effect/Effect";
import type { InputError } from "../../dsl/errors.ts";
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { codeArray } from "../../dsl/semantics/codes.ts";
import type { BufferArray } from "../../codegen/meta.ts";
import { codeStorage } from "../../codegen/lower/elementwise.ts";
import type { BufferDecl, Size } from "../../codegen/plan.ts";
import { parseIntegers, parseValue, showJson, valueToJson } from "../../cli/json-io.ts";
import { bufferDecl, field, metaFail, rawBuffer } from "../meta-parts.ts";
import type { RawBuffers, ScalingCall } from "../kind.ts";
import { tileGrid, tileOf } from "./semantics.ts";
import type { BlockMeta, BlockScaling } from "./types.ts";

export const BLOCK_META = { scaleCodes: "scale_codes", tensorScale: "tensor_scale" } as const;

/** One entry per tile of the call. */
export const tileSize = (scaling: BlockScaling): Size => ({
  perTile: { tile: "tile" in scaling.granularity ? scaling.granularity.tile : scaling.granularity.block, count: 1 },
});

export const blockMetaLayout = (scaling: BlockScaling, role: BufferDecl["role"]): readonly BufferDecl[] => [
  bufferDecl(BLOCK_META.scaleCodes, codeStorage(scaling.scaleFormat), tileSize(scaling), role),
  ...(scaling.tensorScale !== null ? [bufferDecl(BLOCK_META.tensorScale, "f32", { constant: 1 }, role)] : []),
];

export function blockMetaFromBuffers(scaling: BlockScaling, buffers: RawBuffers, call: ScalingCall): BlockMeta {
  const raw = rawBuffer(buffers, BLOCK_META.scaleCodes);
  const scaleCodes = codeArray(scaling.scaleFormat.bits, raw.length);
  scaleCodes.set(Array.from(raw));
  const tensorScale = scaling.tensorScale === null ? 1 : Math.fround(rawBuffer(buffers, BLOCK_META.tensorScale)[0]);
  return { kind: "block", shape: call.shape, tile: tileOf(scaling.granularity, call.blockAxis), scaleCodes, tensorScale };
}

export function blockBuffersFromMeta(format: ResolvedFormat, scaling: BlockScaling, meta: BlockMeta): Record<string, BufferArray> {
  const codes = codeArray(scaling.scaleFormat.bits, meta.scaleCodes.length);
  codes.set(meta.scaleCodes);
  const grid = tileGrid(meta.shape, meta.tile);
  if (grid.rows * grid.cols !== codes.length) throw new Error(`${format.name}: ${codes.length} scale codes for ${grid.rows * grid.cols} tiles`);
  return { [BLOCK_META.scaleCodes]: codes, ...(scaling.tensorScale !== null ? { [BLOCK_META.tensorScale]: Float32Array.of(meta.tensorScale) } : {}) };
}

export function blockMetaToJson(scaling: BlockScaling, meta: BlockMeta): Record<string, unknown> {
  return {
    kind: "block",
    shape: [meta.shape.rows, meta.shape.cols],
    tile: [...meta.tile],
    scaleCodes: Array.from(meta.scaleCodes),
    ...(scaling.tensorScale !== null ? { tensorScale: valueToJson(meta.tensorScale) } : {}),
  };
}

/** The tiles a format may have: its fixed tile, or its 1-D block along either axis. */
function allowedTiles(scaling: BlockScaling): readonly (readonly [number, number])[] {
  const g = scaling.granularity;
  return "tile" in g ? [g.tile] : [[1, g.block], [g.block, 1]];
}

export function blockMetaFromJson(meta: Readonly<Record<string, unknown>>, format: ResolvedFormat, scaling: BlockScaling, codeCount: number): Effect.Effect<BlockMeta, InputError> {
  const fields = ["shape", "tile", "scaleCodes", ...(scaling.tensorScale !== null ? ["tensorScale"] : [])];
  const get = (name: string) => field(meta, "block", fields, name);
  return Effect.gen(function* () {
    const shape = yield* parseIntegers(yield* get("shape"), 1, 2 ** 31 - 1, "dimensions are", "meta.shape");
    if (shape.length !== 2 || shape[0] * shape[1] !== codeCount)
      return yield* metaFail(`meta.shape: must be [rows, cols] with rows·cols = ${codeCount} codes (got ${showJson(meta.shape)})`);
    const tile = yield* parseIntegers(yield* get("tile"), 1, 2 ** 31 - 1, "tile sizes are", "meta.tile");
    const allowed = allowedTiles(scaling);
    if (tile.length !== 2 || !allowed.some(([r, c]) => r === tile[0] && c === tile[1]))
      return yield* metaFail(`meta.tile: ${showJson(meta.tile)} is not a tile of ${format.name} (${allowed.map((t) => `[${t.join(", ")}]`).join(" or ")})`);
    const scaleBits = scaling.scaleFormat.bits;
    const codes = yield* parseIntegers(yield* get("scaleCodes"), 0, 2 ** scaleBits - 1, `${scaling.scaleFormat.name} codes are`, "meta.scaleCodes");
    const shapeOf = { rows: shape[0], cols: shape[1] };
    const tileOfMeta = [tile[0], tile[1]] as const;
    const grid = tileGrid(shapeOf, tileOfMeta);
    if (codes.length !== grid.rows * grid.cols)
      return yield* metaFail(`meta.scaleCodes: ${codes.length} scale codes; a ${shape[0]}×${shape[1]} tensor in tiles of ${tile[0]}×${tile[1]} has ${grid.rows * grid.cols}`);
    let tensorScale = 1;
    if (scaling.tensorScale !== null) {
      tensorScale = yield* parseValue(yield* get("tensorScale"), "meta.tensorScale");
      if (!(Number.isFinite(tensorScale) && tensorScale > 0)) return yield* metaFail(`meta.tensorScale: must be a finite positive number (got ${showJson(meta.tensorScale)})`);
    }
    const scaleCodes = codeArray(scaleBits, codes.length);
    scaleCodes.set(codes);
    return { kind: "block", shape: shapeOf, tile: tileOfMeta, scaleCodes, tensorScale } satisfies BlockMeta;
  });
}
