/**
 * What the WGSL target's IR passes produce and its renderer and runner consume: for each kernel,
 * one or more passes (the IR one invocation runs, after scheduling, packing and folding, and how
 * many invocations to launch), the scratch buffers the passes share, and which buffers hold
 * narrow codes packed into u32 words.
 */
import type { Expr, Kernel, Param, Stmt } from "../../codegen/ir/nodes.ts";
import type { TileLaunch } from "../../package-runtime/wgsl-runtime.js";

/** A pass laid out by hand over 2-d tiles of its output (the GEMM, gemm.ts), launched as plain data: the shipped runtime's rule. */
export type { TileLaunch };

/** Invocations per workgroup of a grid pass (x·y; the shape is chosen per dispatch, see launch.ts). */
export const WORKGROUP_SIZE = 64;

/**
 * The loop a grid kernel spreads over invocations, as the host sizes the grid: `for index in
 * [from, to) step` (from/to evaluated with `lets` and the call's scalars).
 */
export interface GridLoop {
  readonly from: Expr;
  readonly to: Expr;
  readonly step: number;
  /**
   * Consecutive owned indices per invocation (4 or 2 when the loop stores narrow codes at an
   * index that grows by one per iteration: an invocation then owns whole u32 words), else 1.
   */
  readonly unit: number;
  /** The owned index of iteration 0 (words are aligned to it), when unit > 1. */
  readonly ownedBase: Expr | null;
  /**
   * Dispatches in sequence, each running the iterations ≡ phase (mod phases): 4 (or 2) when
   * an inner loop's ranges may share a word of narrow codes with the next iteration's, else 1.
   */
  readonly phases: number;
}

/** The inner element loop of a nest spread over the x dimension (the outer loop takes y). */
export interface GridInner {
  /** An upper bound of the inner range's length (host-evaluated). */
  readonly extent: Expr;
  /** Elements per invocation: a word of narrow codes (4 or 2) or 1. */
  readonly unit: number;
}

/**
 * A max-reduction over the inner loop split in two passes: "partials" runs `parts` invocations
 * per outer iteration (x), each reducing every parts-th element into a scratch buffer of
 * trips·parts entries; "combine" runs one invocation per outer iteration over its partials.
 */
export interface GridReduction {
  readonly pass: "partials" | "combine";
  /** An upper bound of the inner range's length (host-evaluated), which sizes `parts` (launch.ts). */
  readonly extent: Expr;
}

/** Names of the launch scalars a grid kernel takes after its own parameters (all i32). */
export interface LaunchScalars {
  readonly trips: string;
  readonly phase: string;
  readonly firstUnit: string;
  readonly ownedBase: string;
  readonly unitsX: string;
  readonly strideX: string;
  readonly roundsX: string;
  readonly unitsY: string;
  readonly strideY: string;
  readonly roundsY: string;
  /** Partials per outer iteration and rounds of the partials' stride over the inner range (reductions). */
  readonly parts: string;
  readonly partRounds: string;
  /** Bound to global_invocation_id.x / workgroup_id.y, not passed. */
  readonly invocationX: string;
  readonly invocationY: string;
}

export type Launch =
  | { readonly kind: "single"; readonly reason: string }
  | {
      readonly kind: "grid";
      /** The kernel's leading lets that the host needs to evaluate the bounds (no loads). */
      readonly lets: readonly Stmt[];
      readonly outer: GridLoop;
      readonly inner: GridInner | null;
      readonly reduction: GridReduction | null;
      readonly scalars: LaunchScalars;
    };

/** How any compiled pass launches: a scheduled IR kernel (Launch) or a hand-laid tiled shader. */
export type PassLaunch = Launch | TileLaunch;

/** A buffer only the GPU sees, between the passes of one call. */
export interface ScratchBuffer {
  readonly name: string;
  readonly storage: "f32" | "i32" | "u32";
}

/** One dispatch sequence of a kernel: what one invocation runs and how many run. */
export interface WgslPass<L extends PassLaunch = Launch> {
  /**
   * The kernel's parameters, then its scratch buffers, then the launch scalars; after packing,
   * buffers are f32/i32/u32 only. A tiled pass's kernel only declares (params and tables: its
   * bindings and uniforms) and has an empty body; its shader is laid out by hand.
   */
  readonly kernel: Kernel;
  readonly launch: L;
}

/** A kernel ready to render: one or more passes run in order, and the packed buffers. */
export interface WgslKernelIR {
  /** The source kernel's name and parameters (the calling convention). */
  readonly name: string;
  readonly params: readonly Param[];
  readonly passes: readonly WgslPass[];
  /** Scratch buffers the passes share, trips·parts entries each (reductions), allocated per call. */
  readonly scratch: readonly ScratchBuffer[];
  /** Narrow buffers (u8/i8: 4 per word, u16: 2) by name, as the runner must pad them. */
  readonly packed: Readonly<Record<string, number>>;
}

/** Every name a kernel binds (parameters, lets, vars, loop indices). */
export function boundNames(kernel: Kernel): Set<string> {
  const names = new Set<string>(kernel.params.map((p) => p.name));
  const walk = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "let" || s.kind === "var") names.add(s.name);
      else if (s.kind === "for") {
        names.add(s.index);
        walk(s.body);
      } else if (s.kind === "if") {
        walk(s.then);
        walk(s.else);
      }
    }
  };
  walk(kernel.body);
  return names;
}

/** A generator of names unused in the kernel (and by each other). */
export function freshNames(kernel: Kernel): (hint: string) => string {
  const taken = boundNames(kernel);
  for (const t of kernel.tables) taken.add(t.name);
  return (hint) => {
    let name = hint;
    for (let k = 2; taken.has(name); k++) name = `${hint}_${k}`;
    taken.add(name);
    return name;
  };
}
