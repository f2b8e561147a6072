/**
 * All kernels of a format and the plans that sequence them for encode, decode and fakeQuantize:
 * lowered by the format's scaling kind (src/scaling/<kind>), reading only the resolved numbers.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { scalingKindOf } from "../../scaling/registry.ts";
import type { Kernel } from "../ir/nodes.ts";
import type { FormatPlans, OpPlan } from "../plan.ts";
import type { ScalingLowering } from "./scaling/common.ts";

/** The format's kernels (names unique) and its plans; every step names one of those kernels. */
export function lowerFormat(format: ResolvedFormat): { kernels: Kernel[]; plans: FormatPlans } {
  const lowered: ScalingLowering = scalingKindOf(format.scaling).lower(format, format.scaling);
  checkPlans(format, lowered);
  return { kernels: [...lowered.kernels], plans: lowered.plans };
}

/** Kernel names are unique; every step calls a known kernel with every parameter bound to a declared buffer. */
function checkPlans(format: ResolvedFormat, { kernels, plans }: ScalingLowering): void {
  const byName = new Map<string, Kernel>();
  for (const k of kernels) {
    if (byName.has(k.name)) throw new Error(`${format.name}: two kernels named ${k.name}`);
    byName.set(k.name, k);
  }
  const check = (op: string, plan: OpPlan) => {
    const buffers = new Map(plan.buffers.map((d) => [d.name, d] as const));
    if (buffers.size !== plan.buffers.length) throw new Error(`${format.name} ${op}: duplicate buffer names`);
    for (const s of plan.steps) {
      const k = byName.get(s.kernel);
      if (k === undefined) throw new Error(`${format.name} ${op}: unknown kernel ${s.kernel}`);
      for (const p of k.params) {
        const a = s.args[p.name];
        if (p.kind === "buffer") {
          const d = "buffer" in a ? buffers.get(a.buffer) : undefined;
          if (d === undefined || d.storage !== p.storage) throw new Error(`${format.name} ${op}: ${s.kernel}.${p.name} needs a ${p.storage} buffer`);
        } else if ("buffer" in a) throw new Error(`${format.name} ${op}: ${s.kernel}.${p.name} is a scalar`);
      }
    }
  };
  check("encode", plans.encode);
  check("decode", plans.decode);
  check("fakeQuantize", plans.fakeQuantize);
  if (plans.fakeQuantizeColumns !== undefined) check("fakeQuantizeColumns", plans.fakeQuantizeColumns);
}
