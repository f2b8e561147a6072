/**
 * Host side of a schedule (schedule.ts): from a call's scalar arguments, the dispatches a kernel
 * needs and the launch scalars each passes. Loop bounds are evaluated by the IR interpreter (the
 * same semantics as on the device); grid loops stride by the dispatched size, so every dimension
 * stays within the WebGPU default of 65535 workgroups.
 */
import { interpret } from "../../codegen/ir/interpret.ts";
import type { Expr, Kernel, Param, Stmt } from "../../codegen/ir/nodes.ts";
import { WORKGROUP_SIZE, type Launch } from "./kernel.ts";

/** WebGPU's default maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/** One dispatch: workgroups along x and y, and the launch scalars by name. */
export interface Dispatch {
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
function axis(units: number, size: number): { groups: number; stride: number; rounds: number } {
  const groups = Math.min(Math.ceil(units / size), MAX_WORKGROUPS_PER_DIMENSION);
  const stride = groups * size;
  return { groups, stride, rounds: Math.ceil(units / stride) };
}

/**
 * The dispatches of one call (none when the grid is empty). `args` holds the call's scalar
 * arguments by parameter name; `params` and `tables` are the source kernel's.
 */
export function dispatches(launch: Launch, params: readonly Param[], tables: Kernel["tables"], args: Readonly<Record<string, number>>): Dispatch[] {
  if (launch.kind === "single") return [{ workgroups: [1, 1], scalars: {} }];
  const { outer, inner, scalars: names } = launch;
  const exprs = [outer.from, outer.to, ...(outer.ownedBase === null ? [] : [outer.ownedBase]), ...(inner === null ? [] : [inner.extent])];
  const values = evaluate(exprs, launch.lets, params, tables, args);
  const [from, to] = values;
  const base = outer.ownedBase === null ? 0 : values[2];
  const extent = inner === null ? 0 : values[values.length - 1];
  const trips = to > from ? Math.ceil((to - from) / outer.step) : 0;
  let outerUnits: number;
  let firstUnit = 0;
  if (outer.unit > 1) {
    firstUnit = Math.floor(base / outer.unit);
    outerUnits = trips > 0 ? Math.floor((base + trips - 1) / outer.unit) - firstUnit + 1 : 0;
  } else outerUnits = Math.ceil(trips / outer.phases);
  const innerUnits = inner === null ? 1 : extent <= 0 ? 0 : inner.unit === 1 ? extent : Math.floor((extent - 1) / inner.unit) + 2;
  const [unitsX, unitsY] = inner === null ? [outerUnits, 1] : [innerUnits, outerUnits];
  if (unitsX === 0 || unitsY === 0) return [];
  const x = axis(unitsX, WORKGROUP_SIZE);
  const y = axis(unitsY, 1);
  const common = {
    [names.trips]: trips,
    [names.firstUnit]: firstUnit,
    [names.ownedBase]: base,
    [names.unitsX]: unitsX,
    [names.strideX]: x.stride,
    [names.roundsX]: x.rounds,
    [names.unitsY]: unitsY,
    [names.strideY]: y.stride,
    [names.roundsY]: y.rounds,
  };
  return Array.from({ length: outer.phases }, (_, phase) => ({ workgroups: [x.groups, y.groups] as const, scalars: { ...common, [names.phase]: phase } }));
}
