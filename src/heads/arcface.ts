/** ArcFace (additive angular margin): logit_y = s·cos(θ_y + m). */
import * as tf from "@tensorflow/tfjs";
import { CosineHead, type HeadOptions } from "./common";

/** Options for {@link arcFace}. */
export interface ArcFaceOptions extends HeadOptions {
  /** Scale s. Defaults to 30. */
  s?: number;
  /** Angular margin m in radians. Defaults to 0.5. */
  m?: number;
  /** Easy margin: apply the margin only where cos θ > 0. Defaults to false. */
  easyMargin?: boolean;
  /** Sub-centres per class (sub-center ArcFace when > 1). Defaults to 1. */
  k?: number;
}

/**
 * The ArcFace margin on cos θ for the target class: cos(θ+m) where θ+m < π, otherwise the
 * monotone extension cos θ − m·sin m (InsightFace's `th`/`mm` rule); with easy margin, cos(θ+m)
 * only where cos θ > 0.
 */
export function arcMargin(cos: tf.Tensor, m: number, easyMargin: boolean): tf.Tensor {
  return tf.tidy(() => {
    const sin = tf.sqrt(tf.sub(1, cos.square()).clipByValue(1e-7, 1));
    const phi = cos.mul(Math.cos(m)).sub(sin.mul(Math.sin(m)));
    // masks via tf.step (which has a zero gradient) rather than tf.greater (which has none)
    if (easyMargin) {
      const pos = tf.step(cos);
      return pos.mul(phi).add(tf.sub(1, pos).mul(cos));
    }
    const th = Math.cos(Math.PI - m);
    const mm = Math.sin(Math.PI - m) * m;
    const ok = tf.step(cos.sub(th));
    return ok.mul(phi).add(tf.sub(1, ok).mul(cos.sub(mm)));
  });
}

/** ArcFace head (Deng et al. 2019); also the base of sub-center ArcFace. */
export class ArcFaceHead extends CosineHead {
  static className = "MatchlabArcFaceHead";
  readonly s: number;
  /** The margin; a margin schedule sets it before each step. */
  m: number;
  readonly easyMargin: boolean;

  constructor(opts: ArcFaceOptions, kind = "arcface") {
    super(opts, kind);
    const { s = 30, m = 0.5, easyMargin = false } = opts;
    this.s = s;
    this.m = m;
    this.easyMargin = easyMargin;
  }

  get scale(): number {
    return this.s;
  }

  protected marginLogits(cos: tf.Tensor, onehot: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const phi = arcMargin(cos, this.m, this.easyMargin);
      return onehot.mul(phi).add(tf.sub(1, onehot).mul(cos)).mul(this.s);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), s: this.s, m: this.m, easyMargin: this.easyMargin };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(ArcFaceHead);

/** Factory for {@link ArcFaceHead}. @example const head = arcFace({ classes: 100, s: 30, m: 0.2 }); */
export function arcFace(opts: ArcFaceOptions): ArcFaceHead {
  return new ArcFaceHead(opts);
}

/** Options for {@link subCenterArcFace}. */
export interface SubCenterArcFaceOptions extends ArcFaceOptions {
  /** Sub-centres per class. Defaults to 3. */
  k?: number;
}

/** Sub-center ArcFace (Deng et al. 2020): k centres per class, cos θ = max over them. */
export class SubCenterArcFaceHead extends ArcFaceHead {
  static override className = "MatchlabSubCenterArcFaceHead";
  constructor(opts: SubCenterArcFaceOptions) {
    super({ ...opts, k: opts.k ?? 3 }, "subcenter_arcface");
  }
}
tf.serialization.registerClass(SubCenterArcFaceHead);

/** Factory for {@link SubCenterArcFaceHead}. */
export function subCenterArcFace(opts: SubCenterArcFaceOptions): SubCenterArcFaceHead {
  return new SubCenterArcFaceHead(opts);
}
