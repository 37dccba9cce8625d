/** Reducers: per-sample losses → one number; and weighted sums of losses. */
import * as tf from "@tensorflow/tfjs";

/** How per-sample losses are reduced. */
export type Reduction = "mean" | "sum" | "none" | "mean_nonzero";

/**
 * Reduces per-sample losses. `mean_nonzero` averages over entries > 0 (0 when none), as
 * pytorch-metric-learning's AvgNonZeroReducer. Optional per-sample weights give a weighted mean.
 */
export function reduceLoss(losses: tf.Tensor, reduction: Reduction = "mean", weights?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (reduction) {
      case "none":
        return weights ? losses.mul(weights) : losses.clone();
      case "sum":
        return (weights ? losses.mul(weights) : losses).sum();
      case "mean":
        return weights ? losses.mul(weights).sum().div(weights.sum().add(1e-12)) : losses.mean();
      case "mean_nonzero": {
        const nz = tf.step(losses); // tf.step has a (zero) gradient; tf.greater has none
        return losses.sum().div(nz.sum().maximum(1));
      }
      default:
        throw new Error(`unknown reduction: ${reduction as string} (expected mean|sum|none|mean_nonzero)`);
    }
  });
}

/** One term of a {@link weightedLossSum}. */
export interface LossTerm {
  /** The weight. */
  weight: number;
  /** A scalar loss. */
  loss: tf.Tensor;
}

/** Σ weight·loss over the terms (all scalars). */
export function weightedLossSum(terms: LossTerm[]): tf.Scalar {
  if (terms.length === 0) throw new Error("weightedLossSum: no terms");
  return tf.tidy(() => terms.reduce((acc: tf.Tensor, t) => acc.add(t.loss.mul(t.weight)), tf.scalar(0)) as tf.Scalar);
}
