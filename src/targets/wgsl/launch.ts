/**
 * Host side of a schedule (schedule.ts): from a call's scalar arguments, the dispatches a kernel
 * needs and the launch scalars each passes. numforge holds the kernel IR, so a grid's loop bounds
 * are evaluated here by the IR interpreter (the same semantics as on the device); everything from
 * the bounds on — grid sizes, workgroup shapes, grid-stride rounds, tiles — is the shipped
 * runtime's geometry (src/package-runtime/wgsl-launch.js), exactly as kernel packages launch.
 */
import { i32 } from "../../codegen/ir/build.ts";
import { interpret } from "../../codegen/ir/interpret.ts";
import type { Kernel, Param, Stmt } from "../../codegen/ir/nodes.ts";
import { launchDispatches, MAX_WORKGROUPS_PER_DIMENSION, scratchLengthOf, type Dispatch, type LaunchRule } from "../../package-runtime/wgsl-runtime.js";
import { eachExpr } from "./ir-util.ts";
import { WORKGROUP_SIZE, type Launch, type PassLaunch } from "./kernel.ts";

type GridLaunch = Launch & { kind: "grid" };
/** A grid launch as the runtime's geometry reads it: every grid of this target runs WORKGROUP_SIZE invocations per workgroup. */
type GridRule = GridLaunch & { readonly workgroupSize: number };
type Args = Readonly<Record<string, number>>;

/**
 * The launch bounds of a grid pass as a kernel of the source kernel's scalars that stores
 * [from, to, ownedBase, extent] (0 where the launch has none) into its last parameter, with only
 * the tables its lets look up: what the interpreter evaluates here and what a kernel package
 * ships rendered to JS (wgsl/launch.js).
 */
export function boundsKernel(name: string, params: readonly Param[], tables: Kernel["tables"], launch: GridLaunch): Kernel {
  const scalars = params.filter((p) => p.kind === "scalar");
  let out = "launch_bounds";
  while (scalars.some((p) => p.name === out)) out += "_";
  const extent = launch.inner?.extent ?? launch.reduction?.extent ?? i32(0);
  const values = [launch.outer.from, launch.outer.to, launch.outer.ownedBase ?? i32(0), extent];
  const body: Stmt[] = [...launch.lets, ...values.map((value, k): Stmt => ({ kind: "store", buffer: out, index: i32(k), value }))];
  const used = new Set<string>();
  eachExpr(body, (e) => {
    if (e.kind === "lookup") used.add(e.table);
  });
  return { name, params: [...scalars, { kind: "buffer", name: out, storage: "i32", access: "write" }], tables: tables.filter((t) => used.has(t.name)), body };
}

/** The bounds [from, to, ownedBase, extent] of a grid launch for a call, by the IR interpreter. */
function gridBounds(launch: GridLaunch, params: readonly Param[], tables: Kernel["tables"], args: Args): Int32Array {
  const kernel = boundsKernel("launch_bounds", params, tables, launch);
  const out = new Int32Array(4);
  const values: Record<string, number | Int32Array> = {};
  for (const p of kernel.params) values[p.name] = p.kind === "scalar" ? (args[p.name] ?? 0) : out;
  interpret(kernel, values);
  return out;
}

/** A pass's launch as the runtime's launch rule. */
const launchRule = (launch: PassLaunch): LaunchRule<GridRule> => (launch.kind === "grid" ? { ...launch, workgroupSize: WORKGROUP_SIZE } : launch);

/**
 * The dispatches of one call (none when the grid is empty). `params`, `tables`: the source
 * kernel's parameters and the pass's tables; `maxWorkgroups` per dimension is lowered by tests
 * to exercise the grid-stride rounds.
 */
export function dispatches(launch: PassLaunch, params: readonly Param[], tables: Kernel["tables"], args: Args, maxWorkgroups = MAX_WORKGROUPS_PER_DIMENSION): readonly Dispatch[] {
  return launchDispatches<GridRule>(launchRule(launch), args, (grid) => gridBounds(grid, params, tables, args), maxWorkgroups);
}

/** Entries of each scratch buffer of a kernel for one call (trips·parts of its first grid pass), `launch` being its first pass's. */
export function scratchLength(launch: PassLaunch, params: readonly Param[], tables: Kernel["tables"], args: Args): number {
  return scratchLengthOf<GridRule>(launchRule(launch), args, (grid) => gridBounds(grid, params, tables, args));
}
