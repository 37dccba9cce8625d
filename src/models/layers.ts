/**
 * Custom layers for the encoders and fusion: a pre-LN transformer block with key masking, learned
 * position embeddings, masked mean pooling, Oscar/VinVL-style grid cells (region feature + 6-d box)
 * and seeded, step-keyed dropout. All registered (static className) so saved models load again.
 */
import * as tf from "@tensorflow/tfjs";
import { hash32 } from "../rng";

type Cfg = tf.serialization.ConfigDict;
const fromCfg = <T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: Cfg): T => new cls(config as never);

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(g).add(b);
}

/** Options for {@link TransformerBlock}. */
export interface TransformerBlockOptions {
  /** Attention heads (must divide the model width). Defaults to 4. */
  heads?: number;
  /** Feed-forward width as a multiple of the model width. Defaults to 2. */
  ffMult?: number;
  /** Initialiser seed. Defaults to 0. */
  seed?: number;
  /** Layer name. Defaults to "transformer_block". */
  name?: string;
}

/**
 * A pre-LayerNorm transformer encoder block: x + MHA(LN(x)), then + FFN(LN(·)) with GELU-free ReLU.
 * Inputs `[x [B,T,d], mask [B,T]]` (1 = attend, 0 = padding).
 */
export class TransformerBlock extends tf.layers.Layer {
  static className = "MatchlabTransformerBlock";
  readonly heads: number;
  readonly ffMult: number;
  readonly seed: number;
  private w: Record<string, tf.LayerVariable> = {};

  constructor(opts: TransformerBlockOptions = {}) {
    super({ name: opts.name ?? "transformer_block" });
    const { heads = 4, ffMult = 2, seed = 0 } = opts;
    this.heads = heads;
    this.ffMult = ffMult;
    this.seed = seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const d = s[2]!;
    if (d % this.heads !== 0) throw new Error(`TransformerBlock: width ${d} is not divisible by heads ${this.heads}`);
    const ff = d * this.ffMult;
    let k = 0;
    const mat = (name: string, shape: number[]) => {
      this.w[name] = this.addWeight(name, shape, "float32", tf.initializers.glorotUniform({ seed: hash32(this.seed * 31 + ++k) % 2147483647 }));
    };
    const vec = (name: string, n: number, value: number) => {
      this.w[name] = this.addWeight(name, [n], "float32", tf.initializers.constant({ value }));
    };
    vec("ln1_g", d, 1);
    vec("ln1_b", d, 0);
    mat("wq", [d, d]);
    mat("wk", [d, d]);
    mat("wv", [d, d]);
    mat("wo", [d, d]);
    vec("bo", d, 0);
    vec("ln2_g", d, 1);
    vec("ln2_b", d, 0);
    mat("w1", [d, ff]);
    vec("b1", ff, 0);
    mat("w2", [ff, d]);
    vec("b2", d, 0);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputs as tf.Tensor[];
      const r = (n: string) => this.w[n]!.read();
      const [B, T, d] = x!.shape as number[];
      const h = this.heads;
      const dh = d! / h;
      const mm = (a: tf.Tensor, w: tf.Tensor) => tf.matMul(a.reshape([-1, a.shape[a.rank - 1]!]) as tf.Tensor2D, w as tf.Tensor2D);
      const xn = layerNorm(x!, r("ln1_g"), r("ln1_b"));
      const split = (t: tf.Tensor) => t.reshape([B!, T!, h, dh]).transpose([0, 2, 1, 3]);
      const q = split(mm(xn, r("wq")));
      const k = split(mm(xn, r("wk")));
      const v = split(mm(xn, r("wv")));
      let scores = tf.matMul(q, k, false, true).div(Math.sqrt(dh));
      if (mask) scores = scores.add(tf.sub(1, mask.toFloat()).mul(-1e9).reshape([B!, 1, 1, T!]));
      const att = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([B! * T!, d!]);
      const y = x!.add(mm(att, r("wo")).add(r("bo")).reshape([B!, T!, d!]));
      const yn = layerNorm(y, r("ln2_g"), r("ln2_b"));
      const f = mm(mm(yn, r("w1")).add(r("b1")).relu(), r("w2")).add(r("b2"));
      return y.add(f.reshape([B!, T!, d!]));
    });
  }

  override getConfig(): Cfg {
    return { ...super.getConfig(), heads: this.heads, ffMult: this.ffMult, seed: this.seed };
  }
  static override fromConfig = fromCfg;
}
tf.serialization.registerClass(TransformerBlock);

/** Float mask (1 for token ids > 0) from int token ids [B, T]. */
export class TokenMask extends tf.layers.Layer {
  static className = "MatchlabTokenMask";
  constructor(opts: { name?: string } = {}) {
    super({ name: opts.name ?? "token_mask" });
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return s;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => (Array.isArray(inputs) ? inputs[0]! : inputs).greater(0).toFloat());
  }
  static override fromConfig = fromCfg;
}
tf.serialization.registerClass(TokenMask);

/** Adds a learned position embedding [T, d] to [B, T, d]. */
export class PositionEmbedding extends tf.layers.Layer {
  static className = "MatchlabPositionEmbedding";
  readonly seed: number;
  private pos: tf.LayerVariable | null = null;
  constructor(opts: { seed?: number; name?: string } = {}) {
    super({ name: opts.name ?? "position_embedding" });
    this.seed = opts.seed ?? 0;
  }
  override build(s: tf.Shape): void {
    this.pos = this.addWeight("pos", [s[1]!, s[2]!], "float32", tf.initializers.truncatedNormal({ stddev: 0.02, seed: this.seed }));
    this.built = true;
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return s;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => (Array.isArray(inputs) ? inputs[0]! : inputs).add(this.pos!.read()));
  }
  override getConfig(): Cfg {
    return { ...super.getConfig(), seed: this.seed };
  }
  static override fromConfig = fromCfg;
}
tf.serialization.registerClass(PositionEmbedding);

/** Mean over the unmasked positions: inputs `[x [B,T,d], mask [B,T]]` → [B, d]. */
export class MaskedMeanPool extends tf.layers.Layer {
  static className = "MatchlabMaskedMeanPool";
  constructor(opts: { name?: string } = {}) {
    super({ name: opts.name ?? "masked_mean" });
  }
  override computeOutputShape(s: tf.Shape[]): tf.Shape {
    return [s[0]![0]!, s[0]![2]!];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputs as tf.Tensor[];
      const m = mask!.toFloat().expandDims(2);
      return x!.mul(m).sum(1).div(m.sum(1).maximum(1));
    });
  }
  static override fromConfig = fromCfg;
}
tf.serialization.registerClass(MaskedMeanPool);

/**
 * Oscar/VinVL-style region tokens from a CNN feature map: [B, h, w, C] → [B, h·w, C + 6], each grid
 * cell's feature followed by its normalised box (x1, y1, x2, y2, width, height).
 */
export class GridCells extends tf.layers.Layer {
  static className = "MatchlabGridCells";
  constructor(opts: { name?: string } = {}) {
    super({ name: opts.name ?? "grid_cells" });
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return [s[0]!, s[1]! * s[2]!, s[3]! + 6];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [B, h, w, C] = x.shape as number[];
      const boxes: number[] = [];
      for (let i = 0; i < h!; i++)
        for (let j = 0; j < w!; j++) boxes.push(j / w!, i / h!, (j + 1) / w!, (i + 1) / h!, 1 / w!, 1 / h!);
      const box = tf.tensor3d(boxes, [1, h! * w!, 6]).tile([B!, 1, 1]);
      return tf.concat([x.reshape([B!, h! * w!, C!]), box], 2);
    });
  }
  static override fromConfig = fromCfg;
}
tf.serialization.registerClass(GridCells);

/**
 * Joins image tokens [B, N, d] and text tokens [B, T, d] into one sequence with learned modality
 * (type) embeddings; inputs `[img, txt, txtMask]`, outputs `[tokens [B, N+T, d], mask [B, N+T]]`.
 */
export class ModalityConcat extends tf.layers.Layer {
  static className = "MatchlabModalityConcat";
  readonly seed: number;
  private types: tf.LayerVariable | null = null;
  constructor(opts: { seed?: number; name?: string } = {}) {
    super({ name: opts.name ?? "modality_concat" });
    this.seed = opts.seed ?? 0;
  }
  override build(s: tf.Shape[]): void {
    this.types = this.addWeight("types", [2, s[0]![2]!], "float32", tf.initializers.truncatedNormal({ stddev: 0.02, seed: this.seed }));
    this.built = true;
  }
  override computeOutputShape(s: tf.Shape[]): tf.Shape[] {
    const [a, b] = s as [tf.Shape, tf.Shape];
    const n = a[1] != null && b[1] != null ? a[1] + b[1] : null;
    return [
      [a[0]!, n, a[2]!],
      [a[0]!, n],
    ];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const [img, txt, m] = inputs as tf.Tensor[];
      const t = this.types!.read();
      const x = tf.concat([img!.add(t.slice([0, 0], [1, -1])), txt!.add(t.slice([1, 0], [1, -1]))], 1);
      const mask = tf.concat([tf.ones([img!.shape[0]!, img!.shape[1]!]), m!.toFloat()], 1);
      return [x, mask];
    });
  }
  override getConfig(): Cfg {
    return { ...super.getConfig(), seed: this.seed };
  }
  static override fromConfig = fromCfg;
}
tf.serialization.registerClass(ModalityConcat);

/**
 * Dropout whose mask is seeded by (seed, step): deterministic, yet different at every step. The
 * training loop sets `step` before each forward pass (see {@link setDropoutStep}).
 */
export class StepDropout extends tf.layers.Layer {
  static className = "MatchlabStepDropout";
  readonly rate: number;
  readonly seed: number;
  /** The step the next mask is keyed on. */
  step = 0;
  constructor(opts: { rate: number; seed?: number; name?: string }) {
    super({ name: opts.name ?? "dropout" });
    if (!(opts.rate >= 0 && opts.rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${opts.rate}`);
    this.rate = opts.rate;
    this.seed = opts.seed ?? 0;
  }
  override computeOutputShape(s: tf.Shape): tf.Shape {
    return s;
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (!kwargs?.training || this.rate === 0) return x.clone();
      return tf.dropout(x, this.rate, undefined, hash32(this.seed ^ hash32(this.step + 1)) % 2147483647);
    });
  }
  override getConfig(): Cfg {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
  static override fromConfig = fromCfg;
}
tf.serialization.registerClass(StepDropout);

/** Sets the step every {@link StepDropout} in `model` keys its mask on. */
export function setDropoutStep(model: tf.LayersModel, step: number): void {
  for (const l of model.layers) if (l instanceof StepDropout) l.step = step;
}
