/**
 * The wasm training kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks (or runs slowly), so that a
 * full training step of matchlab's models (conv nets, MobileNetV2-style depthwise nets, embedding
 * lookups, GeM pooling, margin heads) runs on WebAssembly, and runs fast.
 *
 * Where matchlab's SIMD kernels load (simd_kernels.ts; `MATCHLAB_WASM_SIMD=off` turns them off) the
 * heavy work runs on them, in place on the wasm heap and split across threads on the threaded build:
 * - Conv2D / FusedConv2D (bias, ReLU; Co % 8 == 0, Ci ≥ 8): 4-pixel × 8-channel multiply-add tiles
 *   over a zero-padded input and a filter packed in 8-channel panels;
 * - Conv2DBackpropInput: the same conv over the (zero-dilated) output gradient, the filter packed
 *   flipped and in/out-swapped on the fly;
 * - Conv2DBackpropFilter (Co % 4 == 0): rank updates dW[tap] += xᵀ·dy over each output row's valid span,
 *   read straight from NHWC x and dy (no im2col, no transposes, no matmul packing of dy);
 * - BatchMatMul / _FusedMatMul (rank 2 or batch 1): GEMM kernels, A·B and Aᵀ·B on 4×8 register tiles
 *   over packed A panels and B strips (bias, ReLU), A·Bᵀ as k-blocked dot products in 4×2 tiles;
 * - DepthwiseConv2dNativeBackpropFilter (multiplier 1), MaxPoolGrad (2×2/2), Sum/Mean over leading
 *   axes, Add/Sub/Multiply/RealDiv/Minimum/Maximum with a same-shape, row or scalar operand, and the
 *   fused ops' kernels (MatchlabReluGradBias, MatchlabRelu6Grad, MatchlabColSums2, MatchlabAffine,
 *   MatchlabAdamStep: one Adam / AdamW update per parameter in one pass), and Exp (softmax and its
 *   cross-entropy) as a SIMD range reduction and polynomial.
 * Otherwise (or for shapes they do not take) the composites below run:
 * - Conv2DBackpropFilter: dW = im2col(x)ᵀ · dy as one XNNPACK matmul (in batch chunks when the im2col
 *   block would pass 64 MiB; a 1×1 stride-1 conv's im2colᵀ is x transposed).
 * - Conv2DBackpropInput (replaces wasm's naive loop): a stride-1 convolution of the zero-dilated output
 *   gradient with the rotated, in/out-swapped filter.
 * - DepthwiseConv2dNativeBackpropInput: the same with wasm's depthwise conv (channel multiplier 1;
 *   a loop otherwise).
 * - DepthwiseConv2dNativeBackpropFilter, UnsortedSegmentSum, MaxPoolGrad, Sum, Mean: loops over the heap.
 * - BatchMatMul (wrapped): transposed operands are transposed first, so the product takes XNNPACK's
 *   fast path instead of wasm's naive loop (dy·Wᵀ for a 64×3129 by 512×3129 dense gradient: 136 → 33
 *   CPU ms, transpose included).
 * - Tile (BatchNorm's gradient tiles [1,1,1,C] to a whole activation) as block copies; Identity and a
 *   Cast to the same dtype share data instead of copying (as the cpu backend does).
 */
import * as tf from "@tensorflow/tfjs";
import { ADAM_STEP, AFFINE, COL_SUMS2, RELU_GRAD_BIAS, RELU6_GRAD } from "./fused_ops";
import { BACKEND, base, type KernelFn, original } from "./wasm_base";
import { conv2D, conv2DBackpropFilter, conv2DBackpropInput, depthwiseBackpropFilter, depthwiseBackpropInput, fusedConv2D, maxPoolGrad } from "./wasm_conv";
import { adamStepKernel, affine, BINARY_OPS, batchMatMul, binaryKernel, cast, colSums2, exp, fusedMatMul, identity, mean, relu6Grad, reluGradBias, sum, tile, unsortedSegmentSum } from "./wasm_math";
/** The kernels this module registers (or wraps) on the wasm backend, by tfjs kernel name. */
export const WASM_TRAINING_KERNELS: readonly string[] = Object.freeze([
  "Conv2D",
  "_FusedMatMul",
  "FusedConv2D",
  "Conv2DBackpropFilter",
  "Conv2DBackpropInput",
  "DepthwiseConv2dNativeBackpropFilter",
  "DepthwiseConv2dNativeBackpropInput",
  "UnsortedSegmentSum",
  "BatchMatMul",
  "MaxPoolGrad",
  "Sum",
  "Identity",
  "Mean",
  "Tile",
  "Cast",
  "Exp",
  RELU_GRAD_BIAS,
  RELU6_GRAD,
  COL_SUMS2,
  AFFINE,
  ADAM_STEP,
  ...Object.keys(BINARY_OPS),
]);

let registered = false;

/**
 * Registers matchlab's wasm training kernels (idempotent). Call after importing
 * `@tensorflow/tfjs-backend-wasm`; {@link initBackend} does this for you.
 */
export function registerWasmTrainingKernels(): readonly string[] {
  if (registered) return WASM_TRAINING_KERNELS;
  Object.assign(base, {
    binary: Object.fromEntries(Object.keys(BINARY_OPS).map((k) => [k, original(k)])),
    conv2d: original("Conv2D"),
    fusedMatMul: original("_FusedMatMul"),
    fusedConv2d: original("FusedConv2D"),
    depthwise: original("DepthwiseConv2dNative"),
    transpose: original("Transpose"),
    reverse: original("Reverse"),
    pad: original("PadV2"),
    slice: original("Slice"),
    reshape: original("Reshape"),
    batchMatMul: original("BatchMatMul"),
    sum: original("Sum"),
    identity: original("Identity"),
    mean: original("Mean"),
    tile: original("Tile"),
    cast: original("Cast"),
    exp: original("Exp"),
  });
  const table: Record<string, KernelFn> = {
    Conv2D: conv2D,
    _FusedMatMul: fusedMatMul,
    FusedConv2D: fusedConv2D,
    Conv2DBackpropFilter: conv2DBackpropFilter,
    Conv2DBackpropInput: conv2DBackpropInput,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
    UnsortedSegmentSum: unsortedSegmentSum,
    BatchMatMul: batchMatMul,
    MaxPoolGrad: maxPoolGrad,
    Sum: sum,
    Identity: identity,
    Mean: mean,
    Tile: tile,
    Cast: cast,
    Exp: exp,
    [RELU_GRAD_BIAS]: reluGradBias as unknown as KernelFn,
    [RELU6_GRAD]: relu6Grad,
    [COL_SUMS2]: colSums2 as unknown as KernelFn,
    [AFFINE]: affine,
    [ADAM_STEP]: adamStepKernel as unknown as KernelFn,
    ...Object.fromEntries(Object.keys(BINARY_OPS).map((k) => [k, binaryKernel(k)])),
  };
  for (const name of WASM_TRAINING_KERNELS) {
    const prev = tf.getKernel(name, BACKEND);
    if (prev) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      kernelFunc: table[name] as unknown as tf.KernelFunc,
      // keep the original's setup (it binds the wasm function the wrapped kernel calls)
      ...(prev?.setupFunc ? { setupFunc: prev.setupFunc } : {}),
    });
  }
  registered = true;
  return WASM_TRAINING_KERNELS;
}
