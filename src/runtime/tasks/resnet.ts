/**
 * The residual CNN family: a small ResNet on MNIST digits (the S2FP8 paper's CNN column, scaled
 * down). Data: the 10,000 digits of the `mnist` package split 8,000/2,000 by seed 0, or the IDX
 * files of a folder given with --data.
 */
import { widthFactor, type ModelSettings } from "../compare/settings.ts";
import { checkTrainTest } from "../data/dataset.ts";
import { loadMnist } from "../data/mnist.ts";
import { createResNet } from "../models/resnet.ts";
import { ACCURACY, classificationTask } from "./classification.ts";
import { dataCache } from "./data-cache.ts";
import type { ModelFamily } from "./families.ts";

const mnist = dataCache((dir: string) => loadMnist(dir === "" ? { seed: 0 } : { dataDir: dir }));

/** The ResNet width of `settings`: --width (the CLI puts 8 × the scale's whole factor there by default). */
export function resnetWidth(settings: ModelSettings): number {
  return settings.width ?? 8 * widthFactor(settings);
}

export const resnetFamily: ModelFamily = {
  name: "resnet",
  description: "a small ResNet (stride-2 stem, three residual stages, widths W, 2W, 4W) on MNIST digits; metric: test accuracy",
  dataHelp: "a folder with the MNIST IDX files (default: the 10,000 digits of the mnist package, split 8,000/2,000)",
  defaults: { epochs: 1, batchSize: 32, optimizer: "sgd", learningRate: { sgd: 0.2, adam: 3e-3 }, width: 8 },
  metrics: [ACCURACY],
  describe(settings) {
    const data = settings.data === null ? "MNIST digits of the mnist package (8,000 train / 2,000 test, split seed 0)" : `MNIST IDX files in ${settings.data}`;
    const shift = settings.augmentShift ?? 0;
    return `resnet (width ${resnetWidth(settings)}) on ${data}${shift > 0 ? `, training digits translated by up to ${shift} px` : ""}`;
  },
  load(settings) {
    checkTrainTest(mnist(settings.data ?? ""), settings.batchSize, settings.data ?? "the mnist package's digits");
  },
  createTask(settings, seed, options) {
    const data = mnist(settings.data ?? "");
    const w = resnetWidth(settings);
    const model = createResNet({
      inChannels: data.train.sampleShape[0],
      classes: data.train.classes,
      stemChannels: w,
      stemStride: 2,
      stages: [
        { channels: w, blocks: 1, stride: 1 },
        { channels: 2 * w, blocks: 1, stride: 2 },
        { channels: 4 * w, blocks: 1, stride: 2 },
      ],
      seed,
      ...(options.normalization === "l1" ? { norm: "l1" as const } : {}),
    });
    return classificationTask({ name: "resnet", model, data, augmentShift: settings.augmentShift ?? 0 });
  },
};
