/**
 * Scaling kinds from outside numforge, for the CLI: NUMFORGE_SCALING_KINDS lists modules (paths,
 * separated by the platform's path delimiter) that each export `scalingKind`, a ScalingKind.
 * Each is registered before the command runs, so its specs check, encode and compile like a
 * built-in's.
 */
import { delimiter, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ScalingKind } from "./kind.ts";
import { registerScalingKind } from "./registry.ts";

/** Registers the kinds of every module `list` names; throws an Error that names the module and what is wrong. */
export async function loadScalingKindModules(list: string | undefined): Promise<void> {
  for (const path of (list ?? "").split(delimiter).filter((p) => p.trim() !== "")) {
    let module: { scalingKind?: ScalingKind<{ kind: string }, { kind: string }> };
    try {
      module = (await import(pathToFileURL(resolve(path)).href)) as typeof module;
    } catch (error) {
      throw new Error(`NUMFORGE_SCALING_KINDS: cannot load ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const kind = module.scalingKind;
    if (kind === undefined || typeof kind !== "object" || typeof kind.kind !== "string")
      throw new Error(`NUMFORGE_SCALING_KINDS: ${path} exports no scalingKind (an object implementing ScalingKind from src/scaling/kind.ts)`);
    try {
      registerScalingKind(kind);
    } catch (error) {
      throw new Error(`NUMFORGE_SCALING_KINDS: ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
