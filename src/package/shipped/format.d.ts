// Types of a kernel package's format.js for any format. numforge generates each package's own
// format.d.ts, specific to its format (literal types, the code array of its bit width, its
// metadata buffers by name); this file states the general shape those specialise.

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
  readonly element: Readonly<Record<string, unknown>> & { readonly kind: "float" | "posit" | "int" | "table" };
  readonly scaling: Readonly<Record<string, unknown>> & { readonly kind: string };
  readonly rounding: { readonly mode: string; readonly bits: number };
  readonly overflow: "saturate" | "infinity" | "saturate-propagate";
};

export type CodeArray = Uint8Array | Uint16Array | Uint32Array;
export type ScalingKind = string;
export type MetaBuffers = Readonly<Record<string, Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array>>;
export type StateBuffers = Readonly<Record<string, Float32Array | Int32Array | Uint32Array>>;
export declare const targets: readonly string[];
export declare const plans: Readonly<Record<string, unknown>>;
export declare const gemmKernels: Readonly<Record<string, unknown>>;
