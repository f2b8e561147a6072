/**
 * The sub-layers of a pre-norm Transformer: normalization (layer norm, or the L1 layer norm of
 * the ShiftQuant recipes), multi-head attention with its Q/K/V/O projections, and the
 * position-wise feed-forward network. Parameters are created here with names `${site}.…`, which
 * are also the precision sites of their GEMMs.
 */
import type { Ctx } from "../context.ts";
import { relu } from "../ops/activations.ts";
import { attention } from "../ops/attention.ts";
import { l1LayerNorm } from "../ops/l1norm.ts";
import { layerNorm } from "../ops/layernorm.ts";
import { linear } from "../ops/linear.ts";
import type { DType, Tensor } from "../tensor.ts";
import { filled, uniformFanIn } from "./init.ts";

/** Which normalization the sub-layers apply before attention and the FFN. */
export type NormKind = "layer" | "l1";

/** A normalization's site and its per-feature scale and shift. */
export interface NormParams {
  readonly site: string;
  readonly gamma: Tensor;
  readonly beta: Tensor;
}

export function normParams(site: string, dim: number, dtype: DType): NormParams {
  return { site, gamma: filled(`${site}.gamma`, [dim], 1, dtype), beta: filled(`${site}.beta`, [dim], 0, dtype) };
}

/** x normalized over its last axis by `kind`: layer norm, or the L1 layer norm (mean absolute deviation in place of σ). */
export function normalize(kind: NormKind, ctx: Ctx, x: Tensor, p: NormParams): Tensor {
  switch (kind) {
    case "layer":
      return layerNorm(ctx, x, p.gamma, p.beta, 1e-5, p.site);
    case "l1":
      return l1LayerNorm(ctx, x, p.gamma, p.beta, 1e-5, p.site);
  }
}

/** A linear layer's site, weight [out, in] and bias [out]. */
export interface LinearParams {
  readonly site: string;
  readonly weight: Tensor;
  readonly bias: Tensor;
}

/** U(±1/√in) weights (PyTorch's linear default) and a zero bias. */
export function linearParams(site: string, inF: number, outF: number, seed: number, dtype: DType): LinearParams {
  return { site, weight: uniformFanIn(`${site}.weight`, [outF, inF], seed, dtype), bias: filled(`${site}.bias`, [outF], 0, dtype) };
}

export function applyLinear(ctx: Ctx, x: Tensor, p: LinearParams): Tensor {
  return linear(ctx, x, p.weight, p.bias, p.site);
}

/** The four projections of one multi-head attention. */
export interface AttentionParams {
  readonly site: string;
  readonly heads: number;
  readonly query: LinearParams;
  readonly key: LinearParams;
  readonly value: LinearParams;
  readonly output: LinearParams;
}

export function attentionParams(site: string, dim: number, heads: number, seed: number, dtype: DType): AttentionParams {
  const proj = (name: string) => linearParams(`${site}.${name}`, dim, dim, seed, dtype);
  return { site, heads, query: proj("query"), key: proj("key"), value: proj("value"), output: proj("output") };
}

/** Masks of one attention: which memory positions are padding, and whether queries see only earlier positions. */
export interface AttentionMask {
  readonly keyPadding?: ArrayLike<number>;
  readonly causal?: boolean;
}

/** O(attention(Q(x), K(memory), V(memory))): self-attention when memory is x, cross-attention otherwise. */
export function multiHeadAttention(ctx: Ctx, x: Tensor, memory: Tensor, p: AttentionParams, mask: AttentionMask): Tensor {
  const q = applyLinear(ctx, x, p.query);
  const k = applyLinear(ctx, memory, p.key);
  const v = applyLinear(ctx, memory, p.value);
  const context = attention(ctx, q, k, v, { heads: p.heads, site: p.site, ...mask });
  return applyLinear(ctx, context, p.output);
}

/** The position-wise feed-forward network W₂·ReLU(W₁·x + b₁) + b₂ (Vaswani et al. 2017, §3.3). */
export interface FeedForwardParams {
  readonly expand: LinearParams;
  readonly contract: LinearParams;
}

export function feedForwardParams(site: string, dim: number, hidden: number, seed: number, dtype: DType): FeedForwardParams {
  return { expand: linearParams(`${site}.expand`, dim, hidden, seed, dtype), contract: linearParams(`${site}.contract`, hidden, dim, seed, dtype) };
}

export function feedForward(ctx: Ctx, x: Tensor, p: FeedForwardParams): Tensor {
  return applyLinear(ctx, relu(ctx, applyLinear(ctx, x, p.expand)), p.contract);
}

/** The tensors of a set of sub-layer parameters, in a stable order. */
export function tensorsOf(...groups: ReadonlyArray<NormParams | LinearParams | AttentionParams | FeedForwardParams>): Tensor[] {
  return groups.flatMap((g): Tensor[] => {
    if ("gamma" in g) return [g.gamma, g.beta];
    if ("weight" in g) return [g.weight, g.bias];
    if ("query" in g) return tensorsOf(g.query, g.key, g.value, g.output);
    return tensorsOf(g.expand, g.contract);
  });
}
