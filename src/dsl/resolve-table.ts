/**
 * resolve for `table` elements (codebooks): the values must be float32s (kernels exchange f32, and
 * a value the user wrote is never silently changed), strictly increasing (so code order is value
 * order and encode is a search); codes take ⌈log2(count)⌉ bits.
 */
import * as Effect from "effect/Effect";
import type { SpecError } from "./errors.ts";
import type { Fail, Ranges } from "./resolve.ts";
import type { ResolvedTable } from "./resolved.ts";
import type { TableElementSpec } from "./spec-schema.ts";

export function resolveTable(spec: TableElementSpec, fail: Fail): Effect.Effect<Ranges, SpecError> {
  const values = spec.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Math.fround(v) !== v)
      return fail(`/element/values/${i}`, `${v} is not a float32 (table values are exchanged as float32); the nearest float32 is ${Math.fround(v)}`);
    if (i > 0 && !(v > values[i - 1]))
      return fail(`/element/values/${i}`, `${v} is not above the value before it (${values[i - 1]}); table values must be distinct and in increasing order`);
  }
  const count = values.length;
  const bits = Math.max(1, Math.ceil(Math.log2(count)));
  const element: ResolvedTable = { kind: "table", bits, values: [...values] };
  const magnitudes = values.map(Math.abs).filter((a) => a > 0);
  const smallest = Math.min(...magnitudes);
  const one = values.indexOf(1);
  const zero = values.findIndex((v) => v === 0);
  return Effect.succeed({
    element,
    maxFinite: values[count - 1],
    minFinite: values[0],
    minNormal: smallest,
    minSubnormal: smallest,
    epsilon: one >= 0 && one < count - 1 ? values[one + 1] - 1 : Number.NaN,
    codes: {
      positiveZero: zero >= 0 ? zero : null,
      negativeZero: null,
      positiveInfinity: null,
      negativeInfinity: null,
      nan: null,
      negativeNan: null,
      maxFinite: count - 1,
      minFinite: 0,
    },
  });
}
