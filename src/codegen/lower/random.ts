/** counterRandom(seed, index) of dsl/semantics/random.ts in u32 IR (multiply, xor, shift only). */
import { Builder, add, mul, shr, u32, xor, asU32 } from "../ir/build.ts";
import type { Expr } from "../ir/nodes.ts";

function mix32(b: Builder, x: Expr): Expr {
  let h = b.let("h", xor(x, shr(x, u32(16))));
  h = b.let("h", mul(h, u32(0x7feb352d)));
  h = b.let("h", xor(h, shr(h, u32(15))));
  h = b.let("h", mul(h, u32(0x846ca68b)));
  return b.let("h", xor(h, shr(h, u32(16))));
}

/** The per-tensor key derived from the seed; compute it once outside element loops. */
export function lowerRandomKey(b: Builder, seed: Expr): Expr {
  return mix32(b, xor(seed, u32(0x9e3779b9)));
}

/** The u32 draw for element `index` (i32 or u32) under `key`. */
export function lowerCounterRandom(b: Builder, key: Expr, index: Expr): Expr {
  return mix32(b, add(mix32(b, xor(asU32(index), key)), key));
}
