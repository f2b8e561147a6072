/**
 * Launch rules of WGSL kernels, as data: "single" (one invocation), "grid" (a loop spread over
 * invocations; its bounds — from, to, owned base, inner extent — are a function of the call's
 * scalars) and "tiles" (2-d tiles of an output sized by two scalar parameters: the GEMM). The one
 * implementation of their geometry: a kernel package evaluates a grid's bounds with functions
 * rendered from the kernel IR (its wgsl/launch.js), numforge's src/targets/wgsl/launch.ts with the
 * IR interpreter, and both hand them to launchDispatches and scratchLengthOf here
 * (test/package/wgsl-launch.test.ts holds the two bounds equal). Grid loops and tiles stride by
 * the dispatched size, so every dimension stays within WebGPU's default of 65535 workgroups.
 *
 * Shipped verbatim in generated kernel packages beside wgsl-runtime.js, which re-exports it:
 * plain ES2022, no imports. Types: wgsl-runtime.d.ts.
 */

/** WebGPU's default maxComputeWorkgroupsPerDimension: grid loops stride by the dispatched size instead. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/** Partial maxima of a reduction per outer iteration: at most MAX_PARTS, of at least ELEMENTS_PER_PART elements. */
const MAX_PARTS = 4096;
const ELEMENTS_PER_PART = 16;

/** How many workgroups cover `units` invocations of `size`, the stride between rounds, and the rounds. */
function axis(units, size, limit) {
  const groups = Math.min(Math.ceil(units / size), limit);
  const stride = groups * size;
  return { groups, stride, rounds: Math.ceil(units / stride) };
}

/** The sizes of a grid launch for one call, from its bounds [from, to, ownedBase, extent]. */
export function gridSize(launch, bounds) {
  const { outer, inner, reduction } = launch;
  const [from, to, base, extent] = bounds;
  const trips = to > from ? Math.ceil((to - from) / outer.step) : 0;
  let outerUnits;
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

/** The dispatches of a grid launch of this size (none when it is empty), each with its launch scalars. */
export function gridDispatches(launch, size, maxWorkgroups = MAX_WORKGROUPS_PER_DIMENSION) {
  if (size.unitsX === 0 || size.unitsY === 0) return [];
  const names = launch.scalars;
  const total = launch.workgroupSize;
  // Few units along x (blocks of 32 elements, words of a short channel): the workgroup spans several rows.
  const width = size.unitsY === 1 ? total : Math.min(total, 2 ** Math.ceil(Math.log2(size.unitsX)));
  const x = axis(size.unitsX, width, maxWorkgroups);
  const y = axis(size.unitsY, total / width, maxWorkgroups);
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
  const shape = [width, total / width];
  return Array.from({ length: launch.outer.phases }, (_, phase) => ({ workgroupSize: shape, workgroups: [x.groups, y.groups], scalars: { ...common, [names.phase]: phase } }));
}

/**
 * The one dispatch of a tiled pass (the GEMM): ⌈args[extents[d]] / tile[d]⌉ workgroups along
 * each dimension, at most the per-dimension limit (the shader strides over the rest); none when
 * a dimension has no tiles.
 */
export function tileDispatches(launch, scalars, maxWorkgroups = MAX_WORKGROUPS_PER_DIMENSION) {
  const groups = launch.extents.map((name, d) => {
    const extent = scalars[name];
    if (typeof extent !== "number") throw new Error(`tiled launch: no value for ${name}`);
    return Math.min(Math.max(0, Math.ceil(extent / launch.tile[d])), maxWorkgroups);
  });
  if (groups[0] === 0 || groups[1] === 0) return [];
  return [{ workgroupSize: launch.workgroupSize, workgroups: [groups[0], groups[1]], scalars: {} }];
}

const SINGLE_DISPATCH = Object.freeze([Object.freeze({ workgroupSize: [1, 1], workgroups: [1, 1], scalars: {} })]);

/**
 * The dispatches of a launch rule for a call with these scalars; `boundsOf(launch, scalars)` gives
 * a grid's [from, to, ownedBase, extent]. `maxWorkgroups` per dimension is lowered by tests to
 * exercise the grid-stride rounds.
 */
export function launchDispatches(launch, scalars, boundsOf, maxWorkgroups = MAX_WORKGROUPS_PER_DIMENSION) {
  switch (launch.kind) {
    case "single":
      return SINGLE_DISPATCH;
    case "tiles":
      return tileDispatches(launch, scalars, maxWorkgroups);
    case "grid":
      return gridDispatches(launch, gridSize(launch, boundsOf(launch, scalars)), maxWorkgroups);
    default:
      throw new Error(`unknown launch kind ${JSON.stringify(launch.kind)}`);
  }
}

/** Entries of each scratch buffer of a kernel whose first pass has this launch rule, for a call: trips·parts of a grid, else 0. */
export function scratchLengthOf(launch, scalars, boundsOf) {
  if (launch.kind !== "grid") return 0;
  const size = gridSize(launch, boundsOf(launch, scalars));
  return size.trips * size.parts;
}

/**
 * A runnable kernel from shipped data: `bounds` holds the launch-bound functions by name (each
 * takes the kernel's scalar parameters in order, then an Int32Array(4) it fills).
 */
export function kernelFromData(data, bounds) {
  const scalarParams = data.params.filter((p) => p.kind === "scalar");
  const boundsOf = (launch, scalars) => {
    const fn = bounds[launch.bounds];
    if (typeof fn !== "function") throw new Error(`${data.name}: no launch-bound function ${launch.bounds}`);
    const out = new Int32Array(4);
    fn(...scalarParams.map((p) => scalars[p.name] ?? 0), out);
    return out;
  };
  const first = data.passes[0];
  return {
    ...data,
    scratchLength: (scalars) => scratchLengthOf(first.launch, scalars, boundsOf),
    passes: data.passes.map((pass) => ({
      ...pass,
      dispatches: (scalars) => launchDispatches(pass.launch, scalars, boundsOf),
    })),
  };
}
