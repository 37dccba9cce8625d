/**
 * MobileNetV2 (Sandler et al. 2018) as a functional tf.layers model, laid out and named like
 * `keras.applications.MobileNetV2`: inverted residual blocks (1×1 expand → 3×3 depthwise → 1×1
 * linear projection, BatchNorm + ReLU6), width multiplier `alpha`.
 * Difference from Keras: stride-2 convs use "same" padding instead of an explicit ZeroPadding2D of
 * (0, 1) rows and columns; the two agree when every stride-2 layer's input side is even (an input side
 * that is a multiple of 32), where Keras's pretrained weights give the same outputs here (tested
 * against nsfwjs's Keras MobileNetV2), and are one pixel apart otherwise.
 */
import * as tf from "@tensorflow/tfjs";
import { BatchNormLayer, Relu6Layer } from "./fused_layers";
import { SeedSequence } from "./seeds";

/** Pooling after the last conv when `includeTop` is false. */
export type MobileNetV2Pooling = "avg" | "max" | "none";

/** Options for {@link mobileNetV2}. */
export interface MobileNetV2Options {
  /** Width multiplier. Defaults to 1.0. */
  alpha?: number;
  /** Square input size in pixels (3 channels). Defaults to 96. */
  inputSize?: number;
  /** Add global average pooling and a softmax classifier. Defaults to true. */
  includeTop?: boolean;
  /** Classes of the classifier (with `includeTop`). Defaults to 1000. */
  classes?: number;
  /** Pooling when `includeTop` is false: avg | max | none (feature map). Defaults to "avg". */
  pooling?: MobileNetV2Pooling;
  /** Seed for the initialisers. Defaults to 0. */
  seed?: number;
  /** BatchNorm layers normalise with their moving statistics in training too (see BatchNormLayer's frozenStats): for fine-tuning pretrained weights. Defaults to false. */
  frozenBatchNorm?: boolean;
}

/** Rounds `v` to the nearest multiple of `divisor`, never going below 90% of `v` (as in the paper's code). */
export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  const n = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  return n < 0.9 * v ? n + divisor : n;
}

/** (expansion t, channels c, repeats n, first stride s) per stage, from the paper. */
const STAGES: ReadonlyArray<readonly [number, number, number, number]> = Object.freeze([
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
] as const);

/**
 * Builds MobileNetV2.
 * @example
 * const m = mobileNetV2({ alpha: 1.0, inputSize: 96, classes: 10 });
 * const features = mobileNetV2({ includeTop: false, pooling: "avg" }); // [B, 1280]
 */
export function mobileNetV2(opts: MobileNetV2Options = {}): tf.LayersModel {
  const { alpha = 1.0, inputSize = 96, includeTop = true, classes = 1000, pooling = "avg", seed = 0, frozenBatchNorm = false } = opts;
  if (!(alpha > 0)) throw new Error(`mobileNetV2: alpha must be > 0, got ${alpha}`);
  if (!Number.isInteger(inputSize) || inputSize < 32) throw new Error(`mobileNetV2: inputSize must be an integer ≥ 32, got ${inputSize}`);
  if (includeTop && (!Number.isInteger(classes) || classes < 1)) throw new Error(`mobileNetV2: classes must be a positive integer, got ${classes}`);
  if (!["avg", "max", "none"].includes(pooling)) throw new Error(`unknown pooling: ${pooling} (expected avg|max|none)`);
  const seeds = new SeedSequence(seed);
  const conv = (x: tf.SymbolicTensor, filters: number, k: number, s: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: k, strides: s, padding: "same", useBias: false, kernelInitializer: seeds.he() as never, name }).apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor, name: string) => new BatchNormLayer({ epsilon: 1e-3, momentum: 0.999, frozenStats: frozenBatchNorm, name }).apply(x) as tf.SymbolicTensor;
  // one Relu6 kernel each way (tfjs-layers' "relu6" activation is minimum(6, relu(x)): 2 kernels forward, 5 back)
  const relu6 = (x: tf.SymbolicTensor, name: string) => new Relu6Layer({ name }).apply(x) as tf.SymbolicTensor;

  const input = tf.input({ shape: [inputSize, inputSize, 3], name: "input_1" });
  const first = makeDivisible(32 * alpha, 8);
  let x = relu6(bn(conv(input, first, 3, 2, "Conv1"), "bn_Conv1"), "Conv1_relu");
  let inCh = first;
  let block = 0;
  for (const [t, c, n, s] of STAGES) {
    const outCh = makeDivisible(c * alpha, 8);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const prefix = block === 0 ? "expanded_conv_" : `block_${block}_`;
      let h = x;
      if (t !== 1) h = relu6(bn(conv(h, inCh * t, 1, 1, `${prefix}expand`), `${prefix}expand_BN`), `${prefix}expand_relu`);
      h = tf.layers
        .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: "same", useBias: false, depthwiseInitializer: seeds.he() as never, name: `${prefix}depthwise` })
        .apply(h) as tf.SymbolicTensor;
      h = relu6(bn(h, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
      h = bn(conv(h, outCh, 1, 1, `${prefix}project`), `${prefix}project_BN`);
      x = stride === 1 && inCh === outCh ? (tf.layers.add({ name: `${prefix}add` }).apply([x, h]) as tf.SymbolicTensor) : h;
      inCh = outCh;
      block++;
    }
  }
  const last = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = relu6(bn(conv(x, last, 1, 1, "Conv_1"), "Conv_1_bn"), "out_relu");
  if (includeTop) {
    x = tf.layers.globalAveragePooling2d({ name: "global_average_pooling2d" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: classes, activation: "softmax", kernelInitializer: seeds.glorot() as never, name: "predictions" }).apply(x) as tf.SymbolicTensor;
  } else if (pooling === "avg") {
    x = tf.layers.globalAveragePooling2d({ name: "global_average_pooling2d" }).apply(x) as tf.SymbolicTensor;
  } else if (pooling === "max") {
    x = tf.layers.globalMaxPooling2d({ name: "global_max_pooling2d" }).apply(x) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha.toFixed(2)}_${inputSize}` });
}
