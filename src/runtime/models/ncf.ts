/**
 * NeuMF (He et al. 2017 §3.4), the NCF model: a GMF tower (the elementwise product of a user and
 * an item embedding) and an MLP tower (separate user and item embeddings, concatenated, then
 * ReLU layers) side by side, concatenated and mapped by one linear layer to the logit of
 * "u interacts with i". Trained from scratch (the paper's variant without GMF/MLP pre-training).
 * Every GEMM goes through `linear`, every embedding look-up through `embedding`, so a recipe
 * quantizes all of them; the sites are `gmf.user`, `gmf.item`, `mlp.user`, `mlp.item`,
 * `mlp.fc1`…, `predict`.
 */
import type { Ctx } from "../context.ts";
import { relu } from "../ops/activations.ts";
import { concatLastAxis } from "../ops/concat.ts";
import { mul } from "../ops/elementwise.ts";
import { embedding } from "../ops/embedding.ts";
import { linear } from "../ops/linear.ts";
import { reshape } from "../ops/shape.ts";
import type { DType, Tensor } from "../tensor.ts";
import { filled, heNormal, normal, uniformFanIn } from "./init.ts";

/** Sizes and initialization of NeuMF. */
export interface NeuMfConfig {
  readonly users: number;
  readonly items: number;
  /** GMF embedding size (the GMF tower's predictive factors). */
  readonly factors: number;
  /**
   * MLP tower widths in the convention of the NCF code: layers[0] is the width of the
   * concatenated user and item embeddings (layers[0]/2 each), every further width is one ReLU
   * layer; the last is the MLP tower's predictive factors.
   */
  readonly mlpLayers: readonly number[];
  /** σ of the N(0, σ²) embedding initialization (0.01 in the NCF code). */
  readonly embeddingStd: number;
  readonly seed: number;
  readonly dtype: DType;
}

/** The paper's small setting: 8 GMF factors and a [32, 16, 8] tower (8 MLP factors). */
export const defaultNeuMfConfig: Omit<NeuMfConfig, "users" | "items"> = {
  factors: 8,
  mlpLayers: [32, 16, 8],
  embeddingStd: 0.01,
  seed: 0,
  dtype: "float32",
};

/** A NeuMF model over fixed numbers of users and items. */
export interface NeuMf {
  readonly name: "neumf";
  readonly config: NeuMfConfig;
  /** Every trainable tensor, in a stable order, each uniquely named. */
  parameters(): Tensor[];
  /** Pairs (users[n], items[n]) → logits [N]. */
  forward(ctx: Ctx, users: Int32Array, items: Int32Array): Tensor;
}

/** A NeuMF with `config`'s sizes (defaults for what it leaves out), initialized from its seed. */
export function createNeuMf(config: Partial<NeuMfConfig> & Pick<NeuMfConfig, "users" | "items">): NeuMf {
  const c: NeuMfConfig = { ...defaultNeuMfConfig, ...config };
  checkConfig(c);
  const { seed, dtype } = c;
  const half = c.mlpLayers[0] / 2;
  const table = (name: string, rows: number, dim: number) => normal(name, [rows, dim], c.embeddingStd, seed, dtype);
  const gmfUser = table("gmf.user", c.users, c.factors);
  const gmfItem = table("gmf.item", c.items, c.factors);
  const mlpUser = table("mlp.user", c.users, half);
  const mlpItem = table("mlp.item", c.items, half);
  const layers = c.mlpLayers.slice(1).map((width, k) => ({
    site: `mlp.fc${k + 1}`,
    w: heNormal(`mlp.fc${k + 1}.weight`, [width, c.mlpLayers[k]], seed, dtype),
    b: filled(`mlp.fc${k + 1}.bias`, [width], 0, dtype),
  }));
  const joined = c.factors + c.mlpLayers[c.mlpLayers.length - 1];
  const predictW = uniformFanIn("predict.weight", [1, joined], seed, dtype);
  const predictB = filled("predict.bias", [1], 0, dtype);
  const params = [gmfUser, gmfItem, mlpUser, mlpItem, ...layers.flatMap((l) => [l.w, l.b]), predictW, predictB];

  return {
    name: "neumf",
    config: c,
    parameters: () => params.slice(),
    forward(ctx, users, items) {
      if (users.length !== items.length) throw new RangeError(`neumf: ${users.length} users but ${items.length} items`);
      const gmf = mul(ctx, embedding(ctx, gmfUser, users, "gmf.user"), embedding(ctx, gmfItem, items, "gmf.item"));
      let h = concatLastAxis(ctx, [embedding(ctx, mlpUser, users, "mlp.user"), embedding(ctx, mlpItem, items, "mlp.item")]);
      for (const l of layers) h = relu(ctx, linear(ctx, h, l.w, l.b, l.site));
      const logit = linear(ctx, concatLastAxis(ctx, [gmf, h]), predictW, predictB, "predict");
      return reshape(ctx, logit, [users.length]);
    },
  };
}

function checkConfig(c: NeuMfConfig): void {
  for (const [name, v] of [["users", c.users], ["items", c.items], ["factors", c.factors]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`neumf: ${name} must be a positive integer, got ${v}`);
  }
  const widths = c.mlpLayers;
  if (widths.length < 2 || widths.some((w) => !Number.isInteger(w) || w < 1) || widths[0] % 2 !== 0) {
    throw new RangeError(`neumf: mlpLayers must be ≥ 2 positive widths, the first even (user and item halves), got [${widths.join(", ")}]`);
  }
  if (!(c.embeddingStd > 0)) throw new RangeError(`neumf: embeddingStd must be positive, got ${c.embeddingStd}`);
}
