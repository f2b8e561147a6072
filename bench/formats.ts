/** The built-in formats the benchmarks use, resolved once through the registry. */
import { readFileSync } from "node:fs";
import { Effect } from "effect";
import { createRegistry } from "../src/dsl/registry.ts";
import { resolveFormat } from "../src/dsl/resolve.ts";
import type { ResolvedFormat } from "../src/dsl/resolved.ts";
import { validateSpec } from "../src/dsl/validate.ts";

const registry = createRegistry();

/** A built-in format by name (throws the registry's typed error if it does not resolve). */
export function format(name: string): ResolvedFormat {
  return Effect.runSync(registry.get(name));
}

/** Uniform f32 values in [−1, 1) from a small deterministic generator (mulberry32). */
export function uniform(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 31) - 1;
  }
  return out;
}

/** A built-in format with another scaling, resolved as a spec file with that scaling would be (bench-only formats such as int8 with an amax scale). */
export function withScaling(name: string, scaling: Record<string, unknown>, as: string): ResolvedFormat {
  const json = JSON.parse(readFileSync(new URL(`../formats/${name}.json`, import.meta.url), "utf8")) as Record<string, unknown>;
  const file = `${as}.json`;
  const spec = validateSpec({ ...json, name: as, scaling }, file);
  return Effect.runSync(Effect.flatMap(spec, (valid) => resolveFormat(valid, file, (n) => registry.get(n))));
}

/** Every built-in format name. */
export const builtinNames = (): readonly string[] => registry.names();
