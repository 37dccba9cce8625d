/** Softmax cross-entropy and focal loss on logits, per sample. */
import * as tf from "@tensorflow/tfjs";

/** Options for {@link crossEntropyLoss}. */
export interface CrossEntropyOptions {
  /** Label smoothing ε: the target is (1−ε)·onehot + ε/C. Defaults to 0. */
  labelSmoothing?: number;
  /** Per-class weights (see `classWeights`); each sample's loss is multiplied by its class's weight. Defaults to none. */
  classWeights?: ArrayLike<number>;
}

function checkSmoothing(eps: number): void {
  if (!(eps >= 0 && eps < 1)) throw new Error(`labelSmoothing must be in [0, 1), got ${eps}`);
}

function targets(labels: tf.Tensor, classes: number, eps: number): tf.Tensor {
  const oh = tf.oneHot(labels.toInt().reshape([-1]), classes).toFloat();
  return eps > 0 ? oh.mul(1 - eps).add(eps / classes) : oh;
}

function sampleWeights(labels: tf.Tensor, w: ArrayLike<number> | undefined, classes: number): tf.Tensor | null {
  if (!w) return null;
  if (w.length !== classes) throw new Error(`classWeights has ${w.length} entries, expected one per class (${classes})`);
  return tf.gather(tf.tensor1d(Array.from(w), "float32"), labels.toInt().reshape([-1]));
}

/**
 * Per-sample softmax cross-entropy, [B], from logits [B, C] and integer labels [B].
 * @example const l = crossEntropyLoss(logits, labels, { labelSmoothing: 0.1 });
 */
export function crossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor, opts: CrossEntropyOptions = {}): tf.Tensor1D {
  const { labelSmoothing = 0, classWeights } = opts;
  checkSmoothing(labelSmoothing);
  return tf.tidy(() => {
    const C = logits.shape[1]!;
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    let l = targets(labels, C, labelSmoothing).mul(logp).sum(1).neg();
    const sw = sampleWeights(labels, classWeights, C);
    if (sw) l = l.mul(sw);
    return l as tf.Tensor1D;
  });
}

/** Options for {@link focalLoss}. */
export interface FocalLossOptions extends CrossEntropyOptions {
  /** Focusing parameter γ. Defaults to 2. */
  gamma?: number;
}

/**
 * Per-sample focal loss (Lin et al. 2017), [B]: −Σ_c t_c (1−p_c)^γ log p_c with t the (smoothed)
 * target; reduces to cross-entropy at γ = 0. Class weights act as the α-balancing term.
 */
export function focalLoss(logits: tf.Tensor, labels: tf.Tensor, opts: FocalLossOptions = {}): tf.Tensor1D {
  const { gamma = 2, labelSmoothing = 0, classWeights } = opts;
  checkSmoothing(labelSmoothing);
  if (!(gamma >= 0)) throw new Error(`focal gamma must be >= 0, got ${gamma}`);
  return tf.tidy(() => {
    const C = logits.shape[1]!;
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    const mod = tf.sub(1, logp.exp()).clipByValue(0, 1).pow(gamma);
    let l = targets(labels, C, labelSmoothing).mul(mod).mul(logp).sum(1).neg();
    const sw = sampleWeights(labels, classWeights, C);
    if (sw) l = l.mul(sw);
    return l as tf.Tensor1D;
  });
}

/** The classification losses on head logits, by config name (`loss.kind`): per-sample losses, [B]. */
export const CLASSIFICATION_LOSSES = Object.freeze({
  ce: (logits: tf.Tensor, labels: tf.Tensor, opts: FocalLossOptions = {}) => crossEntropyLoss(logits, labels, { labelSmoothing: opts.labelSmoothing, classWeights: opts.classWeights }),
  focal: focalLoss,
});
/** A classification loss name. */
export type ClassificationLossName = keyof typeof CLASSIFICATION_LOSSES;
