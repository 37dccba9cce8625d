/** Batch-hard triplet loss on embeddings (Hermans et al. 2017). */
import * as tf from "@tensorflow/tfjs";

/** How embeddings are compared. `euclidean`: smaller is closer; `cosine`: 1 − cos, smaller is closer. */
export type TripletDistance = "euclidean" | "cosine";

/** Options for {@link batchHardTripletLoss}. */
export interface TripletLossOptions {
  /** Margin. Defaults to 0.2. */
  margin?: number;
  /** Distance. Defaults to "euclidean". */
  distance?: TripletDistance;
  /** L2-normalise embeddings first. Defaults to true. */
  normalize?: boolean;
  /** Soft margin log(1+exp(d_ap − d_an)) instead of the hinge. Defaults to false. */
  soft?: boolean;
}

/** Pairwise distances [B, B] between rows of x. */
export function pairwiseDistance(x: tf.Tensor, distance: TripletDistance): tf.Tensor2D {
  return tf.tidy(() => {
    const x2 = x as tf.Tensor2D;
    const dot = tf.matMul(x2, x2, false, true);
    if (distance === "cosine") {
      const n = x2.square().sum(1).add(1e-12).sqrt();
      return tf.sub(1, dot.div(tf.outerProduct(n as tf.Tensor1D, n as tf.Tensor1D))) as tf.Tensor2D;
    }
    if (distance !== "euclidean") throw new Error(`unknown distance: ${distance} (expected euclidean|cosine)`);
    const sq = x2.square().sum(1);
    const d2 = sq.reshape([-1, 1]).add(sq.reshape([1, -1])).sub(dot.mul(2)).relu();
    // sqrt with a safe gradient at 0 (the diagonal)
    return d2.add(1e-12).sqrt() as tf.Tensor2D;
  });
}

/**
 * Per-anchor batch-hard triplet loss, [B]: max(0, max_p d(a,p) − min_n d(a,n) + margin) over the
 * batch's positives p ≠ a and negatives n. Anchors with no positive or no negative get 0; reduce
 * with `reduceLoss(l, "mean_nonzero")` as pytorch-metric-learning does.
 */
export function batchHardTripletLoss(embeddings: tf.Tensor, labels: tf.Tensor, opts: TripletLossOptions = {}): tf.Tensor1D {
  const { margin = 0.2, distance = "euclidean", normalize = true, soft = false } = opts;
  return tf.tidy(() => {
    const x = normalize ? embeddings.div(embeddings.square().sum(1, true).add(1e-12).sqrt()) : embeddings;
    const d = pairwiseDistance(x, distance);
    const B = d.shape[0];
    const y = labels.toInt().reshape([-1]);
    const same = tf.equal(y.reshape([-1, 1]), y.reshape([1, -1])).toFloat();
    const eye = tf.eye(B);
    const pos = same.sub(eye);
    const neg = tf.sub(1, same);
    const big = tf.scalar(d.max().dataSync()[0]! + 1); // a constant: no gradient
    const hardPos = d.mul(pos).max(1);
    const hardNeg = d.add(big.mul(tf.sub(1, neg))).min(1);
    const valid = pos.max(1).mul(neg.max(1));
    const diff = hardPos.sub(hardNeg);
    const l = soft ? tf.softplus(diff) : diff.add(margin).relu();
    return l.mul(valid) as tf.Tensor1D;
  });
}
