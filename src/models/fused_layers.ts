/**
 * Layers that train through matchlab's fused ops (src/backend/fused_ops.ts), registered so that saved
 * models load again:
 * - {@link ConvBiasActLayer}: the same weights (`kernel` [k,k,Ci,filters], `bias` [filters]) and output
 *   as `tf.layers.conv2d({ activation })`, with one forward kernel and one activation-and-bias
 *   gradient pass per step instead of three each;
 * - {@link Relu6Layer}: the same output as `tf.layers.activation({ activation: "relu6" })`, one kernel
 *   each way instead of two forward and five backward;
 * - {@link BatchNormLayer}: tfjs-layers' BatchNormalization (same weights, config and moving averages)
 *   whose training pass is {@link batchNormTraining}: 2 passes forward and 2 backward instead of ~15.
 */
import * as tf from "@tensorflow/tfjs";
import { batchNormTraining, conv2dBiasAct, relu6Fused } from "../backend/fused_ops";

/** Options for {@link ConvBiasActLayer}. */
export interface ConvBiasActLayerOptions {
  /** Output channels. Required. */
  filters: number;
  /** Square kernel size. Defaults to 3. */
  kernelSize?: number;
  /** Stride (both axes). Defaults to 1. */
  strides?: number;
  /** "same" or "valid". Defaults to "same". */
  padding?: "same" | "valid";
  /** "relu" or "linear". Defaults to "relu". */
  activation?: "relu" | "linear";
  /** Seed of the He-normal kernel initialiser (the bias starts at 0). Defaults to 0. */
  kernelSeed?: number;
  /** Layer name. Defaults to tfjs' unique "conv_bias_act_N". */
  name?: string;
}

/** See the module comment. Input NHWC [N, H, W, Ci]; output [N, H', W', filters]. */
export class ConvBiasActLayer extends tf.layers.Layer {
  static className = "MatchlabConvBiasAct";
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: "same" | "valid";
  readonly activation: "relu" | "linear";
  readonly kernelSeed: number;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(opts: ConvBiasActLayerOptions) {
    super(opts.name ? { name: opts.name } : {});
    const { filters, kernelSize = 3, strides = 1, padding = "same", activation = "relu", kernelSeed = 0 } = opts;
    for (const [k, v] of Object.entries({ filters, kernelSize, strides })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`ConvBiasActLayer: ${k} must be a positive integer, got ${v}`);
    }
    if (padding !== "same" && padding !== "valid") throw new Error(`ConvBiasActLayer: padding must be "same" or "valid", got ${String(padding)}`);
    if (activation !== "relu" && activation !== "linear") throw new Error(`ConvBiasActLayer: activation must be "relu" or "linear", got ${String(activation)}`);
    this.filters = filters;
    this.kernelSize = kernelSize;
    this.strides = strides;
    this.padding = padding;
    this.activation = activation;
    this.kernelSeed = kernelSeed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = inputShape as tf.Shape;
    const ci = s[s.length - 1];
    if (s.length !== 4 || ci == null) throw new Error(`ConvBiasActLayer: expects NHWC input with known channels, got [${s.join(",")}]`);
    const k = this.kernelSize;
    this.kernel = this.addWeight("kernel", [k, k, ci, this.filters], "float32", tf.initializers.heNormal({ seed: this.kernelSeed }));
    this.bias = this.addWeight("bias", [this.filters], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = inputShape as tf.Shape;
    const out = (d: number | null) => (d == null ? null : this.padding === "same" ? Math.ceil(d / this.strides) : Math.ceil((d - this.kernelSize + 1) / this.strides));
    return [n ?? null, out(h ?? null), out(w ?? null), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return conv2dBiasAct(x, this.kernel!.read() as tf.Tensor4D, this.bias!.read() as tf.Tensor1D, { strides: this.strides, pad: this.padding, activation: this.activation });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, activation: this.activation, kernelSeed: this.kernelSeed };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(ConvBiasActLayer);

/** ReLU6 through {@link relu6Fused}. Options: the layer name (defaults to tfjs' unique "relu6_layer_N"). */
export class Relu6Layer extends tf.layers.Layer {
  static className = "MatchlabRelu6";
  constructor(opts: { name?: string } = {}) {
    super(opts.name ? { name: opts.name } : {});
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return s;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return relu6Fused(Array.isArray(inputs) ? inputs[0]! : inputs);
  }
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(Relu6Layer);

/** tfjs-layers' BatchNormalization class (not exported by name; taken from the serialization registry). */
const BatchNormalizationBase = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization![0] as unknown as new (args: tf.serialization.ConfigDict) => tf.layers.Layer;

/** The fields of tfjs-layers' BatchNormalization this layer reads (private there). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/** Options for {@link BatchNormLayer}: `tf.layers.batchNormalization`'s, and `frozenStats`. */
export type BatchNormLayerArgs = Parameters<typeof tf.layers.batchNormalization>[0] & {
  /**
   * Normalise with the moving statistics in training too, and leave them as they are (gamma and beta
   * still train): a pretrained network fine-tuned on small batches of another domain sees in training
   * the function it is evaluated with. Defaults to false.
   */
  frozenStats?: boolean;
};

/**
 * BatchNormalization whose training pass runs through {@link batchNormTraining} (channels last, with
 * scale and center; otherwise tfjs' own). Takes `tf.layers.batchNormalization`'s options (momentum
 * defaults to 0.99, epsilon to 1e-3) and `frozenStats`; weights gamma, beta, moving_mean,
 * moving_variance as there, so Keras-converted weights load into it.
 */
export class BatchNormLayer extends BatchNormalizationBase {
  static className = "MatchlabBatchNormalization";
  readonly frozenStats: boolean;

  constructor(args: BatchNormLayerArgs = {}) {
    const { frozenStats = false, ...rest } = args;
    super(rest as tf.serialization.ConfigDict);
    this.frozenStats = frozenStats;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), frozenStats: this.frozenStats };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (this.frozenStats) return super.call(inputs, { ...kwargs, training: false } as never);
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const f = this as unknown as BatchNormFields;
    const lastAxis = f.axis === -1 || f.axis === x.rank - 1;
    if (kwargs?.training !== true || !lastAxis || !f.scale || !f.center || x.rank < 2 || x.dtype !== "float32") return super.call(inputs, kwargs as never);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, f.gamma.read() as tf.Tensor1D, f.beta.read() as tf.Tensor1D, f.epsilon);
      // moving averages as tfjs-layers updates them: v ← v − (v − batch)·(1 − momentum)
      for (const [variable, value] of [
        [f.movingMean, mean],
        [f.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          variable.write(tf.sub(variable.read(), tf.mul(tf.sub(variable.read(), value), 1 - f.momentum)));
        });
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}
tf.serialization.registerClass(BatchNormLayer as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
