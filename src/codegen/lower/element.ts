/**
 * Element encode/decode for any format, dispatched on the element kind. Codes of ≤ 8 bits
 * decode through a 256-entry table computed from the semantics (so it is exact by construction).
 */
import { match } from "ts-pattern";
import type { Overflow, ResolvedFormat, Rounding } from "../../dsl/resolved.ts";
import { decodeF32Bits } from "../../dsl/semantics/scalar.ts";
import { fromBits, type Builder } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";
import { lowerFloatDecode, lowerFloatEncode } from "./float-element.ts";
import { lowerIntDecode, lowerIntEncode } from "./int-element.ts";
import { lowerPositDecode, lowerPositEncode } from "./posit-element.ts";
import { lowerFastEncode } from "./fast-encode/index.ts";
import { lowerTableEncode } from "./table-element.ts";

export interface ElementOptions {
  readonly rounding?: Rounding;
  readonly overflow?: Overflow;
}

/** u32 code of the f32 `x` in the format's element encoding (no tensor scaling). */
export function lowerEncodeElement(b: Builder, format: ResolvedFormat, x: Expr, random: Expr | null, options: ElementOptions = {}): Expr {
  // Lane-wise fast paths where the format's numbers allow (src/codegen/lower/fast-encode).
  const fast = lowerFastEncode(b, format, x, random, options.rounding ?? format.rounding, options.overflow ?? format.overflow);
  if (fast !== null) return fast;
  return match(format.element)
    .with({ kind: "float" }, () => lowerFloatEncode(b, format, x, random, options.rounding ?? format.rounding, options.overflow ?? format.overflow))
    .with({ kind: "int" }, () => lowerIntEncode(b, format, x, random, options.rounding ?? format.rounding))
    .with({ kind: "posit" }, () => lowerPositEncode(b, format, x))
    .with({ kind: "table" }, () => lowerTableEncode(b, format, x, options.rounding ?? format.rounding))
    .exhaustive();
}

/** f32 value of the u32 `code` (a table lookup for codes of ≤ 8 bits). */
export function lowerDecodeElement(b: Builder, format: ResolvedFormat, code: Expr): Expr {
  if (format.bits <= 8) {
    const values = Array.from({ length: 2 ** format.bits }, (_, c) => decodeF32Bits(format, c));
    // Named by content, so two formats in one kernel (a mixed GEMM) get two tables, and no
    // string from the spec reaches the generated source.
    const bits = b.names.table(`decode_${contentHash(values)}`, "u32", () => values, code);
    return b.let("decoded", fromBits(bits));
  }
  return match(format.element)
    .with({ kind: "float" }, () => lowerFloatDecode(b, format, code))
    .with({ kind: "int" }, () => lowerIntDecode(b, format, code))
    .with({ kind: "posit" }, () => lowerPositDecode(b, format, code))
    .with({ kind: "table" }, () => {
      throw new Error(`${format.name}: table codes have at most 8 bits and decode through the table above`);
    })
    .exhaustive();
}

/** FNV-1a over the values, as 8 hex digits: a stable name for a constant table. */
function contentHash(values: readonly number[]): string {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v & 0xffff), 0x01000193);
    h = Math.imul(h ^ (v >>> 16), 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
