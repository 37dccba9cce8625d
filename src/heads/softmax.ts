/** The plain softmax head: a dense layer from embeddings to class logits. */
import * as tf from "@tensorflow/tfjs";
import { embeddingDim, type HeadOptions, splitHeadInputs } from "./common";

/** Options for {@link softmaxHead}. */
export interface SoftmaxHeadOptions extends HeadOptions {
  /** Add a bias. Defaults to true. */
  useBias?: boolean;
}

/** Logits = x W + b. Labels, if passed, are ignored (no margin). */
export class SoftmaxHead extends tf.layers.Layer {
  static className = "MatchlabSoftmaxHead";
  readonly classes: number;
  readonly seed: number;
  readonly useBias: boolean;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(opts: SoftmaxHeadOptions) {
    super({ name: opts.name ?? "softmax" });
    const { classes, seed = 0, useBias = true } = opts;
    if (!Number.isInteger(classes) || classes < 1) throw new Error(`softmax: classes must be a positive integer, got ${classes}`);
    this.classes = classes;
    this.seed = seed;
    this.useBias = useBias;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const dim = embeddingDim(inputShape);
    this.kernel = this.addWeight("kernel", [dim, this.classes], "float32", tf.initializers.glorotUniform({ seed: this.seed }));
    if (this.useBias) this.bias = this.addWeight("bias", [this.classes], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0]!, this.classes];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [emb] = splitHeadInputs(inputs);
      const z = tf.matMul(emb as tf.Tensor2D, this.kernel!.read() as tf.Tensor2D);
      return this.bias ? z.add(this.bias.read()) : z;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), classes: this.classes, seed: this.seed, useBias: this.useBias };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(SoftmaxHead);

/** Factory for {@link SoftmaxHead}. */
export function softmaxHead(opts: SoftmaxHeadOptions): SoftmaxHead {
  return new SoftmaxHead(opts);
}
