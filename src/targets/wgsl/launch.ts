/**
 * Host side of a schedule (schedule.ts): from a call's scalar arguments, the dispatches a kernel
 * needs and the launch scalars each passes. Loop bounds are evaluated by the IR interpreter (the
 * same semantics as on the device); grid loops stride by the dispatched size, so every dimension
 * stays within the WebGPU default of 65535 workgroups.
 */
import { interpret } from "../../codegen/ir/interpret.ts";
import type { Expr, Kernel, Param, Stmt } from "../../codegen/ir/nodes.ts";
import { tileDispatches } from "../../package-runtime/wgsl-runtime.js";
import { WORKGROUP_SIZE, type Launch, type PassLaunch } from "./kernel.ts";

/** WebGPU's default maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/** Partial maxima per outer iteration of a reduction: at most this many, of at least ELEMENTS_PER_PART elements. */
export const MAX_PARTS = 4096;
const ELEMENTS_PER_PART = 16;

/** One dispatch: its workgroup shape (x·y = 64 for grids), workgroups along x and y, and the launch scalars by name. */
export interface Dispatch {
  readonly workgroupSize: readonly [number, number];
  readonly workgroups: readonly [number, number];
  readonly scalars: Readonly<Record<string, number>>;
}

/** The values of i32 expressions of the kernel's scalar parameters, after `lets`. */
function evaluate(exprs: readonly Expr[], lets: readonly Stmt[], params: readonly Param[], tables: Kernel["tables"], args: Readonly<Record<string, number>>): number[] {
  const scalars = params.filter((p) => p.kind === "scalar");
  const out = new Int32Array(exprs.length);
  const probe: Kernel = {
    name: "launch_bounds",
    params: [...scalars, { kind: "buffer", name: "launch_bounds_out", storage: "i32", access: "write" }],
    tables,
    body: [...lets, ...exprs.map((value, k): Stmt => ({ kind: "store", buffer: "launch_bounds_out", index: { kind: "const", type: "i32", value: k }, value }))],
  };
  interpret(probe, { ...Object.fromEntries(scalars.map((p) => [p.name, args[p.name] ?? 0])), launch_bounds_out: out });
  return Array.from(out);
}

/** How many workgroups cover `units` invocations of `size`, the stride between rounds, and the rounds. */
function axis(units: number, size: number, limit: number): { groups: number; stride: number; rounds: number } {
  const groups = Math.min(Math.ceil(units / size), limit);
  const stride = groups * size;
  return { groups, stride, rounds: Math.ceil(units / stride) };
}

/** The sizes a grid launch has for one call: iterations, partials of a reduction, units along x and y. */
export interface GridSize {
  readonly trips: number;
  readonly parts: number;
  readonly partRounds: number;
  readonly firstUnit: number;
  readonly ownedBase: number;
  readonly unitsX: number;
  readonly unitsY: number;
}

/** The grid of a launch for one call (`args`: the call's scalars; `params`, `tables`: the source kernel's). */
export function gridSize(launch: Launch & { kind: "grid" }, params: readonly Param[], tables: Kernel["tables"], args: Readonly<Record<string, number>>): GridSize {
  const { outer, inner, reduction } = launch;
  const extentExpr = inner?.extent ?? reduction?.extent;
  const exprs = [outer.from, outer.to, ...(outer.ownedBase === null ? [] : [outer.ownedBase]), ...(extentExpr === undefined ? [] : [extentExpr])];
  const values = evaluate(exprs, launch.lets, params, tables, args);
  const [from, to] = values;
  const base = outer.ownedBase === null ? 0 : values[2];
  const extent = extentExpr === undefined ? 0 : values[values.length - 1];
  const trips = to > from ? Math.ceil((to - from) / outer.step) : 0;
  let outerUnits: number;
  let firstUnit = 0;
  if (outer.unit > 1) {
    firstUnit = Math.floor(base / outer.unit);
    outerUnits = trips > 0 ? Math.floor((base + trips - 1) / outer.unit) - firstUnit + 1 : 0;
  } else outerUnits = Math.ceil(trips / outer.phases);
  const parts = extent <= 0 ? 1 : Math.min(MAX_PARTS, Math.ceil(extent / ELEMENTS_PER_PART));
  const partRounds = extent <= 0 ? 0 : Math.ceil(extent / parts);
  // A reduction's partials pass runs even over empty ranges: each partial is then the accumulator's start.
  const innerUnits = inner === null ? parts : extent <= 0 ? 0 : inner.unit === 1 ? extent : Math.floor((extent - 1) / inner.unit) + 2;
  const [unitsX, unitsY] = inner !== null || reduction?.pass === "partials" ? [innerUnits, outerUnits] : [outerUnits, 1];
  return { trips, parts, partRounds, firstUnit, ownedBase: base, unitsX, unitsY };
}

/**
 * The dispatches of one call (none when the grid is empty). `maxWorkgroups` per dimension is
 * lowered by tests to exercise the grid-stride rounds.
 */
export function dispatches(
  launch: PassLaunch,
  params: readonly Param[],
  tables: Kernel["tables"],
  args: Readonly<Record<string, number>>,
  maxWorkgroups = MAX_WORKGROUPS_PER_DIMENSION,
): Dispatch[] {
  if (launch.kind === "single") return [{ workgroupSize: [1, 1], workgroups: [1, 1], scalars: {} }];
  // A tiled pass's rule is plain arithmetic on two scalars: the shipped runtime's, as kernel packages run it.
  if (launch.kind === "tiles") return tileDispatches(launch, args, maxWorkgroups);
  const names = launch.scalars;
  const size = gridSize(launch, params, tables, args);
  if (size.unitsX === 0 || size.unitsY === 0) return [];
  // Few units along x (blocks of 32 elements, words of a short channel): the workgroup spans several rows.
  const width = size.unitsY === 1 ? WORKGROUP_SIZE : Math.min(WORKGROUP_SIZE, 2 ** Math.ceil(Math.log2(size.unitsX)));
  const x = axis(size.unitsX, width, maxWorkgroups);
  const y = axis(size.unitsY, WORKGROUP_SIZE / width, maxWorkgroups);
  const common = {
    [names.trips]: size.trips,
    [names.firstUnit]: size.firstUnit,
    [names.ownedBase]: size.ownedBase,
    [names.unitsX]: size.unitsX,
    [names.strideX]: x.stride,
    [names.roundsX]: x.rounds,
    [names.unitsY]: size.unitsY,
    [names.strideY]: y.stride,
    [names.roundsY]: y.rounds,
    [names.parts]: size.parts,
    [names.partRounds]: size.partRounds,
  };
  const shape = [width, WORKGROUP_SIZE / width] as const;
  return Array.from({ length: launch.outer.phases }, (_, phase) => ({ workgroupSize: shape, workgroups: [x.groups, y.groups] as const, scalars: { ...common, [names.phase]: phase } }));
}

/** Entries of each scratch buffer of a kernel for one call (trips·parts of its first grid pass). */
export function scratchLength(launch: PassLaunch, params: readonly Param[], tables: Kernel["tables"], args: Readonly<Record<string, number>>): number {
  if (launch.kind !== "grid") return 0;
  const size = gridSize(launch, params, tables, args);
  return size.trips * size.parts;
}
