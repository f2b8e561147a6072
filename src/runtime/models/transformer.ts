/**
 * An encoder–decoder Transformer (Vaswani et al. 2017) for short sequence-to-sequence tasks,
 * in the pre-norm arrangement (Xiong et al. 2020): each sub-layer is x + f(norm(x)) and each
 * stack ends in a norm. Pre-norm trains stably without a learning-rate warm-up at these sizes,
 * which keeps low-precision recipes comparable. No dropout: the runs are short and the
 * comparisons want deterministic forward passes.
 *
 * Tokens are embedded (a table looked up by id, scaled by √D) and given positions, sinusoidal
 * constants or a learned table. The decoder's self-attention is causal; its padded positions
 * need no key mask because every padded position comes after the real ones, which the causal
 * mask already hides from them, and a padded position's own output is never scored.
 */
import type { Ctx } from "../context.ts";
import { embedding } from "../ops/embedding.ts";
import { add, scale } from "../ops/elementwise.ts";
import { positionIndices, positionsFor, sinusoidalTable } from "../ops/positional.ts";
import type { DType, Tensor } from "../tensor.ts";
import { uniformFanIn } from "./init.ts";
import {
  applyLinear, attentionParams, feedForward, feedForwardParams, linearParams, multiHeadAttention, normalize, normParams, tensorsOf,
  type AttentionParams, type FeedForwardParams, type LinearParams, type NormKind, type NormParams,
} from "./transformer-layers.ts";

/** Sizes and choices of the Transformer; every field but the vocabularies has a default. */
export interface TransformerConfig {
  readonly sourceVocab: number;
  readonly targetVocab: number;
  /** Model width D. */
  readonly dModel: number;
  /** Attention heads; D must be a multiple. */
  readonly heads: number;
  /** Hidden width of the feed-forward networks. */
  readonly ffnSize: number;
  readonly encoderLayers: number;
  readonly decoderLayers: number;
  /** Longest source / decoder-input sequence the position tables cover. */
  readonly maxSourceLength: number;
  readonly maxTargetLength: number;
  readonly positions: "sinusoidal" | "learned";
  readonly norm: NormKind;
  readonly seed: number;
  readonly dtype: DType;
}

/** D = 64, 4 heads, FFN 256, two encoder and two decoder layers, sinusoidal positions, layer norm. */
export const defaultTransformerConfig: Omit<TransformerConfig, "sourceVocab" | "targetVocab"> = {
  dModel: 64,
  heads: 4,
  ffnSize: 256,
  encoderLayers: 2,
  decoderLayers: 2,
  maxSourceLength: 16,
  maxTargetLength: 20,
  positions: "sinusoidal",
  norm: "layer",
  seed: 0,
  dtype: "float32",
};

/** Token ids of a batch of B sequences of length T, row-major. */
export interface TokenBatch {
  readonly ids: ArrayLike<number>;
  readonly batch: number;
  readonly length: number;
}

/** The built model: its parameters and the three stages of a forward pass. */
export interface Transformer {
  readonly config: TransformerConfig;
  /** Every trainable tensor, in a stable order, each with a unique name. */
  parameters(): Tensor[];
  /** Source tokens → the encoder's output (the memory) [B, S, D]; `padding` [B·S] marks padded source positions. */
  encode(ctx: Ctx, source: TokenBatch, padding: ArrayLike<number>): Tensor;
  /** Decoder input tokens (BOS first) → the decoder's final hidden states [B, T, D], position t seeing inputs 0..t only. */
  decode(ctx: Ctx, memory: Tensor, sourcePadding: ArrayLike<number>, target: TokenBatch): Tensor;
  /** Hidden states [..., D] → logits over the target vocabulary [..., V]. */
  project(ctx: Ctx, hidden: Tensor): Tensor;
}

interface Embedder {
  readonly site: string;
  readonly table: Tensor;
  /** A learned position table, or null for sinusoidal positions. */
  readonly positions: Tensor | null;
  readonly maxLength: number;
}

interface EncoderLayer {
  readonly attentionNorm: NormParams;
  readonly attention: AttentionParams;
  readonly ffnNorm: NormParams;
  readonly ffn: FeedForwardParams;
}

interface DecoderLayer extends EncoderLayer {
  readonly crossNorm: NormParams;
  readonly cross: AttentionParams;
}

/** Builds a seeded Transformer; `overrides` replace fields of the default config. */
export function createTransformer(overrides: Partial<TransformerConfig> & Pick<TransformerConfig, "sourceVocab" | "targetVocab">): Transformer {
  const config: TransformerConfig = { ...defaultTransformerConfig, ...overrides };
  checkConfig(config);
  const { dModel: d, heads, ffnSize, seed, dtype } = config;
  const sinusoids = sinusoidalTable(Math.max(config.maxSourceLength, config.maxTargetLength), d, dtype);
  const embedder = (site: string, vocab: number, maxLength: number): Embedder => ({
    site,
    table: uniformFanIn(`${site}.embedding`, [vocab, d], seed, dtype),
    positions: config.positions === "learned" ? uniformFanIn(`${site}.positions`, [maxLength, d], seed, dtype) : null,
    maxLength,
  });
  const encoderLayer = (site: string): EncoderLayer => ({
    attentionNorm: normParams(`${site}.selfAttention.norm`, d, dtype),
    attention: attentionParams(`${site}.selfAttention`, d, heads, seed, dtype),
    ffnNorm: normParams(`${site}.ffn.norm`, d, dtype),
    ffn: feedForwardParams(`${site}.ffn`, d, ffnSize, seed, dtype),
  });
  const decoderLayer = (site: string): DecoderLayer => ({
    ...encoderLayer(site),
    crossNorm: normParams(`${site}.crossAttention.norm`, d, dtype),
    cross: attentionParams(`${site}.crossAttention`, d, heads, seed, dtype),
  });
  const source = embedder("source", config.sourceVocab, config.maxSourceLength);
  const target = embedder("target", config.targetVocab, config.maxTargetLength);
  const encoder = Array.from({ length: config.encoderLayers }, (_, i) => encoderLayer(`encoder.layer${i}`));
  const decoder = Array.from({ length: config.decoderLayers }, (_, i) => decoderLayer(`decoder.layer${i}`));
  const encoderNorm = normParams("encoder.norm", d, dtype);
  const decoderNorm = normParams("decoder.norm", d, dtype);
  const output: LinearParams = linearParams("output", d, config.targetVocab, seed, dtype);

  const params = [
    ...[source, target].flatMap((e) => (e.positions === null ? [e.table] : [e.table, e.positions])),
    ...encoder.flatMap((l) => tensorsOf(l.attentionNorm, l.attention, l.ffnNorm, l.ffn)),
    ...tensorsOf(encoderNorm),
    ...decoder.flatMap((l) => tensorsOf(l.attentionNorm, l.attention, l.crossNorm, l.cross, l.ffnNorm, l.ffn)),
    ...tensorsOf(decoderNorm, output),
  ];

  const embed = (ctx: Ctx, e: Embedder, tokens: TokenBatch): Tensor => {
    const { batch, length } = tokens;
    if (length > e.maxLength) throw new RangeError(`transformer ${e.site}: sequences of ${length} exceed the maximum length ${e.maxLength}`);
    const rows = scale(ctx, embedding(ctx, e.table, tokens.ids, `${e.site}.embedding`, [batch, length]), Math.sqrt(d));
    const positions = e.positions === null
      ? positionsFor(sinusoids, batch, length)
      : embedding(ctx, e.positions, positionIndices(batch, length), `${e.site}.positions`, [batch, length]);
    return add(ctx, rows, positions);
  };
  const norm = (ctx: Ctx, x: Tensor, p: NormParams) => normalize(config.norm, ctx, x, p);

  return {
    config,
    parameters: () => params.slice(),
    encode(ctx, tokens, padding) {
      let x = embed(ctx, source, tokens);
      for (const l of encoder) {
        const h = norm(ctx, x, l.attentionNorm);
        x = add(ctx, x, multiHeadAttention(ctx, h, h, l.attention, { keyPadding: padding }));
        x = add(ctx, x, feedForward(ctx, norm(ctx, x, l.ffnNorm), l.ffn));
      }
      return norm(ctx, x, encoderNorm);
    },
    decode(ctx, memory, sourcePadding, tokens) {
      let y = embed(ctx, target, tokens);
      for (const l of decoder) {
        const h = norm(ctx, y, l.attentionNorm);
        y = add(ctx, y, multiHeadAttention(ctx, h, h, l.attention, { causal: true }));
        y = add(ctx, y, multiHeadAttention(ctx, norm(ctx, y, l.crossNorm), memory, l.cross, { keyPadding: sourcePadding }));
        y = add(ctx, y, feedForward(ctx, norm(ctx, y, l.ffnNorm), l.ffn));
      }
      return norm(ctx, y, decoderNorm);
    },
    project: (ctx, hidden) => applyLinear(ctx, hidden, output),
  };
}

function checkConfig(c: TransformerConfig): void {
  const positive = ["sourceVocab", "targetVocab", "dModel", "heads", "ffnSize", "maxSourceLength", "maxTargetLength"] as const;
  for (const key of positive) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new RangeError(`transformer: ${key} must be a positive integer, got ${c[key]}`);
  }
  for (const key of ["encoderLayers", "decoderLayers"] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 0) throw new RangeError(`transformer: ${key} must be a non-negative integer, got ${c[key]}`);
  }
  if (c.dModel % c.heads !== 0) throw new RangeError(`transformer: ${c.heads} heads do not divide dModel ${c.dModel}`);
  if (c.positions !== "sinusoidal" && c.positions !== "learned") throw new RangeError(`transformer: positions must be "sinusoidal" or "learned", got "${String(c.positions)}"`);
  if (c.norm !== "layer" && c.norm !== "l1") throw new RangeError(`transformer: norm must be "layer" or "l1", got "${String(c.norm)}"`);
}
