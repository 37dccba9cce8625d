/** CosFace (additive cosine margin): logit_y = s·(cos θ_y − m). */
import * as tf from "@tensorflow/tfjs";
import { CosineHead, type HeadOptions } from "./common";

/** Options for {@link cosFace}. */
export interface CosFaceOptions extends HeadOptions {
  /** Scale s. Defaults to 30. */
  s?: number;
  /** Cosine margin m. Defaults to 0.35. */
  m?: number;
}

/** CosFace / large-margin cosine head (Wang et al. 2018). */
export class CosFaceHead extends CosineHead {
  static className = "MatchlabCosFaceHead";
  readonly s: number;
  /** The margin; a margin schedule sets it before each step. */
  m: number;

  constructor(opts: CosFaceOptions) {
    super(opts, "cosface");
    const { s = 30, m = 0.35 } = opts;
    this.s = s;
    this.m = m;
  }

  get scale(): number {
    return this.s;
  }

  protected marginLogits(cos: tf.Tensor, onehot: tf.Tensor): tf.Tensor {
    return tf.tidy(() => cos.sub(onehot.mul(this.m)).mul(this.s));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), s: this.s, m: this.m };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(CosFaceHead);

/** Factory for {@link CosFaceHead}. */
export function cosFace(opts: CosFaceOptions): CosFaceHead {
  return new CosFaceHead(opts);
}
