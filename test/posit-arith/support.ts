/** Shared by the posit arithmetic tests: posit formats beyond the built-in ones, resolved from a spec. */
import { Effect } from "effect";
import { createRegistry } from "../../src/dsl/registry.ts";
import { resolveFormat } from "../../src/dsl/resolve.ts";
import type { ResolvedFormat, ResolvedPosit } from "../../src/dsl/resolved.ts";
import type { PositShape } from "../../src/dsl/semantics/posit-arith.ts";
import { validateSpec } from "../../src/dsl/validate.ts";

const registry = createRegistry();

/** posit⟨bits, es⟩ resolved from a spec, as a user's format file would be. */
export function positFormat(bits: number, es: number): ResolvedFormat {
  const spec = { name: `posit${bits}es${es}`, summary: `posit<${bits},${es}>`, element: { kind: "posit", bits, es }, rounding: "nearest-even", overflow: "saturate", scaling: { kind: "none" } };
  return Effect.runSync(Effect.flatMap(validateSpec(spec, "test"), (s) => resolveFormat(s, "test", registry.get)));
}

/** The (n, es) of a posit format. */
export const shapeOf = (f: ResolvedFormat): PositShape => ({ n: (f.element as ResolvedPosit).bits, es: (f.element as ResolvedPosit).es });
