/**
 * The reference small CNN used to measure training speed across backends and against PyTorch
 * (bench/train_step.ts): three 3×3 conv + ReLU stages (the first two max-pooled), global average
 * pooling and a dense classifier. bench/train_step_torch.py builds the same network. The conv stages
 * are {@link ConvBiasActLayer}s: conv + bias + ReLU stay one kernel while training.
 */
import * as tf from "@tensorflow/tfjs";
import { ConvBiasActLayer } from "./fused_layers";
import { SeedSequence } from "./seeds";

/** Options for {@link refCnn}. */
export interface RefCnnOptions {
  /** Input [height, width, channels]. Defaults to [64, 64, 3]. */
  inputShape?: [number, number, number];
  /** Filters of the three conv stages. Defaults to [32, 64, 128]. */
  filters?: [number, number, number];
  /** Output classes (softmax). Defaults to 10. */
  classes?: number;
  /** Seed for the initialisers. Defaults to 0. */
  seed?: number;
}

/**
 * Builds the reference 3-conv CNN: conv3×3(f0)+ReLU → maxpool2 → conv3×3(f1)+ReLU → maxpool2 →
 * conv3×3(f2)+ReLU → global average pool → dense(classes, softmax).
 * @example
 * const m = refCnn();              // 64×64×3 → 10 classes
 * m.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy" });
 */
export function refCnn(opts: RefCnnOptions = {}): tf.LayersModel {
  const { inputShape = [64, 64, 3], filters = [32, 64, 128], classes = 10, seed = 0 } = opts;
  if (inputShape.length !== 3 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`refCnn: inputShape must be [h, w, c] positive integers, got [${inputShape.join(",")}]`);
  if (filters.length !== 3 || filters.some((f) => !Number.isInteger(f) || f < 1)) throw new Error(`refCnn: filters must be 3 positive integers, got [${filters.join(",")}]`);
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`refCnn: classes must be a positive integer, got ${classes}`);
  const seeds = new SeedSequence(seed);
  const input = tf.input({ shape: inputShape, name: "ref_input" });
  let h: tf.SymbolicTensor = input;
  filters.forEach((f, i) => {
    h = new ConvBiasActLayer({ filters: f, kernelSize: 3, padding: "same", activation: "relu", kernelSeed: seeds.next(), name: `ref_conv${i + 1}` }).apply(h) as tf.SymbolicTensor;
    if (i < 2) h = tf.layers.maxPooling2d({ poolSize: 2, name: `ref_pool${i + 1}` }).apply(h) as tf.SymbolicTensor;
  });
  h = tf.layers.globalAveragePooling2d({ name: "ref_gap" }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: classes, activation: "softmax", kernelInitializer: seeds.glorot() as never, name: "ref_logits" }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: "ref_cnn" });
}
