/** Types of wgsl-runtime.js and of wgsl-launch.js, which it re-exports (shipped in kernel packages, used by numforge's WGSL runner). */
import type { BufferArray, OpPlan, RunCall, RunResult } from "./run-plan.js";

export declare const USAGE: { readonly MAP_READ: 1; readonly COPY_SRC: 4; readonly COPY_DST: 8; readonly UNIFORM: 64; readonly STORAGE: 128 };
export declare const MAX_WORKGROUPS_PER_DIMENSION: number;
/** What a WebGPU program needs where none is found (one sentence, for error messages). */
export declare const WEBGPU_HINT: string;

/** A device from a GPUDevice (used as is), a GPUAdapter or a GPU entry point; `owned`: the caller should destroy it. */
export declare function openGpuDevice(source?: GPU | GPUAdapter | GPUDevice | null): Promise<{ readonly device: GPUDevice; readonly owned: boolean; readonly gpu: unknown }>;

/** Bytes rounded up to whole u32 words (at least one). */
export declare function padded(bytes: number): number;

export type KernelParam =
  | { readonly kind: "buffer"; readonly name: string; readonly storage: "f32" | "i32" | "u32" | "u16" | "u8" | "i8"; readonly access: "read" | "write" | "readwrite" }
  | { readonly kind: "scalar"; readonly name: string; readonly type: string };

/** One dispatch: its workgroup shape, workgroups along x and y, and its launch scalars by name. */
export interface Dispatch {
  readonly workgroupSize: readonly [number, number];
  readonly workgroups: readonly [number, number];
  readonly scalars: Readonly<Record<string, number>>;
}

/** What the runner needs of a pass; a pipeline source may need more (GpuPipelines: ShippedPass). */
export interface GpuPass {
  readonly name: string;
  /** The scalar fields of the shader's uniform struct, in order (an opaque zero word follows). */
  readonly uniforms: readonly { readonly name: string; readonly type: string }[];
  /** The dispatches of a call with these scalar arguments (by parameter name). */
  dispatches(scalars: Readonly<Record<string, number>>): readonly Dispatch[];
}

/** A runnable kernel: bindings are its buffer parameters in order, then its scratch buffers, then the pass's tables and uniforms. */
export interface GpuKernel<P extends GpuPass = GpuPass> {
  readonly name: string;
  readonly params: readonly KernelParam[];
  readonly scratch: readonly { readonly name: string; readonly storage: "f32" | "i32" | "u32" }[];
  /** Entries of each scratch buffer for a call with these scalar arguments. */
  scratchLength(scalars: Readonly<Record<string, number>>): number;
  readonly passes: readonly P[];
}

/** What GpuPipelines reads of a pass to compile its pipeline and bind its constant tables. */
export interface PipelinePass {
  readonly name: string;
  readonly wgsl: string;
  /** A hash of `wgsl`, the pipeline cache key (checked against the source on a hit). */
  readonly hash: string;
  /** The access of each storage binding, in binding order (buffer parameters, then scratch). */
  readonly bindings: readonly ("read" | "write" | "readwrite")[];
  /** The constant tables' u32 words (one binding), or null. */
  readonly tables: ArrayLike<number> | null;
  /** A grid's shader takes its workgroup shape as pipeline-overridable constants; single and tiled shaders fix their own. */
  readonly launch: { readonly kind: "single" } | Pick<ShippedGridLaunch, "kind" | "workgroupSize" | "workgroup"> | TileLaunch;
}

/** Compiles passes and binds their constant tables on one device. */
export interface PipelineSource<P extends GpuPass = GpuPass> {
  readonly device: GPUDevice;
  check(): void;
  pipeline(pass: P, shape?: readonly [number, number]): Promise<GPUComputePipeline>;
  tables(pass: P): readonly GPUBuffer[];
}

/** Launch rule of a shipped grid pass (data; its bounds come from a rendered function). */
export interface ShippedGridLaunch {
  readonly kind: "grid";
  /** Name of the launch-bound function: (scalars…, out: Int32Array(4)) fills [from, to, ownedBase, extent]. */
  readonly bounds: string;
  readonly workgroupSize: number;
  /** Names of the pipeline-overridable workgroup shape constants. */
  readonly workgroup: { readonly x: string; readonly y: string };
  readonly outer: { readonly step: number; readonly unit: number; readonly phases: number };
  readonly inner: { readonly unit: number } | null;
  readonly reduction: { readonly pass: "partials" | "combine" } | null;
  readonly scalars: Readonly<Record<"trips" | "phase" | "firstUnit" | "ownedBase" | "unitsX" | "strideX" | "roundsX" | "unitsY" | "strideY" | "roundsY" | "parts" | "partRounds", string>>;
}

/**
 * Launch rule of a pass laid out by hand over 2-d tiles of its output (numforge's WGSL GEMM):
 * workgroups of `workgroupSize` invocations, along x ⌈scalars[extents[0]] / tile[0]⌉ of them and
 * along y ⌈scalars[extents[1]] / tile[1]⌉, each at most the per-dimension limit (65535): the shader
 * strides over the tiles past the dispatched count, so any size runs. No launch scalars.
 */
export interface TileLaunch {
  readonly kind: "tiles";
  readonly workgroupSize: readonly [number, number];
  /** Output elements one workgroup covers along x and y. */
  readonly tile: readonly [number, number];
  /** The scalar parameters (i32) whose values the tiles cover along x and y. */
  readonly extents: readonly [string, string];
}

/** One pass of a shipped kernel, as data. */
export interface ShippedPass extends PipelinePass {
  /** The package's .wgsl file (under wgsl/) holding `wgsl`, for readers; the runtime uses `wgsl`. */
  readonly file?: string;
  readonly tables: readonly number[] | null;
  readonly uniforms: GpuPass["uniforms"];
  readonly launch: { readonly kind: "single" } | ShippedGridLaunch | TileLaunch;
}

export interface ShippedKernel {
  readonly name: string;
  readonly params: readonly KernelParam[];
  readonly scratch: GpuKernel["scratch"];
  readonly passes: readonly ShippedPass[];
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

/** What the geometry reads of a grid launch: a ShippedGridLaunch, or numforge's IR launch with its workgroup size. */
export type GridGeometry = Pick<ShippedGridLaunch, "kind" | "workgroupSize" | "outer" | "inner" | "reduction" | "scalars">;
/** A launch rule as the geometry reads it. */
export type LaunchRule<G extends GridGeometry = GridGeometry> = { readonly kind: "single" } | G | TileLaunch;
/** A grid launch's bounds [from, to, ownedBase, extent] for a call with these scalars. */
export type BoundsOf<G extends GridGeometry = GridGeometry> = (launch: G, scalars: Readonly<Record<string, number>>) => ArrayLike<number>;

export declare function gridSize(launch: GridGeometry, bounds: ArrayLike<number>): GridSize;
export declare function gridDispatches(launch: GridGeometry, size: GridSize, maxWorkgroups?: number): Dispatch[];
export declare function tileDispatches(launch: TileLaunch, scalars: Readonly<Record<string, number>>, maxWorkgroups?: number): Dispatch[];
/** The dispatches of a launch rule for a call; a grid's bounds come from `boundsOf`. */
export declare function launchDispatches<G extends GridGeometry>(
  launch: LaunchRule<G>,
  scalars: Readonly<Record<string, number>>,
  boundsOf: BoundsOf<G>,
  maxWorkgroups?: number,
): readonly Dispatch[];
/** Entries of each scratch buffer of a kernel whose first pass has this launch rule, for a call. */
export declare function scratchLengthOf<G extends GridGeometry>(launch: LaunchRule<G>, scalars: Readonly<Record<string, number>>, boundsOf: BoundsOf<G>): number;

export type BoundsFunction = (...args: (number | Int32Array)[]) => void;
export declare function kernelFromData(data: ShippedKernel, bounds: Readonly<Record<string, BoundsFunction>>): GpuKernel<ShippedPass & GpuPass>;

/** Pipelines cached by WGSL hash and workgroup shape, table buffers by their words. */
export declare class GpuPipelines implements PipelineSource<PipelinePass & GpuPass> {
  constructor(device: GPUDevice);
  readonly device: GPUDevice;
  /** Pipelines compiled so far (cache misses). */
  readonly compiled: number;
  check(): void;
  pipeline(pass: PipelinePass, shape?: readonly [number, number]): Promise<GPUComputePipeline>;
  tables(pass: PipelinePass): readonly GPUBuffer[];
  release(): void;
}

export type GpuArg = ArrayLike<number> | number;

export interface GpuCall<P extends GpuPass = GpuPass> {
  readonly kernel: GpuKernel<P>;
  readonly args: readonly GpuArg[];
}

export declare function runGpuCalls<P extends GpuPass>(source: PipelineSource<P>, calls: readonly GpuCall<P>[], readBack?: (array: ArrayLike<number>) => boolean): Promise<void>;

export declare function runPlanOnGpu<P extends GpuPass>(
  source: PipelineSource<P>,
  kernels: Readonly<Record<string, GpuKernel<P>>>,
  plan: OpPlan,
  bindings: Readonly<Record<string, BufferArray>>,
  call?: RunCall,
): Promise<RunResult>;

export declare function warmPipelines<P extends GpuPass>(source: PipelineSource<P>, kernels: Readonly<Record<string, GpuKernel<P>>>): Promise<void>;
