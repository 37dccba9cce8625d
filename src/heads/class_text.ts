/**
 * A cosine head against fixed class-text embeddings (the VQA notes' answer-embedding idea):
 * each class is represented by a frozen embedding of its name/description, and the model learns
 * to project its embedding near the right one. New classes need only a new text embedding.
 */
import * as tf from "@tensorflow/tfjs";
import { embeddingDim, type HeadOptions, l2Normalize, oneHotLabels, splitHeadInputs } from "./common";

/** Options for {@link classTextHead}. */
export interface ClassTextHeadOptions extends Omit<HeadOptions, "classes"> {
  /** The fixed class embeddings, one row per class (all rows the same length). Required. */
  classEmbeddings: number[][];
  /** Scale s. Defaults to 16. */
  s?: number;
  /** CosFace-style margin subtracted from the target cosine during training. Defaults to 0. */
  m?: number;
  /** Learn a linear projection from the embedding to the class-text space. Defaults to true (required when the dimensions differ). */
  project?: boolean;
}

/** logits = s·cos(P·x, e_c) against fixed class embeddings e_c (non-trainable). */
export class ClassTextHead extends tf.layers.Layer {
  static className = "MatchlabClassTextHead";
  readonly classes: number;
  readonly textDim: number;
  readonly s: number;
  readonly m: number;
  readonly project: boolean;
  readonly seed: number;
  private readonly table: number[][];
  private classVar: tf.LayerVariable | null = null;
  private projVar: tf.LayerVariable | null = null;

  constructor(opts: ClassTextHeadOptions) {
    super({ name: opts.name ?? "class_text" });
    const { classEmbeddings, s = 16, m = 0, project = true, seed = 0 } = opts;
    if (!Array.isArray(classEmbeddings) || classEmbeddings.length === 0) throw new Error("class_text: classEmbeddings must be a non-empty array of rows");
    const d = classEmbeddings[0]!.length;
    classEmbeddings.forEach((r, i) => {
      if (r.length !== d) throw new Error(`class_text: classEmbeddings row ${i} has ${r.length} values, expected ${d}`);
    });
    this.table = classEmbeddings;
    this.classes = classEmbeddings.length;
    this.textDim = d;
    this.s = s;
    this.m = m;
    this.project = project;
    this.seed = seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const dim = embeddingDim(inputShape);
    if (!this.project && dim !== this.textDim) throw new Error(`class_text: embedding dim ${dim} differs from class-text dim ${this.textDim}; set project: true`);
    this.classVar = this.addWeight("class_embeddings", [this.classes, this.textDim], "float32", tf.initializers.zeros(), undefined, false);
    tf.tidy(() => {
      this.classVar!.write(tf.tensor2d(this.table));
    });
    if (this.project) this.projVar = this.addWeight("projection", [dim, this.textDim], "float32", tf.initializers.glorotUniform({ seed: this.seed }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0]!, this.classes];
  }

  /** cos between projected embeddings and the class embeddings, [B, classes]. */
  cosine(emb: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = this.projVar ? tf.matMul(emb as tf.Tensor2D, this.projVar.read() as tf.Tensor2D) : emb;
      return tf.matMul(l2Normalize(z) as tf.Tensor2D, l2Normalize(this.classVar!.read()) as tf.Tensor2D, false, true).clipByValue(-1, 1);
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [emb, labels] = splitHeadInputs(inputs);
      const cos = this.cosine(emb);
      if (!labels || this.m === 0) return cos.mul(this.s);
      return cos.sub(oneHotLabels(labels, this.classes).mul(this.m)).mul(this.s);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), classEmbeddings: this.table, s: this.s, m: this.m, project: this.project, seed: this.seed };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(ClassTextHead);

/** Factory for {@link ClassTextHead}. */
export function classTextHead(opts: ClassTextHeadOptions): ClassTextHead {
  return new ClassTextHead(opts);
}
