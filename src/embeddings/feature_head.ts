/**
 * The fast path: an MLP head (and concat fusion of several encoders' blocks) trained directly on
 * cached features. Plain tfjs (Adam, softmax cross-entropy), seeded batch order and weights.
 * For the full loop with callbacks, checkpoints and the run registry, hand
 * {@link featureBatchSource} to src/train's Learner instead.
 */
import * as tf from "@tensorflow/tfjs";
import { progress } from "../progress";
import { Rng } from "../rng";
import { concatFeatures, type FeatureTable } from "./features";

/** Options for {@link featureMlp}. */
export interface FeatureMlpOptions {
  /** Input width. Required. */
  inputDim: number;
  /** Classes. Required. */
  classes: number;
  /** Hidden width; 0 for a linear head. Defaults to 512. */
  hidden?: number;
  /** Dropout after the hidden layer. Defaults to 0. */
  dropout?: number;
  /** Seed of the initial weights. Defaults to 0. */
  seed?: number;
}

/**
 * The head `inputDim → hidden (ReLU) → classes` logits as a tf.Sequential.
 * @example const head = featureMlp({ inputDim: 1280, hidden: 512, classes: 3129 });
 */
export function featureMlp(opts: FeatureMlpOptions): tf.Sequential {
  const { inputDim, classes, hidden = 512, dropout = 0, seed = 0 } = opts;
  if (!Number.isInteger(inputDim) || inputDim < 1 || !Number.isInteger(classes) || classes < 1)
    throw new Error(`featureMlp: inputDim and classes must be positive integers, got ${inputDim}, ${classes}`);
  const m = tf.sequential({ name: "feature_mlp" });
  if (hidden > 0) {
    m.add(
      tf.layers.dense({
        inputShape: [inputDim],
        units: hidden,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        name: "fh_hidden",
      }),
    );
    if (dropout > 0)
      m.add(
        tf.layers.dropout({
          rate: dropout,
          seed: seed + 1,
          name: "fh_dropout",
        }),
      );
  }
  m.add(
    tf.layers.dense({
      ...(hidden > 0 ? {} : { inputShape: [inputDim] }),
      units: classes,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }),
      name: "fh_logits",
    }),
  );
  return m;
}

/** One Adam step of `head` on `x` `[b, d]`, integer labels `[b]`; returns the loss. No tensors leak. */
export function featureHeadStep(head: tf.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor2D, labels: tf.Tensor1D, classes: number): number {
  const loss = optimizer.minimize(() => {
    const logits = head.apply(x, { training: true }) as tf.Tensor2D;
    return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits) as tf.Scalar;
  }, true) as tf.Scalar;
  const v = loss.dataSync()[0]!;
  loss.dispose();
  return v;
}

/** Options for {@link trainFeatureHead}. */
export interface TrainFeatureHeadOptions {
  /** Table rows to train on. Defaults to all. */
  rows?: Int32Array;
  /** Hidden width (0: linear). Defaults to 512. */
  hidden?: number;
  /** Defaults to 0.1. */
  dropout?: number;
  /** Defaults to 10. */
  epochs?: number;
  /** Defaults to 64. */
  batchSize?: number;
  /** Adam learning rate. Defaults to 1e-3. */
  lr?: number;
  /** Seed of weights and batch order. Defaults to 0. */
  seed?: number;
  /** Progress label; null for none. Defaults to "train head". */
  label?: string | null;
}

/** A trained feature head and its loss per epoch. */
export interface FeatureHeadResult {
  head: tf.Sequential;
  /** Mean training loss per epoch. */
  losses: number[];
  /** Milliseconds per optimiser step (mean). */
  msPerStep: number;
}

/**
 * Trains an MLP head on a table's concatenated cached blocks (concat fusion), to classify label groups.
 * @example const { head, losses } = await trainFeatureHead(table, { epochs: 5, hidden: 512 });
 */
export async function trainFeatureHead(table: FeatureTable, opts: TrainFeatureHeadOptions = {}): Promise<FeatureHeadResult> {
  const { rows, hidden = 512, dropout = 0.1, epochs = 10, batchSize = 64, lr = 1e-3, seed = 0, label = "train head" } = opts;
  const r = rows ?? Int32Array.from({ length: table.n }, (_, i) => i);
  const dim = table.blocks.reduce((a, b) => a + b.dim, 0);
  const x = concatFeatures(table, r);
  const y = Int32Array.from(r, (i) => table.labels[i]!);
  const classes = table.classes.length;
  const head = featureMlp({ inputDim: dim, classes, hidden, dropout, seed });
  const opt = tf.train.adam(lr);
  const steps = Math.ceil(r.length / batchSize);
  const bar = label === null ? null : progress({ label, total: epochs * steps });
  const losses: number[] = [];
  let ms = 0;
  for (let e = 0; e < epochs; e++) {
    const order = Rng.derive(seed, "feature-head", e).permutation(r.length);
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const idx = order.subarray(s * batchSize, Math.min(r.length, (s + 1) * batchSize));
      const xb = new Float32Array(idx.length * dim);
      const yb = new Int32Array(idx.length);
      idx.forEach((p, i) => {
        xb.set(x.subarray(p * dim, (p + 1) * dim), i * dim);
        yb[i] = y[p]!;
      });
      const t0 = performance.now();
      const xt = tf.tensor2d(xb, [idx.length, dim]);
      const yt = tf.tensor1d(yb, "int32");
      sum += featureHeadStep(head, opt, xt, yt, classes);
      xt.dispose();
      yt.dispose();
      ms += performance.now() - t0;
      bar?.tick(1);
      if (s % 8 === 7) await new Promise((res) => setImmediate(res));
    }
    losses.push(sum / steps);
    bar?.note(`loss ${losses[e]!.toFixed(3)}`);
  }
  bar?.finish();
  opt.dispose();
  return { head, losses, msPerStep: ms / (epochs * steps) };
}

/** Runs `head` on rows of the table (concatenated blocks) and returns `[rows, classes]` logits. */
export function featureHeadPredict(head: tf.LayersModel, table: FeatureTable, rows?: Int32Array, batchSize = 256): Float32Array {
  const r = rows ?? Int32Array.from({ length: table.n }, (_, i) => i);
  const dim = table.blocks.reduce((a, b) => a + b.dim, 0);
  const outDim = head.outputs[0]!.shape[1] as number;
  const out = new Float32Array(r.length * outDim);
  for (let s = 0; s < r.length; s += batchSize) {
    const idx = r.subarray(s, Math.min(r.length, s + batchSize));
    const y = tf.tidy(() => head.predict(tf.tensor2d(concatFeatures(table, idx), [idx.length, dim])) as tf.Tensor);
    out.set(y.dataSync() as Float32Array, s * outDim);
    y.dispose();
  }
  return out;
}

/**
 * The head's hidden-layer activations for rows of the table (`[rows, hidden]`): embeddings a
 * trained head gives listings, including listings of groups it never saw (for kNN matching).
 * @example const z = featureHeadEmbed(head, table, validRows);
 */
export function featureHeadEmbed(head: tf.LayersModel, table: FeatureTable, rows?: Int32Array, batchSize = 256): Float32Array {
  const hiddenLayer = head.layers.find((l) => l.name === "fh_hidden");
  if (!hiddenLayer) throw new Error("featureHeadEmbed: the head has no hidden layer (train it with hidden > 0)");
  const encoder = tf.model({
    inputs: head.inputs,
    outputs: hiddenLayer.output as tf.SymbolicTensor,
  });
  return featureHeadPredict(encoder, table, rows, batchSize);
}
