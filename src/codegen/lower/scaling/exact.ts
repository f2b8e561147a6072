/**
 * When a kernel may encode x·2^k computed in float32 where the semantics encodes the exact
 * double: the product is exact unless |x·2^k| < 2^−126, and below that every rounding of the
 * format gives the same code from either value as long as its finest step q is coarse enough —
 * q > 2^−125 (nearest: both round to zero), q > 2^(bits−126) (stochastic: the kept fraction
 * bits are all zero).
 */
import type { ResolvedFormat } from "../../../dsl/resolved.ts";

/** Throws when scaled elements of `format` could round differently from the semantics. */
export function assertScaledEncodeExact(format: ResolvedFormat): void {
  const bits = format.rounding.mode === "stochastic" ? Math.max(1, format.rounding.bits) : 1;
  if (!(format.minSubnormal > 2 ** (bits - 126)))
    throw new Error(`${format.name}: elements as small as ${format.minSubnormal} cannot be scaled in float32 and rounded once`);
}
