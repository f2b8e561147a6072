/** Posit element encode/decode lowered to IR. (Placeholder until the posit lowering lands.) */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { Builder } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";

export function lowerPositEncode(_b: Builder, format: ResolvedFormat, _x: Expr): Expr {
  throw new Error(`posit encode lowering is not implemented yet (${format.name})`);
}

export function lowerPositDecode(_b: Builder, format: ResolvedFormat, _code: Expr): Expr {
  throw new Error(`posit decode lowering is not implemented yet (${format.name})`);
}
