/**
 * The training benchmark's peer: numforge's ResNet (models/resnet.ts) rebuilt from tfjs-core ops
 * and trained with tf.train.adam on the tfjs wasm backend (one thread, see tfjs-wasm.ts).
 *
 * Same architecture, same FLOPs: a conv stem, basic blocks with 1×1 projection shortcuts where the
 * shape changes, batch norm in training mode (batch statistics, gradients through them), global
 * average pooling, a dense head, softmax cross-entropy, Adam. Layout is NHWC (the only one the
 * wasm Conv2D takes); padding is the explicit symmetric (k−1)/2 of the numforge model, not
 * tfjs's asymmetric "same". Running batch-norm averages are not kept (a few per-channel ops).
 *
 * tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter kernel, so the weight gradient of
 * any convolution throws ("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'").
 * registerConv2dFilterGradient supplies one made of the backend's own kernels: with x as
 * [Ci, H, W, N] and dy as a filter [OH, OW, N, Co], dW is a stride-1 convolution dilated by the
 * forward stride (XNNPACK, as the forward pass), cropped to the kernel size and transposed back.
 * It is checked once against a float64 sum before any timing.
 */
import * as tf from "@tensorflow/tfjs";
import type { ResNetConfig } from "../../src/runtime/models/resnet.ts";
import { initTfjsWasm } from "./tfjs-wasm.ts";

type Padding = [[number, number], [number, number], [number, number], [number, number]];

/** Runs a kernel of the wasm backend directly (inside another kernel no tensors are tracked). */
function runKernel(name: string, inputs: tf.NamedTensorInfoMap, attrs: object, backend: tf.KernelBackend): tf.TensorInfo {
  const kernel = tf.getKernel(name, "wasm");
  if (kernel === undefined) throw new Error(`tfjs-wasm: no ${name} kernel`);
  return kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend }) as tf.TensorInfo;
}

/** dW of an NHWC conv2d from the wasm backend's Transpose, Conv2D and Slice kernels (see the file comment). */
function conv2dFilterGradient({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== "NHWC") throw new Error(`tfjs-wasm Conv2DBackpropFilter: only NHWC, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  const b = backend as tf.KernelBackend;
  const xT = runKernel("Transpose", { x }, { perm: [3, 1, 2, 0] }, b); // [Ci, H, W, N]
  const dyT = runKernel("Transpose", { x: dy }, { perm: [1, 2, 0, 3] }, b); // [OH, OW, N, Co]
  const padding: Padding = [[0, 0], [top, bottom], [left, right], [0, 0]];
  // Output [Ci, KH', KW', Co] with KH' ≥ KH (more when the stride skips the last input rows).
  const full = runKernel("Conv2D", { x: xT, filter: dyT }, { strides: 1, pad: padding, dataFormat: "NHWC", dilations: [info.strideHeight, info.strideWidth] }, b);
  const [kh, kw, ci, co] = filterShape;
  const cropped = runKernel("Slice", { x: full }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] }, b);
  const dw = runKernel("Transpose", { x: cropped }, { perm: [1, 2, 0, 3] }, b); // [KH, KW, Ci, Co]
  for (const t of [xT, dyT, full, cropped]) b.disposeData(t.dataId);
  return dw;
}

/** Registers the missing Conv2DBackpropFilter kernel for the wasm backend once, and checks it. */
export function registerConv2dFilterGradient(): void {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined) return;
  tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm", kernelFunc: conv2dFilterGradient as tf.KernelFunc });
  try {
    checkFilterGradient();
  } catch (e) {
    tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
    throw e;
  }
}

/** Throws unless the registered dW of a strided, padded conv equals a float64 sum (to f32 rounding). */
function checkFilterGradient(): void {
  const [n, h, w, ci, co, k, stride, p] = [2, 7, 6, 3, 4, 3, 2, 1];
  const oh = Math.floor((h + 2 * p - k) / stride) + 1;
  const ow = Math.floor((w + 2 * p - k) / stride) + 1;
  const xs = Float32Array.from({ length: n * h * w * ci }, (_, i) => Math.sin(i * 0.37));
  const dys = Float32Array.from({ length: n * oh * ow * co }, (_, i) => Math.cos(i * 0.91));
  const got = tf.tidy(() => {
    const x = tf.tensor4d(xs, [n, h, w, ci]);
    const dy = tf.tensor4d(dys, [n, oh, ow, co]);
    // d/dW Σ conv2d(x, W)·dy is the filter gradient for the output gradient dy.
    const gradient = tf.grad((f) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, stride, [[0, 0], [p, p], [p, p], [0, 0]]), dy)));
    return gradient(tf.zeros([k, k, ci, co])).dataSync();
  });
  let worst = 0;
  for (let a = 0; a < k; a++) for (let bb = 0; bb < k; bb++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) {
    let sum = 0;
    let scale = 0;
    for (let ni = 0; ni < n; ni++) for (let y = 0; y < oh; y++) for (let xo = 0; xo < ow; xo++) {
      const iy = y * stride + a - p, ix = xo * stride + bb - p;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const term = xs[((ni * h + iy) * w + ix) * ci + c] * dys[((ni * oh + y) * ow + xo) * co + o];
      sum += term;
      scale += Math.abs(term);
    }
    worst = Math.max(worst, Math.abs(got[((a * k + bb) * ci + c) * co + o] - sum) / Math.max(scale, 1e-30));
  }
  if (!(worst < 1e-5)) throw new Error(`tfjs-wasm Conv2DBackpropFilter (registered here) differs from the float64 sum: worst relative error ${worst}`);
}

/** Adam steps of the ResNet in tfjs, ready to be timed. */
export interface TfjsTrainStep {
  readonly label: string;
  /** Trainable values, to compare with the numforge model's parameter count. */
  readonly parameterCount: number;
  /** Forward, loss, backward and Adam update on the next batch, the loss read back; returns the loss. */
  step(): number;
  dispose(): void;
}

interface ConvBnVars {
  readonly weight: tf.Variable;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly stride: number;
  readonly padding: number;
}

/** One mini-batch: `labels.length` images of height × width × channels, channels last. */
export interface ImageBatch {
  readonly images: Float32Array;
  readonly labels: ArrayLike<number>;
}

/**
 * Builds the ResNet of `config` (stem, stages, head; NHWC) in tfjs on the wasm backend, one
 * thread, with Adam (lr, β 0.9 / 0.999, ε 1e-8); each step trains on the next of `batches`
 * (cycled), whose tensors are made once here.
 */
export async function prepareTfjsResNetStep(
  config: ResNetConfig, batches: readonly ImageBatch[], [height, width]: readonly [number, number], lr: number,
): Promise<TfjsTrainStep> {
  const info = await initTfjsWasm();
  registerConv2dFilterGradient();
  if (batches.length === 0) throw new RangeError("tfjs ResNet: no batches");
  const inputs = batches.map(({ images, labels }, i) => {
    const n = labels.length;
    if (images.length !== n * height * width * config.inChannels) throw new RangeError(`tfjs ResNet: batch ${i} has ${images.length} input values for ${n} images of ${height}×${width}×${config.inChannels}`);
    return { x: tf.tensor4d(images, [n, height, width, config.inChannels]), targets: tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(labels), "int32"), config.classes)) };
  });
  let seed = config.seed;
  const variables: tf.Variable[] = [];
  const variable = (init: tf.Tensor, name: string) => {
    const v = tf.variable(init, true, name);
    init.dispose();
    variables.push(v);
    return v;
  };
  const convBn = (name: string, cin: number, cout: number, k: number, stride: number): ConvBnVars => ({
    weight: variable(tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (cin * k * k)), "float32", seed++), `${name}.weight`),
    gamma: variable(tf.ones([cout]), `${name}.gamma`),
    beta: variable(tf.zeros([cout]), `${name}.beta`),
    stride,
    padding: (k - 1) >> 1,
  });
  const stem = convBn("stem", config.inChannels, config.stemChannels, 3, config.stemStride);
  const blocks: { conv1: ConvBnVars; conv2: ConvBnVars; shortcut: ConvBnVars | null }[] = [];
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
  if (config.stemPool) throw new Error("tfjs ResNet: the stem max pool is not built here");
  const bound = 1 / Math.sqrt(cin);
  const headW = variable(tf.randomUniform([cin, config.classes], -bound, bound, "float32", seed++), "head.weight");
  const headB = variable(tf.zeros([config.classes]), "head.bias");

  const applyConvBn = (x: tf.Tensor4D, c: ConvBnVars): tf.Tensor4D => {
    const p = c.padding;
    const y = tf.conv2d(x, c.weight as tf.Tensor4D, c.stride, [[0, 0], [p, p], [p, p], [0, 0]]);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    return tf.batchNorm4d(y, mean as tf.Tensor1D, variance as tf.Tensor1D, c.beta as tf.Tensor1D, c.gamma as tf.Tensor1D, 1e-5);
  };
  let next = 0;
  const loss = (): tf.Scalar => {
    const { x, targets } = inputs[next];
    next = (next + 1) % inputs.length;
    let h = tf.relu(applyConvBn(x, stem));
    for (const b of blocks) {
      const main = applyConvBn(tf.relu(applyConvBn(h, b.conv1)), b.conv2);
      const skip = b.shortcut ? applyConvBn(h, b.shortcut) : h;
      h = tf.relu(tf.add(main, skip));
    }
    const logits = tf.add(tf.matMul(tf.mean(h, [1, 2]), headW), headB);
    return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
  };
  const optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-8);
  return {
    label: `tfjs ${info.version} wasm (${info.threads} thread, ${info.simd ? "SIMD" : "no SIMD"})`,
    parameterCount: variables.reduce((s, v) => s + v.size, 0),
    step() {
      const cost = optimizer.minimize(loss, true, variables);
      if (cost === null) throw new Error("tfjs ResNet: minimize returned no loss");
      const value = cost.dataSync()[0];
      cost.dispose();
      return value;
    },
    dispose() {
      optimizer.dispose();
      for (const v of variables) v.dispose();
      for (const { x, targets } of inputs) tf.dispose([x, targets]);
    },
  };
}
