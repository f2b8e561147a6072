/** Shared test access to the built-in formats through one registry. */
import { createRegistry } from "../../src/dsl/registry.ts";
import { Effect } from "effect";
import type { ResolvedFormat, ResolvedScaling } from "../../src/dsl/resolved.ts";

const registry = createRegistry();

/** A built-in format by name (throws the typed error if it does not resolve). */
export function builtin(name: string): ResolvedFormat {
  return Effect.runSync(registry.get(name));
}

/** Every built-in format name. */
export const builtinNames: readonly string[] = registry.names();

/** E4M3 under every amax scaling variant (tensor/channel × current/delayed(3) × fp32/power-of-two, margin 1). */
export function e4m3AmaxVariants(): ResolvedFormat[] {
  const out: ResolvedFormat[] = [];
  for (const granularity of ["tensor", "channel"] as const)
    for (const history of [{ mode: "current" }, { mode: "delayed", length: 3 }] as const)
      for (const scale of ["fp32", "power-of-two"] as const) {
        const scaling: ResolvedScaling = { kind: "amax", granularity, history, margin: 1, scale };
        out.push({ ...builtin("e4m3"), name: `e4m3-amax-${granularity}-${history.mode}-${scale}`, scaling });
      }
  return out;
}

/** Whether a spec may give this format's element stochastic rounding (resolve refuses it for posits and tables). */
export function acceptsStochastic(format: ResolvedFormat): boolean {
  return format.element.kind !== "posit" && format.element.kind !== "table";
}
