/**
 * Ops that stay fused while training, each with its own gradient:
 * - conv2d + bias + ReLU ({@link conv2dBiasAct}). tfjs-core fuses a conv with its bias and activation
 *   only when no gradient is being recorded, so a training step otherwise runs Conv2D, Add and Relu
 *   forward and Step, Multiply and Sum backward, each a full pass over the activation. Here the
 *   forward pass is one FusedConv2D kernel and the backward pass one ReLU-and-bias gradient kernel
 *   (`MatchlabReluGradBias`) before the two convolution gradients.
 * - ReLU6 ({@link relu6Fused}): tfjs-layers' "relu6" is minimum(6, relu(x)), two kernels forward and
 *   five backward (Greater, Cast, Multiply, Step, Multiply, two of them on bool tensors); here one
 *   Relu6 kernel forward and one masked copy (`MatchlabRelu6Grad`) backward.
 * The gradient kernels are registered on wasm (SIMD); other backends compose them from tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";

/** The kernel that returns [dy·(y > 0), Σ over N,H,W of that] for a ReLU output y; see wasm_kernels. */
export const RELU_GRAD_BIAS = "MatchlabReluGradBias";

/** The kernel that returns dy where 0 < x ≤ 6, else 0 (ReLU6's gradient); see wasm_kernels. */
export const RELU6_GRAD = "MatchlabRelu6Grad";

/** Options for {@link conv2dBiasAct}. */
export interface Conv2dBiasActOptions {
  /** Strides [h, w] (or one number for both). Defaults to 1. */
  strides?: number | [number, number];
  /** "same" or "valid" padding. Defaults to "same". */
  pad?: "same" | "valid";
  /** Dilations [h, w] (or one number). Defaults to 1. Above 1 the op is not fused (tfjs has no dilated conv gradients). */
  dilations?: number | [number, number];
  /** Activation after the bias. Defaults to "linear". */
  activation?: "relu" | "linear";
}

/** The ReLU (or identity) gradient and the bias gradient, on any backend. */
function actAndBiasGrad(dy: tf.Tensor4D, y: tf.Tensor4D, relu: boolean): [tf.Tensor4D, tf.Tensor1D] {
  if (relu && tf.getKernel(RELU_GRAD_BIAS, tf.getBackend())) {
    const [dz, db] = tf.engine().runKernel(RELU_GRAD_BIAS, { dy, y }, {}) as unknown as [tf.Tensor4D, tf.Tensor1D];
    return [dz, db];
  }
  const dz = relu ? (tf.mul(dy, tf.step(y)) as tf.Tensor4D) : dy;
  return [dz, tf.sum(dz, [0, 1, 2]) as tf.Tensor1D];
}

/**
 * The gradient of a FusedConv2D with a linear or ReLU activation (tfjs-core registers none: its fused
 * ops wrap the kernel in customGrad). Registered once, on first use. The activation-and-bias pass runs
 * at once; each convolution gradient only when its input needs one (not the image of a first layer).
 */
function ensureGradient(): void {
  if (tf.getGradient("FusedConv2D")) return;
  tf.registerGradient({
    kernelName: "FusedConv2D",
    inputsToSave: ["x", "filter"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = attrs as Record<string, unknown>;
      if (activation !== "relu" && activation !== "linear") throw new Error(`FusedConv2D gradient: activation ${String(activation)} is not supported (relu or linear)`);
      const d = (dilations ?? [1, 1]) as number | number[];
      if (!(d === 1 || (Array.isArray(d) && d.every((v) => v === 1)))) throw new Error("FusedConv2D gradient: dilations above 1 are not supported");
      const [dz, db] = actAndBiasGrad(dy as tf.Tensor4D, y, activation === "relu");
      const conv = { strides, pad, dataFormat, dimRoundingMode } as Record<string, unknown>;
      return {
        x: () => tf.engine().runKernel("Conv2DBackpropInput", { dy: dz, filter }, { ...conv, inputShape: x.shape } as never) as tf.Tensor,
        filter: () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy: dz }, { ...conv, filterShape: filter.shape } as never) as tf.Tensor,
        bias: () => db,
      };
    },
  });
}

/**
 * y = act(conv2d(x, filter) + bias) for NHWC x [N,H,W,Ci], filter [fh,fw,Ci,Co], bias [Co], fused in
 * training as well as inference (see the module comment). Gradients flow to all three inputs.
 * @example
 * const y = conv2dBiasAct(x, w, b, { activation: "relu" }); // inside tf.variableGrads / minimize
 */
export function conv2dBiasAct(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, opts: Conv2dBiasActOptions = {}): tf.Tensor4D {
  const { strides = 1, pad = "same", dilations = 1, activation = "linear" } = opts;
  if (activation !== "relu" && activation !== "linear") throw new Error(`conv2dBiasAct: activation must be "relu" or "linear", got ${String(activation)}`);
  const d = typeof dilations === "number" ? [dilations, dilations] : dilations;
  if (d[0] !== 1 || d[1] !== 1) return tf.fused.conv2d({ x, filter, bias, strides, pad, dilations, activation });
  ensureGradient();
  const s = typeof strides === "number" ? [strides, strides] : strides;
  return tf.engine().runKernel("FusedConv2D", { x, filter, bias }, { strides: s, pad, dataFormat: "NHWC", dilations: [1, 1], activation }) as tf.Tensor4D;
}

/**
 * ReLU6, min(max(x, 0), 6), as one kernel forward and one masked copy backward (see the module
 * comment); the same values and gradient as tfjs' relu6.
 * @example
 * const h = relu6Fused(bn);  // inside a training step
 */
export function relu6Fused<T extends tf.Tensor>(x: T): T {
  const f = (xx: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xx]);
    return {
      value: tf.relu6(xx),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx] = saved as [tf.Tensor];
        if (tf.getKernel(RELU6_GRAD, tf.getBackend())) return tf.engine().runKernel(RELU6_GRAD, { dy, x: sx }, {}) as tf.Tensor;
        return tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(sx, 0), tf.lessEqual(sx, 6)), "float32"));
      },
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])(x) as T;
}
