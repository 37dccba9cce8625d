/** A small, configurable ResNet (basic blocks) for small images. */
import * as tf from "@tensorflow/tfjs";
import { BatchNormLayer } from "./fused_layers";
import { SeedSequence } from "./seeds";

/** Options for {@link resNetFeatures}. */
export interface ResNetOptions {
  /** Channels per stage; each stage after the first halves the resolution. Defaults to [16, 32, 64]. */
  widths?: number[];
  /** Basic blocks per stage. Defaults to 1. */
  blocks?: number;
  /** Stem stride (2 halves the input once more). Defaults to 1. */
  stemStride?: number;
  /** Seed source for the initialisers. Defaults to a sequence from seed 0. */
  seeds?: SeedSequence;
  /** Layer-name prefix. Defaults to "img". */
  prefix?: string;
}

/**
 * Builds ResNet feature maps on a symbolic image input [B, H, W, 3] → [B, H/s, W/s, widths.at(-1)].
 * Conv → BatchNorm → ReLU; stride-2 1×1 projection shortcuts when the shape changes.
 */
export function resNetFeatures(x: tf.SymbolicTensor, opts: ResNetOptions = {}): tf.SymbolicTensor {
  const { widths = [16, 32, 64], blocks = 1, stemStride = 1, seeds = new SeedSequence(0), prefix = "img" } = opts;
  if (widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`resnet widths must be positive integers, got [${widths.join(",")}]`);
  const conv = (t: tf.SymbolicTensor, filters: number, k: number, s: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: k, strides: s, padding: "same", useBias: false, kernelInitializer: seeds.he() as never, name: `${prefix}_${name}` }).apply(t) as tf.SymbolicTensor;
  const bn = (t: tf.SymbolicTensor, name: string) => new BatchNormLayer({ momentum: 0.9, name: `${prefix}_${name}` }).apply(t) as tf.SymbolicTensor;
  const relu = (t: tf.SymbolicTensor, name: string) => tf.layers.reLU({ name: `${prefix}_${name}` }).apply(t) as tf.SymbolicTensor;
  let h = relu(bn(conv(x, widths[0]!, 3, stemStride, "stem_conv"), "stem_bn"), "stem_relu");
  let ch = widths[0]!;
  widths.forEach((w, s) => {
    for (let b = 0; b < blocks; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const tag = `s${s}b${b}`;
      let y = relu(bn(conv(h, w, 3, stride, `${tag}_conv1`), `${tag}_bn1`), `${tag}_relu1`);
      y = bn(conv(y, w, 3, 1, `${tag}_conv2`), `${tag}_bn2`);
      const short = stride !== 1 || ch !== w ? bn(conv(h, w, 1, stride, `${tag}_proj`), `${tag}_projbn`) : h;
      h = relu(tf.layers.add({ name: `${prefix}_${tag}_add` }).apply([y, short]) as tf.SymbolicTensor, `${tag}_out`);
      ch = w;
    }
  });
  return h;
}
