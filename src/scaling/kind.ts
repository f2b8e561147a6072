/**
 * A scaling kind: everything numforge knows about one way of scaling a tensor before its elements
 * are encoded, behind one interface. A kind is one folder under src/scaling/ exporting a
 * `ScalingKind`, registered in one line of src/scaling/registry.ts; the spec schema, resolve,
 * the semantics, the lowering, the plan metadata, the CLI and the packages ask the interface and
 * never switch on the kind.
 *
 * The tensor a call quantizes is seen as a row-major matrix (`TensorShape`): rows are the
 * channels of per-channel scalings, and 1-D blocks run along `blockAxis` (1: within a row, the
 * default; 0: down a column), so a GEMM operand is blocked along its reduction axis by passing
 * that axis.
 */
import type * as Effect from "effect/Effect";
import type { InputError, SpecError } from "../dsl/errors.ts";
import type { FormatLookup } from "../dsl/resolve.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import type { ScalingState } from "../dsl/semantics/scaling/meta.ts";
import type { BufferArray } from "../codegen/meta.ts";
import type { ScalingLowering } from "../codegen/lower/scaling/common.ts";
import type { OperandDecoder } from "../codegen/lower/gemm/operand.ts";
import type { BufferDecl } from "../codegen/plan.ts";

/** A tensor as rows × cols, row-major. */
export interface TensorShape {
  readonly rows: number;
  readonly cols: number;
}

/** Axis 1-D blocks run along: 1 = the last axis (within a row), 0 = the first (down a column). */
export type BlockAxis = 0 | 1;

/** What one quantize or dequantize call tells the scaling besides the values. */
export interface ScalingCall {
  readonly shape: TensorShape;
  readonly blockAxis: BlockAxis;
  /** State from the previous call (delayed scalings). */
  readonly state: ScalingState | undefined;
}

/** What resolve gives a kind: the format without scaling, where messages point, other formats. */
export interface ScalingResolveContext {
  /** The format being resolved, with `scaling: none` (its element, ranges and codes are final). */
  readonly unscaled: ResolvedFormat;
  readonly file: string;
  readonly lookup: FormatLookup;
  /** A SpecError at `/scaling` + pointer. */
  readonly fail: (pointer: string, message: string) => Effect.Effect<never, SpecError>;
}

/** Encodes element i of the tensor from the scaled value v (the element rounding applies). */
export type EncodeAt = (i: number, v: number) => void;

/** Raw buffers by name, as plans return them. */
export type RawBuffers = Readonly<Record<string, ArrayLike<number>>>;

/**
 * One scaling kind. S: its resolved form (`scaling` of a ResolvedFormat); M: the metadata its
 * quantize returns beside the codes and its dequantize needs.
 */
export interface ScalingKind<S extends { readonly kind: string }, M extends { readonly kind: S["kind"] }> {
  readonly kind: S["kind"];
  /** The JSON Schema of the spec's `scaling` object for this kind (draft 2020-12, no custom keywords). */
  readonly schema: object;
  /** A spec in a shape this kind had before, with the message naming the new shape; null otherwise. */
  readonly retiredShape?: (scaling: Readonly<Record<string, unknown>>) => { pointer: string; message: string } | null;
  /** The schema-valid spec → the resolved scaling, checking what the schema cannot. */
  resolve(spec: never, context: ScalingResolveContext): Effect.Effect<S, SpecError>;

  // The exact semantics (the oracle every target is tested against).
  /** Computes the metadata from x and calls encode(i, scaled value) for every element. */
  quantize(format: ResolvedFormat, scaling: S, x: Float32Array, call: ScalingCall, encode: EncodeAt): { meta: M; state: ScalingState | undefined };
  /** out[i] = the value of element i, from decoded(i) (its element value) and the metadata. */
  dequantize(format: ResolvedFormat, scaling: S, meta: M, call: ScalingCall, decoded: (i: number) => number, out: Float32Array): void;

  // Kernels.
  /** The kind's kernels and the encode / decode / fakeQuantize plans that sequence them. */
  lower(format: ResolvedFormat, scaling: S): ScalingLowering;
  /** The plan buffers that carry the metadata (role "meta" for encode, "input" for decode). */
  metaLayout(format: ResolvedFormat, scaling: S, role: BufferDecl["role"]): readonly BufferDecl[];
  /** The plan buffers of state kept between calls (none for most kinds). */
  stateLayout?(format: ResolvedFormat, scaling: S): readonly BufferDecl[];
  /** The metadata from the meta buffers a plan returned for a call. */
  metaFromBuffers(format: ResolvedFormat, scaling: S, buffers: RawBuffers, call: ScalingCall): M;
  /** The meta buffers for `meta`; throws when it does not fit the format. */
  buffersFromMeta(format: ResolvedFormat, scaling: S, meta: M): Record<string, BufferArray>;
  stateFromBuffers?(format: ResolvedFormat, scaling: S, buffers: RawBuffers): ScalingState | undefined;
  buffersFromState?(format: ResolvedFormat, scaling: S, state: ScalingState | undefined, channels: number): Record<string, BufferArray>;

  // JSON (the CLI's `encode --json` output and `decode` input).
  metaToJson(meta: M, scaling: S): Record<string, unknown>;
  /** Rebuilds and checks metadata for `codeCount` codes; `meta.kind` is already this kind's. */
  metaFromJson(meta: Readonly<Record<string, unknown>>, format: ResolvedFormat, scaling: S, codeCount: number): Effect.Effect<M, InputError>;
  /** The resolved scaling as plain JSON (formats referred to by name). */
  toJson(scaling: S): Record<string, unknown>;

  // Words.
  /** A few characters for tables: "block32×e8m0". */
  label(scaling: S): string;
  /** One phrase for `check`: "blocks of 32 sharing an e8m0 scale, rounded floor". */
  sentence(scaling: S): string;

  /**
   * Whether a call's rows matter: scales per row (channel), or blocks and tiles laid out on the
   * rows. The runtime then quantizes a GEMM operand as lanes × its reduction axis, so per-row
   * scales are constant along the sum and 1-D blocks run along it.
   */
  byRow(scaling: S): boolean;
  /**
   * Optional (default false): whether the scale groups run along each lane's reduction axis
   * (1-D blocks, tiles) rather than covering whole lanes. Such an operand is quantized in its
   * GEMM's own lanes × K layout even where an op reshapes it for the GEMM (conv2d's im2col).
   */
  blocksAlongK?(scaling: S): boolean;
  /** The GEMM operand decoder, or what the GEMM lowering would have to read ("one scale per channel") when it cannot yet. */
  gemmOperand(operand: "a" | "b", format: ResolvedFormat, scaling: S): OperandDecoder | string;
}
