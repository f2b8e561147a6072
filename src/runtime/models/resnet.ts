/**
 * A small ResNet (He et al. 2016, basic blocks) for 28×28×1 digits: stem conv3×3 + BN + ReLU
 * (optionally strided, optionally followed by a 2×2 max pool), residual stages, global average pooling, linear head.
 * A block whose stride or width changes gets a 1×1 conv + BN projection shortcut. The BN layers
 * are batch norm, or L1 batch norm (ops/l1norm.ts) with `norm: "l1"`.
 */
import type { Ctx } from "../context.ts";
import { relu } from "../ops/activations.ts";
import { batchNorm, batchNormState, type BatchNormState } from "../ops/batchnorm.ts";
import { l1BatchNorm } from "../ops/l1norm.ts";
import { conv2d } from "../ops/conv2d.ts";
import { add } from "../ops/elementwise.ts";
import { linear } from "../ops/linear.ts";
import { globalAvgPool, maxPool2d } from "../ops/pool.ts";
import type { DType, Tensor } from "../tensor.ts";
import { filled, heNormal, uniformFanIn } from "./init.ts";
import type { Model } from "./model.ts";

/** One residual stage: `blocks` basic blocks of `channels` width. */
export interface StageConfig {
  readonly channels: number;
  readonly blocks: number;
  /** Stride of the stage's first block (2 halves the resolution). */
  readonly stride: number;
}

/** Width, depth and input/output sizes of the ResNet; every field has a default. */
export interface ResNetConfig {
  readonly inChannels: number;
  readonly classes: number;
  readonly stemChannels: number;
  /** Stride of the stem conv (2 halves the resolution before any block, the cheapest way to shrink the model). */
  readonly stemStride: number;
  /** A 2×2 max pool after the stem (as ResNet's ImageNet stem pools): 4× fewer positions after it. */
  readonly stemPool: boolean;
  readonly stages: readonly StageConfig[];
  readonly seed: number;
  readonly dtype: DType;
  /** The normalization after each conv: batch norm, or L1 batch norm (same state and parameters). */
  readonly norm: "batch" | "l1";
}

/**
 * Stem of 16 with stride 2 (28×28 → 14×14), then stages of 16 (14×14, identity shortcut),
 * 32 (7×7) and 64 (4×4), one block each. A stride-1 stem quadruples the cost of the first
 * stage for little gain on digits.
 */
export const defaultResNetConfig: ResNetConfig = {
  inChannels: 1,
  classes: 10,
  stemChannels: 16,
  stemStride: 2,
  stemPool: false,
  stages: [
    { channels: 16, blocks: 1, stride: 1 },
    { channels: 32, blocks: 1, stride: 2 },
    { channels: 64, blocks: 1, stride: 2 },
  ],
  seed: 0,
  dtype: "float32",
  norm: "batch",
};

interface ConvBn {
  readonly site: string;
  readonly weight: Tensor;
  readonly gamma: Tensor;
  readonly beta: Tensor;
  readonly state: BatchNormState;
  readonly stride: number;
  readonly padding: number;
}

interface Block {
  readonly conv1: ConvBn;
  readonly conv2: ConvBn;
  readonly shortcut: ConvBn | null;
}

/** The built model: parameters, batch-norm state and the forward pass. */
export interface ResNet extends Model {
  readonly config: ResNetConfig;
  /** Running statistics of every batch-norm layer, by site (for checkpoints). */
  batchNormStates(): ReadonlyMap<string, BatchNormState>;
}

/** Builds a ResNet with seeded He-initialized convolutions; `overrides` replace fields of the default config. */
export function createResNet(overrides: Partial<ResNetConfig> = {}): ResNet {
  const config: ResNetConfig = { ...defaultResNetConfig, ...overrides };
  if (config.stages.length === 0) throw new RangeError("resnet: at least one stage is needed");
  if (config.norm !== "batch" && config.norm !== "l1") throw new RangeError(`resnet: norm must be "batch" or "l1", got ${JSON.stringify(config.norm)}`);
  const { seed, dtype } = config;
  const convBn = (site: string, cin: number, cout: number, k: number, stride: number): ConvBn => ({
    site,
    weight: heNormal(`${site}.weight`, [cout, cin, k, k], seed, dtype),
    gamma: filled(`${site}.bn.gamma`, [cout], 1, dtype),
    beta: filled(`${site}.bn.beta`, [cout], 0, dtype),
    state: batchNormState(cout),
    stride,
    padding: (k - 1) >> 1,
  });

  const stem = convBn("stem", config.inChannels, config.stemChannels, 3, config.stemStride);
  const blocks: Block[] = [];
  let cin = config.stemChannels;
  config.stages.forEach((stage, si) => {
    for (let bi = 0; bi < stage.blocks; bi++) {
      const stride = bi === 0 ? stage.stride : 1;
      const site = `stage${si}.block${bi}`;
      blocks.push({
        conv1: convBn(`${site}.conv1`, cin, stage.channels, 3, stride),
        conv2: convBn(`${site}.conv2`, stage.channels, stage.channels, 3, 1),
        shortcut: stride !== 1 || cin !== stage.channels ? convBn(`${site}.shortcut`, cin, stage.channels, 1, stride) : null,
      });
      cin = stage.channels;
    }
  });
  const headW = uniformFanIn("head.weight", [config.classes, cin], seed, dtype);
  const headB = filled("head.bias", [config.classes], 0, dtype);

  const convBns = [stem, ...blocks.flatMap((b) => (b.shortcut ? [b.conv1, b.conv2, b.shortcut] : [b.conv1, b.conv2]))];
  const params = [...convBns.flatMap((c) => [c.weight, c.gamma, c.beta]), headW, headB];

  const normalize = config.norm === "l1" ? l1BatchNorm : batchNorm;
  const applyConvBn = (ctx: Ctx, x: Tensor, c: ConvBn): Tensor =>
    normalize(ctx, conv2d(ctx, x, c.weight, null, c.site, { stride: c.stride, padding: c.padding }), c.gamma, c.beta, c.state, `${c.site}.bn`);

  return {
    name: "resnet",
    config,
    parameters: () => params.slice(),
    batchNormStates: () => new Map(convBns.map((c) => [c.site, c.state])),
    forward(ctx: Ctx, x: Tensor): Tensor {
      let h = relu(ctx, applyConvBn(ctx, x, stem));
      if (config.stemPool) h = maxPool2d(ctx, h, { kernel: 2 });
      for (const b of blocks) {
        const main = applyConvBn(ctx, relu(ctx, applyConvBn(ctx, h, b.conv1)), b.conv2);
        const skip = b.shortcut ? applyConvBn(ctx, h, b.shortcut) : h;
        h = relu(ctx, add(ctx, main, skip));
      }
      return linear(ctx, globalAvgPool(ctx, h), headW, headB, "head");
    },
  };
}
