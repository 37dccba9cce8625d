/** AdaCos (Zhang et al. 2019): a cosine head whose scale adapts itself during training. */
import * as tf from "@tensorflow/tfjs";
import { CosineHead, type HeadOptions } from "./common";

/** Options for {@link adaCos}. */
export type AdaCosOptions = HeadOptions;

/** The fixed-point starting scale √2·log(C−1) of AdaCos. */
export function adaCosInitialScale(classes: number): number {
  return Math.SQRT2 * Math.log(Math.max(classes - 1, 2));
}

/**
 * AdaCos head. During training, each batch updates the scale
 * s ← log(B_avg) / cos(min(π/4, θ_med)), where B_avg = mean over the batch of Σ_{j≠y} exp(s·cos θ_j)
 * (with the old s) and θ_med is the (lower) median target angle; logits are s·cos θ with the new s.
 * The scale is a non-trainable weight, so it is saved with checkpoints.
 */
export class AdaCosHead extends CosineHead {
  static className = "MatchlabAdaCosHead";
  private scaleVar: tf.LayerVariable | null = null;

  constructor(opts: AdaCosOptions) {
    super(opts, "adacos");
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    this.scaleVar = this.addWeight("scale", [], "float32", tf.initializers.constant({ value: adaCosInitialScale(this.classes) }), undefined, false);
    this.built = true;
  }

  get scale(): number {
    return this.scaleVar ? this.scaleVar.read().dataSync()[0]! : adaCosInitialScale(this.classes);
  }

  protected marginLogits(cos: tf.Tensor, onehot: tf.Tensor, training: boolean): tf.Tensor {
    if (!training) return cos.mul(this.scale);
    const sOld = this.scale;
    const c = cos.dataSync();
    const oh = onehot.dataSync();
    const n = cos.shape[0]!;
    const C = this.classes;
    let bSum = 0;
    const thetaY: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < C; j++) {
        const v = c[i * C + j]!;
        if (oh[i * C + j]! > 0.5) thetaY.push(Math.acos(Math.min(1, Math.max(-1, v))));
        else bSum += Math.exp(sOld * v);
      }
    }
    thetaY.sort((a, b) => a - b);
    const med = thetaY[(thetaY.length - 1) >> 1] ?? 0;
    const sNew = Math.log(bSum / n) / Math.cos(Math.min(Math.PI / 4, med));
    if (Number.isFinite(sNew)) this.scaleVar!.write(tf.scalar(sNew));
    return cos.mul(Number.isFinite(sNew) ? sNew : sOld);
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(AdaCosHead);

/** Factory for {@link AdaCosHead}. */
export function adaCos(opts: AdaCosOptions): AdaCosHead {
  return new AdaCosHead(opts);
}
