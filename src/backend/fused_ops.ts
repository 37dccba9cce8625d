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
 * - BatchNorm in training ({@link batchNormTraining}): tfjs-layers computes the moments, normalises and
 *   back-propagates through both with ~15 passes over the activation per layer; here the moments are
 *   one pass (Σx, Σx² in float64), the normalisation one (y = scale·x + shift), and the gradient two
 *   (Σdy, Σdy·x, then dx = k1·dy + k2·x + k3 from the closed form).
 * - One Adam / AdamW update ({@link adamStep}): the weight and both moments in one pass over each
 *   parameter (`MatchlabAdamStep`) instead of ~15 element-wise kernels.
 * The kernels are registered on wasm (SIMD); other backends compose them from tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";

/** The kernel that returns [dy·(y > 0), Σ over N,H,W of that] for a ReLU output y; see wasm_kernels. */
export const RELU_GRAD_BIAS = "MatchlabReluGradBias";

/** The kernel that returns dy where 0 < x ≤ 6, else 0 (ReLU6's gradient); see wasm_kernels. */
export const RELU6_GRAD = "MatchlabRelu6Grad";

/** The kernel that returns [Σ u, Σ u·v] over all but the last axis (v defaults to u); see wasm_kernels. */
export const COL_SUMS2 = "MatchlabColSums2";

/** The kernel that returns p·u + q·v + r per channel of the last axis (v, q optional); see wasm_kernels. */
export const AFFINE = "MatchlabAffine";

/** The kernel that returns [w, m, v] after one Adam / AdamW update; see {@link adamStep} and wasm_kernels. */
export const ADAM_STEP = "MatchlabAdamStep";

/** The scalars of one Adam / AdamW update ({@link adamStep}); every field is required. */
export interface AdamStepScalars {
  /** First-moment decay β1. */
  beta1: number;
  /** Second-moment decay β2. */
  beta2: number;
  /** Bias corrections 1 − β1^t and 1 − β2^t. */
  bc1: number;
  bc2: number;
  /** Added to the root of the second moment. */
  epsilon: number;
  /** The step's learning rate (group LR × schedule factor). */
  lr: number;
  /** Adam's L2 weight decay, added to the gradient (0 for none). */
  l2: number;
  /** AdamW's decoupled weight decay, added to the update (0 for none). */
  decay: number;
}

/**
 * One Adam / AdamW update of a parameter w with gradient g and moments m, v; returns the new [w, m, v]
 * (new tensors, the caller assigns them):
 *   g' = g + l2·w;  m = β1·m + (1−β1)·g';  v = β2·v + (1−β2)·g'²;
 *   w = w − lr·((m / bc1) / (√(v / bc2) + ε) + decay·w).
 * On wasm one SIMD pass (the same float32 operations in the same order, so the same numbers); elsewhere
 * those tfjs ops.
 */
export function adamStep(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamStepScalars): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (has(ADAM_STEP) && w.dtype === "float32" && g.dtype === "float32") {
    return tf.engine().runKernel(ADAM_STEP, { w, g, m, v }, { ...s } as never) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const gg = s.l2 > 0 ? g.add(w.mul(s.l2)) : g;
    const m2 = m.mul(s.beta1).add(gg.mul(1 - s.beta1));
    const v2 = v.mul(s.beta2).add(gg.square().mul(1 - s.beta2));
    let upd = m2.div(s.bc1).div(v2.div(s.bc2).sqrt().add(s.epsilon));
    if (s.decay > 0) upd = upd.add(w.mul(s.decay));
    return [w.sub(upd.mul(s.lr)), m2, v2];
  });
}

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

/** Whether the current backend has this (matchlab) kernel; otherwise the ops below compose it. */
const has = (kernel: string) => tf.getKernel(kernel, tf.getBackend()) !== undefined;

/** The ReLU (or identity) gradient and the bias gradient, on any backend. */
function actAndBiasGrad(dy: tf.Tensor4D, y: tf.Tensor4D, relu: boolean): [tf.Tensor4D, tf.Tensor1D] {
  if (relu && has(RELU_GRAD_BIAS)) {
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
        if (has(RELU6_GRAD)) return tf.engine().runKernel(RELU6_GRAD, { dy, x: sx }, {}) as tf.Tensor;
        return tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(sx, 0), tf.lessEqual(sx, 6)), "float32"));
      },
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])(x) as T;
}

/** [Σ u, Σ u·v] over all but the last axis. */
function colSums2(u: tf.Tensor, v: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  if (has(COL_SUMS2)) return tf.engine().runKernel(COL_SUMS2, { u, v }, {}) as unknown as [tf.Tensor1D, tf.Tensor1D];
  const axes = u.shape.slice(0, -1).map((_, i) => i);
  return [tf.sum(u, axes) as tf.Tensor1D, tf.sum(tf.mul(u, v), axes) as tf.Tensor1D];
}

/** p·u + r, or p·u + q·v + r, per channel of the last axis. */
function affine(u: tf.Tensor, p: tf.Tensor1D, r: tf.Tensor1D, v?: tf.Tensor, q?: tf.Tensor1D): tf.Tensor {
  if (has(AFFINE)) return tf.engine().runKernel(AFFINE, v ? { u, p, r, v, q: q! } : { u, p, r }, {}) as tf.Tensor;
  const pu = tf.add(tf.mul(u, p), r);
  return v ? tf.add(pu, tf.mul(v, q!)) : pu;
}

/** What {@link batchNormTraining} returns. */
export interface BatchNormTraining {
  /** The normalised, scaled and shifted input (gradients flow to x, gamma and beta). */
  y: tf.Tensor;
  /** The batch mean per channel (no gradient: for the moving averages). */
  mean: tf.Tensor1D;
  /** The biased batch variance per channel (no gradient: for the moving averages). */
  variance: tf.Tensor1D;
}

/**
 * Batch normalisation in training over the last axis of x (channels last): y = γ·(x − μ)/√(σ² + ε) + β
 * with the batch's μ and (biased) σ², and the closed-form gradient (see the module comment). The same
 * values and gradients as tfjs-layers' BatchNormalization in training; mean and variance come back
 * for the moving averages (the caller disposes them).
 * @example
 * const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-3);
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTraining {
  const c = x.shape[x.shape.length - 1]!;
  if (x.rank < 2 || gamma.size !== c || beta.size !== c) throw new Error(`batchNormTraining: x [..., C] with gamma and beta [C], got [${x.shape}], [${gamma.shape}], [${beta.shape}]`);
  const n = x.size / c;
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const forward = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [s1, s2] = colSums2(xx, xx);
    const mean = tf.div(s1, n) as tf.Tensor1D;
    const variance = tf.relu(tf.sub(tf.div(s2, n), tf.square(mean))) as tf.Tensor1D; // E[x²] − μ² (float64 sums)
    const rstd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
    const scale = tf.mul(g, rstd) as tf.Tensor1D;
    const y = affine(xx, scale, tf.sub(b, tf.mul(mean, scale)) as tf.Tensor1D);
    save([xx, g, mean, rstd]);
    stats = [tf.keep(mean), tf.keep(variance)];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, mu, rs] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const [dbeta, sdx] = colSums2(dy, sx);
        // Σ dy·x̂ = rstd·(Σ dy·x − μ·Σ dy)
        const dgamma = tf.mul(rs, tf.sub(sdx, tf.mul(mu, dbeta))) as tf.Tensor1D;
        // dx = γ·rstd·(dy − Σdy/N − x̂·Σdy·x̂/N) = k1·dy + k2·x + k3
        const k1 = tf.mul(sg, rs) as tf.Tensor1D;
        const k2 = tf.neg(tf.div(tf.mul(tf.mul(k1, rs), dgamma), n)) as tf.Tensor1D;
        const k3 = tf.sub(tf.neg(tf.div(tf.mul(k1, dbeta), n)), tf.mul(k2, mu)) as tf.Tensor1D;
        return [affine(dy, k1, k3, sx, k2), dgamma, dbeta];
      },
    };
  };
  const y = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0])(x, gamma, beta);
  const [mean, variance] = stats!;
  return { y, mean, variance };
}
