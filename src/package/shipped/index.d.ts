// Types of a numforge kernel package (the same for every format and target).

export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

/** The resolved format: every derived constant (see numforge's ResolvedFormat). */
export declare const format: {
  readonly name: string;
  readonly summary: string;
  readonly bits: number;
  readonly codeCount: number;
  readonly maxFinite: number;
  readonly minFinite: number;
  readonly minNormal: number;
  readonly minSubnormal: number;
  readonly epsilon: number | null;
  readonly dynamicRangeBinades: number;
  readonly hasNaN: boolean;
  readonly hasInfinity: boolean;
  readonly element: Readonly<Record<string, unknown>> & { readonly kind: "float" | "posit" | "int" };
  readonly scaling: Readonly<Record<string, unknown>> & { readonly kind: "none" | "amax" | "block" | "shift-squeeze" | "shift-groups" };
  readonly rounding: { readonly mode: string; readonly bits: number };
  readonly overflow: "saturate" | "infinity";
};

/** The target whose kernels run in this engine ("wasm" or "js"). */
export declare const target: string;

/** Scale metadata of one encoded tensor; pass it to decode / gemm. */
export interface Meta {
  readonly kind: string;
  readonly n: number;
  readonly channels: number;
  readonly buffers: Readonly<Record<string, Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array>>;
}

/** Delayed-scaling state to pass to the next call for the same tensor. */
export interface State {
  readonly buffers: Readonly<Record<string, Float32Array | Int32Array | Uint32Array>>;
}

export interface CallOptions {
  /** Leading-axis channels for per-channel scalings (must divide the length; default 1). */
  readonly channels?: number;
  /** Stochastic-rounding seed, a u32 (default 0). */
  readonly seed?: number;
  /** Delayed-scaling state from the previous call. */
  readonly state?: State;
}

export declare function encode(x: Float32Array, out?: CodeArray, options?: CallOptions): { codes: CodeArray; meta: Meta; state: State };
export declare function decode(codes: CodeArray, meta?: Meta, out?: Float32Array): Float32Array;
export declare function fakeQuantize(x: Float32Array, out?: Float32Array, state?: State, options?: Omit<CallOptions, "state">): { values: Float32Array; meta: Meta; state: State };

export interface GemmParams {
  readonly a: Float32Array | CodeArray;
  readonly b: Float32Array | CodeArray;
  readonly c: Float32Array;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
  readonly metaA?: Meta;
  readonly metaB?: Meta;
}

/** C = α·op(A)·op(B) + β·C (row-major); returns c. */
export declare function gemm(params: GemmParams): Float32Array;
