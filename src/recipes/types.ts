/**
 * Recipes as written (RecipeSpec, the shape recipes/recipe.schema.json accepts) and as resolved
 * (every format reference turned into a ResolvedFormat, rounding overrides applied).
 */
import type { ResolvedFormat } from "../dsl/resolved.ts";
import type { Accumulator } from "../dsl/semantics/accumulate.ts";
import type { HadamardRotation } from "../scaling/rotation/hadamard.ts";

/** The tensor roles a recipe names (the runtime's TensorRole, in the recipe's plural words). */
export const RECIPE_ROLES = ["weights", "activations", "errors", "weightGradients", "optimizerState"] as const;
export type RecipeRole = (typeof RECIPE_ROLES)[number];

/** The three GEMMs of a layer and the operands each may override. */
export const GEMM_OPERANDS = {
  forward: ["weights", "activations"],
  inputGradient: ["errors", "weights"],
  weightGradient: ["errors", "activations"],
} as const;
export type GemmName = keyof typeof GEMM_OPERANDS;

export type RoundingSpecJson = "nearest-even" | "nearest-away" | "toward-zero" | { readonly mode: "stochastic"; readonly bits: number };

/** A format reference: a built-in name, a spec path (relative to the recipe), or an inline override. */
export type FormatRef =
  | string
  | {
      readonly format: string;
      readonly name?: string;
      readonly rounding?: RoundingSpecJson;
      readonly overflow?: "saturate" | "infinity";
      readonly scaling?: Record<string, unknown>;
    };

export type LossScalingSpec =
  | { readonly kind: "none" }
  | { readonly kind: "static"; readonly scale: number }
  | { readonly kind: "dynamic"; readonly initial?: number; readonly growthFactor?: number; readonly backoffFactor?: number; readonly growthInterval?: number };

/** A GEMM accumulator as written: "fp32" (the kernels' own float32 accumulation) or a declared one (dsl/semantics/accumulate.ts). */
export type AccumulatorSpec = "fp32" | { readonly format: FormatRef; readonly promoteEvery?: number; readonly compensated?: boolean };

/** A recipe's per-GEMM settings as written. */
export type GemmSpec<G extends GemmName> = { readonly [R in (typeof GEMM_OPERANDS)[G][number]]?: FormatRef } & {
  readonly rotation?: HadamardRotation;
  readonly accumulator?: AccumulatorSpec;
};

/** A recipe file after schema validation. */
export interface RecipeSpec {
  readonly name: string;
  readonly summary: string;
  readonly roles: Readonly<Record<RecipeRole, FormatRef>>;
  readonly master: "none" | FormatRef;
  readonly accumulation?: AccumulatorSpec;
  readonly gemms?: { readonly [G in GemmName]?: GemmSpec<G> };
  readonly rounding?: { readonly [R in RecipeRole | "master"]?: RoundingSpecJson };
  readonly lossScaling?: LossScalingSpec;
  readonly highPrecision?: readonly string[];
  readonly optimizer?: { readonly epsilon?: number };
  readonly normalization?: Normalization;
}

/**
 * The model's normalization layers: "standard" (each model's own: batch norm in the ResNet, layer
 * norm in the Transformer, scaled by the standard deviation) or "l1" (their L1 versions, scaled by
 * √(π/2)·mean absolute deviation: no squares, as ShiftQuant trains with).
 */
export type Normalization = "standard" | "l1";

/** Loss scaling with every default filled in. */
export type LossScaling =
  | { readonly kind: "none" }
  | { readonly kind: "static"; readonly scale: number }
  | { readonly kind: "dynamic"; readonly initial: number; readonly growthFactor: number; readonly backoffFactor: number; readonly growthInterval: number };

/** A recipe ready for training: formats resolved, defaults filled in. */
export interface ResolvedRecipe {
  readonly name: string;
  readonly summary: string;
  /** Where it came from: a recipe file, or "format NAME" for a bare format name. */
  readonly source: string;
  readonly roles: Readonly<Record<RecipeRole, ResolvedFormat>>;
  /** Standalone training: no higher-precision copy; the parameters are stored in the weights format. */
  readonly standalone: boolean;
  /** The format the parameters are stored in (the weights format, with any master rounding, when standalone). */
  readonly master: ResolvedFormat;
  /**
   * Per GEMM: operand formats that replace the roles' formats, the rotation of both operands along
   * its K (absent: none), and its declared accumulator (absent: the kernels' own fp32 accumulation).
   */
  readonly gemms: {
    readonly [G in GemmName]: { readonly [R in (typeof GEMM_OPERANDS)[G][number]]?: ResolvedFormat } & { readonly rotation?: HadamardRotation; readonly accumulator?: Accumulator };
  };
  readonly lossScaling: LossScaling;
  readonly highPrecision: readonly string[];
  readonly optimizer: { readonly epsilon: number | null };
  readonly normalization: Normalization;
  /** A hash of everything above that changes training: two recipes with equal fingerprints train alike. */
  readonly fingerprint: string;
}
