/**
 * Shared pieces of the classification heads: the cosine-similarity base layer that ArcFace,
 * CosFace, AdaCos and sub-center ArcFace build on, and small tensor helpers.
 */
import * as tf from "@tensorflow/tfjs";

/** Options shared by every head. */
export interface HeadOptions {
  /** Number of classes. Required. */
  classes: number;
  /** Seed for the weight initialiser. Defaults to 0. */
  seed?: number;
  /** Layer name. Defaults to the head's kind (e.g. "arcface"). */
  name?: string;
}

/** L2-normalises rows (axis -1) of `x`, guarding against zero rows. */
export function l2Normalize(x: tf.Tensor, axis = -1): tf.Tensor {
  return tf.tidy(() => x.div(x.square().sum(axis, true).add(1e-12).sqrt()));
}

/** Splits a head's `apply` input into embeddings and (optional) labels. */
export function splitHeadInputs(inputs: tf.Tensor | tf.Tensor[]): [tf.Tensor, tf.Tensor | undefined] {
  if (Array.isArray(inputs)) return [inputs[0]!, inputs[1]];
  return [inputs, undefined];
}

/** The one-hot matrix [B, classes] for integer labels [B]. */
export function oneHotLabels(labels: tf.Tensor, classes: number): tf.Tensor {
  return tf.tidy(() => tf.oneHot(labels.toInt().reshape([-1]), classes).toFloat());
}

/** The embedding dimension of an input shape (single or [emb, labels]). */
export function embeddingDim(inputShape: tf.Shape | tf.Shape[]): number {
  const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  const d = s[s.length - 1];
  if (d == null) throw new Error(`head: the embedding dimension must be known, got shape [${s.join(",")}]`);
  return d;
}

/**
 * Base for heads that score cos(θ) between normalised embeddings and normalised class centres
 * (`k` sub-centres per class, max-pooled). Subclasses turn cos(θ) and labels into logits.
 * Called with `[embeddings, labels]` during training (margin applied) or with embeddings alone
 * (plain scaled cosine, for inference).
 */
export abstract class CosineHead extends tf.layers.Layer {
  readonly classes: number;
  readonly k: number;
  readonly seed: number;
  protected kernel: tf.LayerVariable | null = null;

  constructor(opts: HeadOptions & { k?: number }, kind: string) {
    super({ name: opts.name ?? kind });
    const { classes, k = 1, seed = 0 } = opts;
    if (!Number.isInteger(classes) || classes < 1) throw new Error(`${kind}: classes must be a positive integer, got ${classes}`);
    if (!Number.isInteger(k) || k < 1) throw new Error(`${kind}: k must be a positive integer, got ${k}`);
    this.classes = classes;
    this.k = k;
    this.seed = seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const dim = embeddingDim(inputShape);
    this.kernel = this.addWeight(
      "kernel",
      [dim, this.classes * this.k],
      "float32",
      tf.initializers.glorotUniform({ seed: this.seed }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0]!, this.classes];
  }

  /** cos(θ) [B, classes] between normalised embeddings and (max over sub-centres of) normalised centres. */
  cosine(emb: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const w = l2Normalize(this.kernel!.read(), 0);
      const cos = tf.matMul(l2Normalize(emb) as tf.Tensor2D, w as tf.Tensor2D).clipByValue(-1, 1);
      if (this.k === 1) return cos;
      return cos.reshape([-1, this.classes, this.k]).max(2);
    });
  }

  /** Logits with the margin applied to the target class. */
  protected abstract marginLogits(cos: tf.Tensor, onehot: tf.Tensor, training: boolean): tf.Tensor;

  /** The scale used at inference. */
  abstract get scale(): number;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const [emb, labels] = splitHeadInputs(inputs);
      const cos = this.cosine(emb);
      if (!labels) return cos.mul(this.scale);
      return this.marginLogits(cos, oneHotLabels(labels, this.classes), Boolean(kwargs?.training ?? true));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), classes: this.classes, k: this.k, seed: this.seed };
  }
}
