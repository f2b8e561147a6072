/** What the plan tests of every target share: which formats scale per channel, and a bit-level view of a plan's results. */
import type { RunResult } from "../../src/package-runtime/run-plan.js";

/** Whether the format's scaling groups by channel (so several channel counts are worth testing): the runtime's own test. */
export { quantizesByRow as byRow } from "../../src/recipes/precision.ts";

/**
 * Every word of every buffer of a result, by part and name, f32 by its bits. With `sameNaN`
 * (the default) every f32 NaN is one value: targets may differ in a NaN's payload, not in being NaN.
 */
export function resultWords(result: RunResult, sameNaN = true): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [part, buffers] of Object.entries({ outputs: result.outputs, meta: result.meta, state: result.state }))
    for (const [name, b] of Object.entries(buffers)) {
      const bits = b instanceof Float32Array ? new Uint32Array(b.buffer, b.byteOffset, b.length) : b;
      out[`${part}.${name}`] = Array.from(b, (v, i) => (sameNaN && b instanceof Float32Array && Number.isNaN(v) ? -1 : bits[i]));
    }
  return out;
}
