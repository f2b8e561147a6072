/** Shared test access to the built-in formats through one registry. */
import { createRegistry } from "../../src/dsl/registry.ts";
import { Effect } from "effect";
import type { ResolvedFormat } from "../../src/dsl/resolved.ts";

const registry = createRegistry();

/** A built-in format by name (throws the typed error if it does not resolve). */
export function builtin(name: string): ResolvedFormat {
  return Effect.runSync(registry.get(name));
}

/** Every built-in format name. */
export const builtinNames: readonly string[] = registry.names();
