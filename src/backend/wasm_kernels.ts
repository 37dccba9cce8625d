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
 * - BatchMatMul / _FusedMatMul (rank 2 or batch 1): A·B and A·Bᵀ as a 1×1 conv, Aᵀ·B as rank updates;
 * - DepthwiseConv2dNativeBackpropFilter (multiplier 1), MaxPoolGrad (2×2/2), Sum/Mean over leading
 *   axes, Add/Sub/Multiply/RealDiv/Minimum/Maximum with a same-shape, row or scalar operand, and the
 *   fused ops' kernels (MatchlabReluGradBias, MatchlabRelu6Grad, MatchlabColSums2, MatchlabAffine).
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
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { AFFINE, COL_SUMS2, RELU_GRAD_BIAS, RELU6_GRAD } from "./fused_ops";
import { heapOffset, type SimdKernels, simdKernels, splitRange, withScratch } from "./simd_kernels";

type Info = tf.TensorInfo;
type KernelFn = (args: { inputs: Record<string, Info>; backend: BackendWasm; attrs?: Record<string, unknown> }) => Info;
type Pad = "same" | "valid" | number | number[][];

const BACKEND = "wasm";

/** The original wasm kernels this module composes from (captured before any override). */
interface Base {
  binary: Record<string, KernelFn>;
  conv2d: KernelFn;
  fusedMatMul: KernelFn;
  fusedConv2d: KernelFn;
  depthwise: KernelFn;
  transpose: KernelFn;
  reverse: KernelFn;
  pad: KernelFn;
  slice: KernelFn;
  reshape: KernelFn;
  batchMatMul: KernelFn;
  sum: KernelFn;
  identity: KernelFn;
  mean: KernelFn;
  tile: KernelFn;
  cast: KernelFn;
}

let base: Base | undefined;

/** Least work per thread before a SIMD kernel is split: multiply-adds of a convolution, elements of a memory-bound pass. */
const MIN_MACS_PER_THREAD = 1 << 22;
const MIN_ELEMENTS_PER_THREAD = 1 << 18;

function original(name: string): KernelFn {
  const k = tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`wasm kernel ${name} is not registered: is @tensorflow/tfjs-backend-wasm imported?`);
  return k.kernelFunc as unknown as KernelFn;
}

/** Runs `f` with a list that collects intermediates, disposing them afterwards (the result is kept). */
function scoped(backend: BackendWasm, f: (keep: (t: Info) => Info) => Info): Info {
  const temps: Info[] = [];
  try {
    return f((t) => {
      temps.push(t);
      return t;
    });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return base!.transpose({ inputs: { x }, backend, attrs: { perm } });
}

function reshape(backend: BackendWasm, x: Info, shape: number[]): Info {
  return base!.reshape({ inputs: { x }, backend, attrs: { shape } });
}

/** Pads (positive) or crops (negative) the two spatial dims of an NHWC tensor. */
function padOrCrop(backend: BackendWasm, x: Info, top: number, bottom: number, left: number, right: number, keep: (t: Info) => Info): Info {
  let cur = x;
  const [n, h, w, c] = cur.shape as [number, number, number, number];
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t0 = Math.max(0, -top);
    const l0 = Math.max(0, -left);
    const hh = h - t0 - Math.max(0, -bottom);
    const ww = w - l0 - Math.max(0, -right);
    cur = keep(base!.slice({ inputs: { x: cur }, backend, attrs: { begin: [0, t0, l0, 0], size: [n, hh, ww, c] } }));
  }
  const pt = Math.max(0, top);
  const pb = Math.max(0, bottom);
  const pl = Math.max(0, left);
  const pr = Math.max(0, right);
  if (pt + pb + pl + pr > 0) {
    cur = keep(
      base!.pad({
        inputs: { x: cur },
        backend,
        attrs: {
          paddings: [
            [0, 0],
            [pt, pb],
            [pl, pr],
            [0, 0],
          ],
          constantValue: 0,
        },
      }),
    );
  }
  return cur;
}

/** Inserts `s - 1` zeros after each row/column of an NHWC tensor: [N,H,W,C] → [N,H*sh,W*sw,C]. */
function zeroDilate(backend: BackendWasm, dy: Info, sh: number, sw: number, keep: (t: Info) => Info): Info {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape as [number, number, number, number];
  const r = keep(reshape(backend, dy, [n, h, 1, w, 1, c]));
  const p = keep(
    base!.pad({
      inputs: { x: r },
      backend,
      attrs: {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    }),
  );
  return keep(reshape(backend, p, [n, h * sh, w * sw, c]));
}

function convInfo(xShape: number[], filterShape: number[], strides: unknown, dilations: unknown, pad: unknown, dimRoundingMode: unknown, depthwise: boolean) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides as [number, number],
    (dilations ?? 1) as [number, number],
    pad as Pad as "same",
    dimRoundingMode as "floor" | undefined,
    depthwise,
    "channelsLast",
  );
}

function checkChannelsLast(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC" && dataFormat !== "channelsLast") {
    throw new Error(`wasm ${kernel}: dataFormat ${String(dataFormat)} is not supported (expected NHWC)`);
  }
}

/** Zero-pads the two spatial dims of an NHWC tensor (row copies; wasm's PadV2 is a per-element loop). */
function padSpatial(backend: BackendWasm, x: Info, top: number, bottom: number, left: number, right: number): Info {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const hp = h + top + bottom;
  const wp = w + left + right;
  const out = backend.makeOutput([n, hp, wp, c], "float32");
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  o.fill(0);
  const row = w * c;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const src = (b * h + y) * row;
      o.set(xv.subarray(src, src + row), ((b * hp + y + top) * wp + left) * c);
    }
  }
  return out;
}

/**
 * Packs a filter into the SIMD conv's panels of 8 output channels, [⌈cout/8⌉][fh·fw·cin][8]. `flipped`
 * packs the filter of the input gradient instead: W'[a,e,k,c] = W[fh−1−a, fw−1−e, c, k] for the
 * original W [fh, fw, cout, cin] (spatially reversed, in/out swapped), without building W'.
 */
function packFilter(fv: Float32Array, fh: number, fw: number, cin: number, cout: number, out: Float32Array, flipped: boolean): void {
  let o = 0;
  for (let nb = 0; nb < cout; nb += 8) {
    const width = Math.min(8, cout - nb); // the last panel is zero-padded when cout % 8 != 0
    for (let a = 0; a < fh; a++) {
      for (let e = 0; e < fw; e++) {
        for (let c = 0; c < cin; c++, o += 8) {
          if (!flipped) {
            const src = ((a * fw + e) * cin + c) * cout + nb;
            for (let q = 0; q < width; q++) out[o + q] = fv[src + q]!;
          } else {
            const src = ((fh - 1 - a) * fw + (fw - 1 - e)) * cout * cin + nb * cin + c;
            for (let q = 0; q < width; q++) out[o + q] = fv[src + q * cin]!;
          }
          for (let q = width; q < 8; q++) out[o + q] = 0;
        }
      }
    }
  }
}

/**
 * A convolution on the SIMD kernel: the input is zero-padded once, the filter packed (see
 * {@link packFilter}), then every output row is cut into 4-pixel × 8-channel tiles of multiply-adds,
 * with the bias and ReLU applied on the way out; images are split across threads. When Co is not a
 * multiple of 8 the filter and bias are zero-padded to one and the output is computed into a padded
 * block, then copied out.
 */
function convSimd(backend: BackendWasm, simd: SimdKernels, x: Info, filter: Info, flipped: boolean, bias: Info | undefined, info: tf.backend_util.Conv2DInfo, relu: boolean): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, outHeight: ho, outWidth: wo, filterHeight: fh, filterWidth: fw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const co8 = (co + 7) & ~7;
  const out = backend.makeOutput([n, ho, wo, co], "float32");
  scoped(backend, (keep) => {
    const xp = top + bottom + left + right > 0 ? keep(padSpatial(backend, x, top, bottom, left, right)) : x;
    const packed = keep(backend.makeOutput([co8 / 8, fh * fw * ci, 8], "float32"));
    packFilter(backend.typedArrayFromHeap(filter) as Float32Array, fh, fw, ci, co, backend.typedArrayFromHeap(packed) as Float32Array, flipped);
    const padded = co8 === co ? out : keep(backend.makeOutput([n, ho, wo, co8], "float32"));
    let biasOff = bias ? heapOffset(backend, bias) : 0;
    if (bias && co8 !== co) {
      const b8 = keep(backend.makeOutput([co8], "float32"));
      const bv = backend.typedArrayFromHeap(b8) as Float32Array;
      bv.fill(0);
      bv.set(backend.typedArrayFromHeap(bias) as Float32Array);
      biasOff = heapOffset(backend, b8);
    }
    const hp = h + top + bottom;
    const wp = w + left + right;
    const xpOff = heapOffset(backend, xp);
    const outOff = heapOffset(backend, padded);
    const packedOff = heapOffset(backend, packed);
    const geometry = [co8, fh, fw, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, relu ? 1 : 0];
    const threads = simd.threadsFor(n * ho * wo * co8 * fh * fw * ci, MIN_MACS_PER_THREAD);
    if (fh === 1 && fw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && hp === ho && wp === wo) {
      // pointwise: all n·h·w pixels as one row (no tile is cut short by a narrow image), split across threads
      simd.run(
        splitRange(n * ho * wo, threads).map(([m0, m1]) => ({
          fn: "conv2d",
          args: [xpOff + m0 * ci * 4, 1, m1 - m0, ci, packedOff, biasOff, outOff + m0 * co8 * 4, 1, 1, m1 - m0, ...geometry],
        })),
      );
    } else {
      simd.run(
        splitRange(n, threads).map(([b0, b1]) => ({
          fn: "conv2d",
          args: [xpOff + b0 * hp * wp * ci * 4, hp, wp, ci, packedOff, biasOff, outOff + b0 * ho * wo * co8 * 4, b1 - b0, ho, wo, ...geometry],
        })),
      );
    }
    if (padded !== out) {
      const src = backend.typedArrayFromHeap(padded) as Float32Array;
      const dst = backend.typedArrayFromHeap(out) as Float32Array;
      for (let p = 0, pixels = n * ho * wo; p < pixels; p++) dst.set(src.subarray(p * co8, p * co8 + co), p * co);
    }
    return out;
  });
  return out;
}

/**
 * Whether a Conv2D with this geometry and dtypes runs on the SIMD kernel: Co a multiple of 8 or at
 * least 32 (padding to 8 then wastes < 1/5), and at least 8 input channels (with fewer, e.g. an RGB
 * stem, the inner loop is too short and XNNPACK wins).
 */
function simdConvFits(x: Info, filter: Info, info: tf.backend_util.Conv2DInfo): boolean {
  const co = info.outChannels;
  return x.dtype === "float32" && filter.dtype === "float32" && (co % 8 === 0 || co >= 32) && info.inChannels >= 8 && info.outHeight > 0 && info.outWidth > 0 && info.inHeight > 0 && info.inWidth > 0;
}

const conv2D: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { x, filter } = inputs as { x: Info; filter: Info };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as Record<string, unknown>;
  const simd = simdKernels(backend);
  if (!simd || (dataFormat !== undefined && dataFormat !== "NHWC")) return base!.conv2d(args);
  const info = convInfo(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
  return simdConvFits(x, filter, info) ? convSimd(backend, simd, x, filter, false, undefined, info, false) : base!.conv2d(args);
};

const fusedConv2D: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { x, filter, bias, preluActivationWeights } = inputs as { x: Info; filter: Info; bias?: Info; preluActivationWeights?: Info };
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = attrs as Record<string, unknown>;
  const simd = simdKernels(backend);
  const act = activation ?? "linear";
  if (!simd || preluActivationWeights || (act !== "linear" && act !== "relu") || (dataFormat !== undefined && dataFormat !== "NHWC")) return base!.fusedConv2d(args);
  const info = convInfo(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
  const biasFits = !bias || (bias.shape.length === 1 && bias.shape[0] === info.outChannels && bias.dtype === "float32");
  if (!biasFits || !simdConvFits(x, filter, info)) return base!.fusedConv2d(args);
  return convSimd(backend, simd, x, filter, false, bias, info, act === "relu");
};

/**
 * Gradient w.r.t. the input of a (depthwise) convolution as a stride-1 convolution of the zero-dilated
 * output gradient with the spatially flipped filter.
 */
function backpropInputByConv(backend: BackendWasm, dy: Info, info: tf.backend_util.Conv2DInfo, keep: (t: Info) => Info, conv: (x: Info, pad: number[][]) => Info): Info {
  const { strideHeight: sh, strideWidth: sw, inHeight, inWidth, effectiveFilterHeight: efh, effectiveFilterWidth: efw } = info;
  const d = zeroDilate(backend, dy, sh, sw, keep);
  const L = d.shape[1] as number;
  const Lw = d.shape[2] as number;
  const top = efh - 1 - info.padInfo.top;
  const left = efw - 1 - info.padInfo.left;
  const bottom = inHeight - L - top + efh - 1;
  const right = inWidth - Lw - left + efw - 1;
  // Crop the part of the padding that is negative; the rest is passed to the conv as explicit padding.
  const cropped = padOrCrop(backend, d, Math.min(0, top), Math.min(0, bottom), Math.min(0, left), Math.min(0, right), keep);
  const pad = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  return conv(cropped, pad);
}

/** Runs a stride-1 (depthwise) conv with explicit padding on wasm's own kernels. */
function baseConv(backend: BackendWasm, filter: Info, info: tf.backend_util.Conv2DInfo, depthwise: boolean): (x: Info, pad: number[][]) => Info {
  const k = depthwise ? base!.depthwise : conv2D;
  return (x, pad) => k({ inputs: { x, filter }, backend, attrs: { strides: [1, 1], pad, dilations: [info.dilationHeight, info.dilationWidth], dataFormat: "NHWC" } });
}

const conv2DBackpropInput: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as Record<string, unknown>;
  checkChannelsLast(dataFormat, "Conv2DBackpropInput");
  const info = convInfo(inputShape as number[], filter.shape, strides, 1, pad, dimRoundingMode, false);
  const { filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co } = info;
  const simd = simdKernels(backend);
  return scoped(backend, (keep) =>
    backpropInputByConv(backend, dy, info, keep, (x, p) => {
      const cinfo = convInfo(x.shape, [fh, fw, co, ci], [1, 1], 1, p, undefined, false);
      // the SIMD conv packs the flipped, in/out-swapped filter itself
      if (simd && simdConvFits(x, filter, cinfo)) return convSimd(backend, simd, x, filter, true, undefined, cinfo, false);
      return baseConv(backend, flippedFilter(backend, filter, keep), info, false)(x, p);
    }),
  );
};

/** W [fh,fw,Ci,Co] → reversed spatially, in/out swapped: [fh,fw,Co,Ci]. */
function flippedFilter(backend: BackendWasm, filter: Info, keep: (t: Info) => Info): Info {
  const rev = keep(base!.reverse({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
  return keep(transpose(backend, rev, [0, 1, 3, 2]));
}

/**
 * Writes the transposed im2col matrix of images [b0, b1) of `xt` ([Ci,N,H,W], channels first) into
 * `out`, [K, M] with K = fh·fw·Ci (row (a,e,c), the filter's [fh,fw,Ci] order) and M = (b1−b0)·Ho·Wo
 * (dy's row order); taps that fall on padding are zero. Reads and writes run along W.
 */
function im2colT(xt: Float32Array, out: Float32Array, info: tf.backend_util.Conv2DInfo, b0: number, b1: number): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Stride 1 with Wo = W: the valid rows of one (tap, channel, image) are one shifted block of the
  // input plane, copied at once (memmove on the shared heap); the columns that fall on padding read a
  // neighbouring row and are zeroed after.
  const block = sh === 1 && sw === 1 && wo === w && xt.buffer === out.buffer;
  const heap = new Float32Array(out.buffer);
  const xtStart = xt.byteOffset >> 2;
  const xtEnd = xtStart + xt.length;
  const outStart = out.byteOffset >> 2;
  let o = 0;
  for (let a = 0; a < fh; a++) {
    const iMin = Math.min(ho, Math.max(0, Math.ceil((top - a * dh) / sh)));
    const iMax = Math.max(iMin, Math.min(ho, Math.floor((h - 1 + top - a * dh) / sh) + 1));
    for (let e = 0; e < fw; e++) {
      const dx = e * dw - left;
      const jMin = Math.min(wo, Math.max(0, Math.ceil(-dx / sw)));
      const jMax = Math.max(jMin, Math.min(wo, Math.floor((w - 1 - dx) / sw) + 1));
      for (let c = 0; c < ci; c++) {
        for (let b = b0; b < b1; b++) {
          const plane = (c * n + b) * h * w;
          if (block) {
            if (iMin > 0) out.fill(0, o, o + iMin * wo);
            if (iMax > iMin) {
              const s0 = xtStart + plane + (iMin * sh + a * dh - top) * w + dx;
              const s1 = s0 + (iMax - iMin) * w;
              const c0 = Math.max(s0, xtStart);
              const c1 = Math.min(s1, xtEnd);
              heap.copyWithin(outStart + o + iMin * wo + (c0 - s0), c0, c1);
              for (let i = iMin; i < iMax; i++) {
                const r = o + i * wo;
                for (let j = 0; j < jMin; j++) out[r + j] = 0;
                for (let j = jMax; j < wo; j++) out[r + j] = 0;
              }
            }
            if (iMax < ho) out.fill(0, o + iMax * wo, o + ho * wo);
            o += ho * wo;
            continue;
          }
          for (let i = 0; i < ho; i++) {
            const y = i * sh + a * dh - top;
            if (y < 0 || y >= h) {
              out.fill(0, o, o + wo);
              o += wo;
              continue;
            }
            const row = plane + y * w + dx;
            for (let j = 0; j < jMin; j++) out[o + j] = 0;
            if (sw === 1) {
              for (let j = jMin; j < jMax; j++) out[o + j] = xt[row + j]!;
            } else {
              for (let j = jMin; j < jMax; j++) out[o + j] = xt[row + j * sw]!;
            }
            for (let j = jMax; j < wo; j++) out[o + j] = 0;
            o += wo;
          }
        }
      }
    }
  }
}

/** Most floats one im2col block of the filter gradient holds (64 MiB); larger batches go in chunks. */
const COLS_LIMIT = 16 << 20;

/**
 * The filter gradient with the SIMD rank-update kernel, reading NHWC x and dy in place: for every
 * output row and tap, dW[tap] += Σ_t x[b, y, x₀ + t·sw, :]ᵀ · dy[b, i, j₀ + t, :] over the row's valid
 * span (taps that fall on padding are simply not visited): no im2col, no transposes. When Ci is not a
 * multiple of 4 the kernel reads Ci rounded up (into the next pixel) and the extra rows of the
 * accumulator are dropped.
 */
/** Pixels per block of a pointwise conv's filter gradient (their x and dy rows stay in L1/L2). */
const POINTWISE_BLOCK = 128;

function filterGradSimd(backend: BackendWasm, simd: SimdKernels, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const cp = (ci + 3) & ~3;
  const out = backend.makeOutput([fh, fw, ci, co], "float32");
  const xOff = heapOffset(backend, x);
  const dyOff = heapOffset(backend, dy);
  const size = fh * fw * cp * co; // one accumulator: [fh·fw][cp][co]
  // a pointwise conv over every pixel is one [M, Ci]ᵀ·[M, Co] product: split the pixels, not the images
  const pointwise = fh === 1 && fw === 1 && sh === 1 && sw === 1 && ho === h && wo === w && top === 0 && left === 0;
  const parts = splitRange(pointwise ? n * h * w : n, simd.threadsFor(n * ho * wo * fh * fw * ci * co, MIN_MACS_PER_THREAD)); // one accumulator per thread
  return withScratch(backend, parts.length * size * 4, (acc) => {
    simd.run(
      parts.map(([b0, b1], p) =>
        pointwise
          ? { fn: "rank_update_blocked", args: [xOff + b0 * ci * 4, ci * 4, dyOff + b0 * co * 4, co * 4, b1 - b0, cp, co, acc + p * size * 4, POINTWISE_BLOCK] }
          : { fn: "conv_filter_grad", args: [xOff, dyOff, acc + p * size * 4, b0, b1, h, w, ci, cp, ho, wo, co, fh, fw, sh, sw, dh, dw, top, left] },
      ),
    );
    const dW = backend.typedArrayFromHeap(out) as Float32Array;
    const sums = new Float32Array(dW.buffer, acc, parts.length * size);
    for (let p = 1; p < parts.length; p++) for (let q = 0; q < size; q++) sums[q] = sums[q]! + sums[p * size + q]!;
    if (cp === ci) dW.set(sums.subarray(0, size));
    else for (let t = 0; t < fh * fw; t++) dW.set(sums.subarray(t * cp * co, t * cp * co + ci * co), t * ci * co);
    return out;
  });
}

const conv2DBackpropFilter: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as Record<string, unknown>;
  checkChannelsLast(dataFormat, "Conv2DBackpropFilter");
  const info = convInfo(x.shape, filterShape as number[], strides, 1, pad, dimRoundingMode, false);
  const simd = simdKernels(backend);
  if (simd && info.outChannels % 4 === 0) return filterGradSimd(backend, simd, x, dy, info);
  const { batchSize: n, inChannels: ci, outChannels: co, filterHeight: fh, filterWidth: fw, outHeight: ho, outWidth: wo, inHeight: h, inWidth: w } = info;
  const k = fh * fw * ci;
  const rowsPer = ho * wo;
  const nb = Math.max(1, Math.min(n, Math.floor(COLS_LIMIT / (k * rowsPer))));
  // dW [fh·fw·Ci, Co] = im2col(x)ᵀ [K, M] · dy [M, Co]: XNNPACK matmuls with dy and dW in their own
  // layouts (a composite conv with batch and channels swapped ran at ~⅔ of the matmul's speed).
  return scoped(backend, (keep) => {
    const xt = keep(transpose(backend, x, [3, 0, 1, 2]));
    const dy3 = keep(reshape(backend, dy, [1, n * rowsPer, co]));
    const onePass = info.strideHeight === 1 && info.strideWidth === 1 && ho === h && wo === w && info.padInfo.top === 0 && info.padInfo.left === 0;
    if (nb >= n) {
      let cols: Info;
      if (fh === 1 && fw === 1 && onePass) {
        cols = keep(reshape(backend, xt, [1, k, n * rowsPer])); // a 1×1 conv's im2colᵀ is xᵀ itself
      } else {
        cols = keep(backend.makeOutput([1, k, n * rowsPer], "float32"));
        im2colT(backend.typedArrayFromHeap(xt) as Float32Array, backend.typedArrayFromHeap(cols) as Float32Array, info, 0, n);
      }
      const g = keep(base!.batchMatMul({ inputs: { a: cols, b: dy3 }, backend, attrs: { transposeA: false, transposeB: false } }));
      return reshape(backend, g, [fh, fw, ci, co]);
    }
    const acc = new Float32Array(k * co);
    for (let b0 = 0; b0 < n; b0 += nb) {
      const bn = Math.min(nb, n - b0);
      const cols = backend.makeOutput([1, k, bn * rowsPer], "float32");
      const chunk: Info[] = [cols];
      try {
        im2colT(backend.typedArrayFromHeap(xt) as Float32Array, backend.typedArrayFromHeap(cols) as Float32Array, info, b0, b0 + bn);
        const dyc = base!.slice({ inputs: { x: dy3 }, backend, attrs: { begin: [0, b0 * rowsPer, 0], size: [1, bn * rowsPer, co] } });
        chunk.push(dyc);
        const g = base!.batchMatMul({ inputs: { a: cols, b: dyc }, backend, attrs: { transposeA: false, transposeB: false } });
        chunk.push(g);
        const gv = backend.typedArrayFromHeap(g) as Float32Array;
        for (let q = 0; q < acc.length; q++) acc[q] = acc[q]! + gv[q]!;
      } finally {
        for (const t of chunk) backend.disposeData(t.dataId); // free each block before the next
      }
    }
    const out = backend.makeOutput([fh, fw, ci, co], "float32");
    (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
    return out;
  });
};

/** Reference loop for the depthwise input gradient (any channel multiplier). */
function depthwiseBackpropInputLoop(backend: BackendWasm, dy: Info, filter: Info, info: tf.backend_util.Conv2DInfo): Info {
  const out = backend.makeOutput(info.inShape.slice() as number[], "float32");
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const wv = backend.typedArrayFromHeap(filter) as Float32Array;
  dx.fill(0);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const m = co / c;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let a = 0; a < fh; a++) {
        const y = i * sh + a * dh - top;
        if (y < 0 || y >= h) continue;
        for (let j = 0; j < wo; j++) {
          const gBase = ((b * ho + i) * wo + j) * co;
          for (let e = 0; e < fw; e++) {
            const xx = j * sw + e * dw - left;
            if (xx < 0 || xx >= w) continue;
            const xBase = ((b * h + y) * w + xx) * c;
            const wBase = (a * fw + e) * c * m;
            for (let ch = 0; ch < c; ch++) {
              let s = 0;
              for (let q = 0; q < m; q++) s += g[gBase + ch * m + q]! * wv[wBase + ch * m + q]!;
              dx[xBase + ch] = dx[xBase + ch]! + s;
            }
          }
        }
      }
    }
  }
  return out;
}

const depthwiseBackpropInput: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as Record<string, unknown>;
  const info = convInfo(inputShape as number[], filter.shape, strides, dilations, pad, dimRoundingMode, true);
  if (filter.shape[3] !== 1) return depthwiseBackpropInputLoop(backend, dy, filter, info);
  return scoped(backend, (keep) => {
    const rev = keep(base!.reverse({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
    return backpropInputByConv(backend, dy, info, keep, baseConv(backend, rev, info, true));
  });
};

const depthwiseBackpropFilter: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as Record<string, unknown>;
  const info = convInfo(x.shape, filterShape as number[], strides, dilations, pad, dimRoundingMode, true);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const m = co / c;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = backend.makeOutput([fh, fw, c, m], "float32");
  const simd = simdKernels(backend);
  if (simd && m === 1 && c % 4 === 0 && x.dtype === "float32") {
    // images split across threads, one float32 accumulator [fh·fw][c] each
    const parts = splitRange(n, simd.threadsFor(n * ho * wo * fh * fw * c, MIN_ELEMENTS_PER_THREAD));
    const size = fh * fw * c;
    const [xOff, dyOff] = [heapOffset(backend, x), heapOffset(backend, dy)];
    withScratch(backend, parts.length * size * 4, (acc) => {
      simd.run(parts.map(([b0, b1], p) => ({ fn: "dw_filter_grad", args: [xOff, dyOff, acc + p * size * 4, b0, b1, h, w, c, ho, wo, fh, fw, sh, sw, dh, dw, top, left] })));
      sumParts(backend, acc, parts.length, size, out, Float32Array);
    });
    return out;
  }
  const dW = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  // Accumulate in float64 per tap, then store.
  const acc = new Float64Array(co);
  for (let a = 0; a < fh; a++) {
    const iMin = Math.max(0, Math.ceil((top - a * dh) / sh));
    const iMax = Math.min(ho, Math.floor((h - 1 + top - a * dh) / sh) + 1);
    for (let e = 0; e < fw; e++) {
      const jMin = Math.max(0, Math.ceil((left - e * dw) / sw));
      const jMax = Math.min(wo, Math.floor((w - 1 + left - e * dw) / sw) + 1);
      acc.fill(0);
      for (let b = 0; b < n; b++) {
        for (let i = iMin; i < iMax; i++) {
          const y = i * sh + a * dh - top;
          let j = jMin;
          if (m === 1) {
            // four output columns per pass over the accumulator
            const xStep = sw * c;
            for (; j + 4 <= jMax; j += 4) {
              const x0 = ((b * h + y) * w + (j * sw + e * dw - left)) * c;
              const g0 = ((b * ho + i) * wo + j) * co;
              const x1 = x0 + xStep;
              const x2 = x1 + xStep;
              const x3 = x2 + xStep;
              for (let ch = 0; ch < c; ch++) {
                acc[ch] =
                  acc[ch]! + (xv[x0 + ch]! * g[g0 + ch]! + xv[x1 + ch]! * g[g0 + c + ch]! + (xv[x2 + ch]! * g[g0 + 2 * c + ch]! + xv[x3 + ch]! * g[g0 + 3 * c + ch]!));
              }
            }
          }
          for (; j < jMax; j++) {
            const xx = j * sw + e * dw - left;
            const xBase = ((b * h + y) * w + xx) * c;
            const gBase = ((b * ho + i) * wo + j) * co;
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) acc[ch] = acc[ch]! + xv[xBase + ch]! * g[gBase + ch]!;
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xval = xv[xBase + ch]!;
                for (let q = 0; q < m; q++) acc[ch * m + q] = acc[ch * m + q]! + xval * g[gBase + ch * m + q]!;
              }
            }
          }
        }
      }
      const o = (a * fw + e) * co;
      for (let k = 0; k < co; k++) dW[o + k] = acc[k]!;
    }
  }
  return out;
};

const unsortedSegmentSum: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { x, segmentIds } = inputs as { x: Info; segmentIds: Info };
  const numSegments = attrs.numSegments as number;
  const idsLen = segmentIds.shape.reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(segmentIds.shape.length).reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const o = backend.typedArrayFromHeap(out);
  const xv = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  o.fill(0);
  for (let r = 0; r < idsLen; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue; // TensorFlow drops out-of-range ids
    const ob = s * inner;
    const xb = r * inner;
    for (let k = 0; k < inner; k++) o[ob + k] = o[ob + k]! + xv[xb + k]!;
  }
  return out;
};

/**
 * A float32 matrix product (rank 2, or rank 3 with batch 1) on the SIMD kernels, or undefined where
 * it does not fit:
 * - A·B and A·Bᵀ: a 1×1 convolution over M "pixels" of K channels (B packed as its filter, Bᵀ packed
 *   flipped), with an optional bias and ReLU;
 * - Aᵀ·B: rank updates over the K rows of A and B (the dense layer's weight gradient), M and N rounded
 *   up to 4 by reading into the next row (the extra rows and columns are dropped), the output rows
 *   split across threads.
 */
function matMulSimd(backend: BackendWasm, a: Info, b: Info, transposeA: boolean, transposeB: boolean, bias?: Info, relu = false): Info | undefined {
  const simd = simdKernels(backend);
  const batch1 = (t: Info) => t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1);
  if (!simd || a.dtype !== "float32" || b.dtype !== "float32" || !batch1(a) || !batch1(b) || a.shape.length !== b.shape.length || (transposeA && transposeB)) return undefined;
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const n = transposeB ? br : bc;
  if (m === 0 || k === 0 || n === 0 || k !== (transposeB ? bc : br)) return undefined;
  const outShape = a.shape.length === 3 ? [1, m, n] : [m, n];
  if (!transposeA) {
    const info = convInfo([1, 1, m, k], [1, 1, k, n], [1, 1], 1, "valid", undefined, false);
    if (k < 8 || !(n % 8 === 0 || n >= 32)) return undefined;
    const y = convSimd(backend, simd, a, b, transposeB, bias, info, relu);
    const r = reshape(backend, y, outShape);
    backend.disposeData(y.dataId);
    return r;
  }
  if (bias || relu) return undefined;
  const mp = (m + 3) & ~3;
  const np = (n + 3) & ~3;
  const [aOff, bOff] = [heapOffset(backend, a), heapOffset(backend, b)];
  const out = backend.makeOutput(outShape, "float32");
  withScratch(backend, mp * np * 4, (acc) => {
    // output rows split across threads in blocks of 4 (each thread owns its rows of the one accumulator)
    const parts = splitRange(mp / 4, simd.threadsFor(m * n * k, MIN_MACS_PER_THREAD));
    simd.run(parts.map(([u0, u1]) => ({ fn: "rank_update_blocked", args: [aOff + u0 * 16, m * 4, bOff, n * 4, k, (u1 - u0) * 4, np, acc + u0 * 4 * np * 4, POINTWISE_BLOCK] })));
    const o = backend.typedArrayFromHeap(out) as Float32Array;
    const sums = new Float32Array(o.buffer, acc, mp * np);
    for (let i = 0; i < m; i++) o.set(sums.subarray(i * np, i * np + n), i * n);
  });
  return out;
}

const batchMatMul: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { a, b } = inputs as { a: Info; b: Info };
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const viaSimd = matMulSimd(backend, a, b, transposeA, transposeB);
  if (viaSimd) return viaSimd;
  if ((!transposeA && !transposeB) || a.dtype !== "float32" || b.dtype !== "float32") return base!.batchMatMul({ inputs, backend, attrs });
  return scoped(backend, (keep) => {
    const aa = transposeA ? keep(transposeLast2(backend, a)) : a;
    const bb = transposeB ? keep(transposeLast2(backend, b)) : b;
    return base!.batchMatMul({ inputs: { a: aa, b: bb }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
  });
};

/** Swaps the last two axes. */
function transposeLast2(backend: BackendWasm, t: Info): Info {
  const r = t.shape.length;
  const perm = t.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(backend, t, perm);
}

/**
 * _FusedMatMul (a dense layer's forward pass: bias, linear or ReLU) on the SIMD conv where it fits;
 * otherwise wasm's kernel, with transposed operands transposed first.
 */
const fusedMatMul: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { a, b, bias, preluActivationWeights } = inputs as { a: Info; b: Info; bias?: Info; preluActivationWeights?: Info };
  const act = (attrs.activation as string | undefined) ?? "linear";
  const n = attrs.transposeB === true ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const biasFits = !bias || (bias.shape.length === 1 && bias.shape[0] === n && bias.dtype === "float32");
  if (!preluActivationWeights && (act === "linear" || act === "relu") && biasFits && attrs.transposeA !== true) {
    const y = matMulSimd(backend, a, b, false, attrs.transposeB === true, bias, act === "relu");
    if (y) return y;
  }
  if (attrs.transposeA !== true && attrs.transposeB !== true) return base!.fusedMatMul(args);
  // tfjs-backend-wasm 4.22's _FusedMatMul gets transposed operands wrong (off by ~0.2 relative against
  // cpu): transpose them first
  return scoped(backend, (keep) => {
    const aa = attrs.transposeA === true ? keep(transposeLast2(backend, a)) : a;
    const bb = attrs.transposeB === true ? keep(transposeLast2(backend, b)) : b;
    return base!.fusedMatMul({ ...args, inputs: { ...inputs, a: aa, b: bb }, attrs: { ...attrs, transposeA: false, transposeB: false } });
  });
};

/**
 * MaxPoolGrad as a loop: each output routes its gradient to the first maximum of its window
 * (the same tie rule as the cpu backend). wasm's own kernel is a slow generic loop.
 */
const maxPoolGrad: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { dy, input } = inputs as { dy: Info; input: Info };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as Record<string, unknown>;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize as [number, number], strides as [number, number], 1, pad as "same", dimRoundingMode as "floor" | undefined);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = backend.makeOutput(input.shape.slice(), "float32");
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const pool2 = fh === 2 && fw === 2 && sh === 2 && sw === 2 && dh === 1 && dw === 1 && top === 0 && left === 0 && 2 * ho <= h && 2 * wo <= w;
  const simd = simdKernels(backend);
  if (pool2 && simd && c % 4 === 0 && input.dtype === "float32") {
    // every cell of the 2·ho × 2·wo block is written; only an odd last row/column needs zeros
    if (2 * ho < h || 2 * wo < w) dx.fill(0);
    const [xOff, gOff, dxOff] = [heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out)];
    simd.run(splitRange(n, simd.threadsFor(n * h * w * c, MIN_ELEMENTS_PER_THREAD)).map(([b0, b1]) => ({ fn: "maxpool_grad_2x2", args: [xOff + b0 * h * w * c * 4, gOff + b0 * ho * wo * c * 4, dxOff + b0 * h * w * c * 4, b1 - b0, h, w, c, ho, wo] })));
    return out;
  }
  dx.fill(0);
  if (pool2) {
    // the common 2×2/2 pool: four candidates per output, first maximum in row-major window order
    const rowStep = w * c;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          const p00 = ((b * h + 2 * i) * w + 2 * j) * c;
          const gBase = ((b * ho + i) * wo + j) * c;
          for (let ch = 0; ch < c; ch++) {
            const q00 = p00 + ch;
            const q01 = q00 + c;
            const q10 = q00 + rowStep;
            const q11 = q10 + c;
            let at = q00;
            let best = xv[q00]!;
            if (xv[q01]! > best) {
              best = xv[q01]!;
              at = q01;
            }
            if (xv[q10]! > best) {
              best = xv[q10]!;
              at = q10;
            }
            if (xv[q11]! > best) at = q11;
            dx[at] = dx[at]! + g[gBase + ch]!;
          }
        }
      }
    }
    return out;
  }
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let a = 0; a < fh; a++) {
          const y = i * sh + a * dh - top;
          if (y < 0 || y >= h) continue;
          for (let e = 0; e < fw; e++) {
            const xx = j * sw + e * dw - left;
            if (xx < 0 || xx >= w) continue;
            const xBase = ((b * h + y) * w + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[xBase + ch]!;
              if (v > best[ch]! || at[ch]! < 0) {
                best[ch] = v;
                at[ch] = xBase + ch;
              }
            }
          }
        }
        const gBase = ((b * ho + i) * wo + j) * c;
        for (let ch = 0; ch < c; ch++) {
          const k = at[ch]!;
          if (k >= 0) dx[k] = dx[k]! + g[gBase + ch]!;
        }
      }
    }
  }
  return out;
};

/**
 * Sum over leading axes (e.g. a bias gradient, [N,H,W,C] → [C]) into float64 column sums: the SIMD
 * kernel split across threads (C a multiple of 4) or a row-accumulating loop; other reductions go to
 * wasm's kernel, which transposes the reduced axes to the end first.
 */
const sum: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as Info;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== "float32") return base!.sum(args);
  const rows = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(axes.length).reduce((p, d) => p * d, 1);
  if (inner < 4) return base!.sum(args);
  const keepDims = attrs.keepDims === true;
  const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
  const out = backend.makeOutput(outShape, "float32");
  const simd = simdKernels(backend);
  if (simd && inner % 4 === 0) {
    // rows split across threads, one float64 accumulator each
    const parts = splitRange(rows, simd.threadsFor(rows * inner, MIN_ELEMENTS_PER_THREAD));
    const xOff = heapOffset(backend, x);
    withScratch(backend, parts.length * inner * 8, (acc) => {
      simd.run(parts.map(([r0, r1], p) => ({ fn: "col_sum", args: [xOff + r0 * inner * 4, r1 - r0, inner, acc + p * inner * 8] })));
      sumParts(backend, acc, parts.length, inner, out);
    });
    return out;
  }
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  // Four rows per pass over the float64 accumulator (its read-modify-write is the bottleneck).
  const acc = new Float64Array(inner);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const b0 = r * inner;
    const b1 = b0 + inner;
    const b2 = b1 + inner;
    const b3 = b2 + inner;
    for (let k = 0; k < inner; k++) acc[k] = acc[k]! + (xv[b0 + k]! + xv[b1 + k]! + (xv[b2 + k]! + xv[b3 + k]!));
  }
  for (; r < rows; r++) {
    const b0 = r * inner;
    for (let k = 0; k < inner; k++) acc[k] = acc[k]! + xv[b0 + k]!;
  }
  for (let k = 0; k < inner; k++) o[k] = acc[k]!;
  return out;
};

/** out[k] = Σ_p acc[p][k] over `parts` accumulators of c values (float64 unless said) at heap address `acc`. */
function sumParts(backend: BackendWasm, acc: number, parts: number, c: number, out: Info, type: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): void {
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const accs = new type(o.buffer, acc, parts * c);
  for (let k = 0; k < c; k++) {
    let t = 0;
    for (let p = 0; p < parts; p++) t += accs[p * c + k]!;
    o[k] = t;
  }
}

/** Mean over leading axes (BatchNorm moments over N,H,W) as a row loop; other cases go to wasm. */
const mean: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as Info;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const inner = x.shape.slice(axes.length).reduce((p, d) => p * d, 1);
  if (!leading || x.dtype !== "float32" || inner < 4) return base!.mean(args);
  const summed = sum(args);
  const rows = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
  const o = backend.typedArrayFromHeap(summed) as Float32Array;
  for (let k = 0; k < o.length; k++) o[k] = o[k]! / rows;
  return summed;
};

/** Cast to the tensor's own dtype shares the data (ReLU's gradient casts a float32 step mask to float32). */
const cast: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as Info;
  if (attrs.dtype !== x.dtype || x.dtype === "string") return base!.cast(args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

/**
 * Tile as block copies: each dimension's first repetition is written once, then doubled with
 * `copyWithin` (wasm's kernel computes an index per element; BatchNorm's gradient tiles [1,1,1,C]
 * up to a whole activation).
 */
const tile: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as Info;
  if (x.dtype === "string") return base!.tile(args);
  const reps = attrs.reps as number[];
  const shape = x.shape;
  const rank = shape.length;
  const outShape = shape.map((d, i) => d * reps[i]!);
  const out = backend.makeOutput(outShape, x.dtype);
  const o = backend.typedArrayFromHeap(out);
  const xv = backend.typedArrayFromHeap(x);
  if (o.length === 0) return out;
  if (rank === 0) {
    o[0] = xv[0]!;
    return out;
  }
  // outBlock[d]: elements of the output below dimension d (one index of dim d-1).
  const outInner = new Array<number>(rank + 1).fill(1);
  const inInner = new Array<number>(rank + 1).fill(1);
  for (let d = rank - 1; d >= 0; d--) {
    outInner[d] = outInner[d + 1]! * outShape[d]!;
    inInner[d] = inInner[d + 1]! * shape[d]!;
  }
  const fill = (d: number, inOff: number, outOff: number): void => {
    const span = shape[d]! * outInner[d + 1]!; // one repetition of dim d in the output
    if (d === rank - 1) {
      o.set(xv.subarray(inOff, inOff + shape[d]!), outOff);
    } else {
      for (let i = 0; i < shape[d]!; i++) fill(d + 1, inOff + i * inInner[d + 1]!, outOff + i * outInner[d + 1]!);
    }
    const total = span * reps[d]!;
    for (let done = span; done < total; ) {
      const n = Math.min(done, total - done);
      o.copyWithin(outOff + done, outOff, outOff + n);
      done += n;
    }
  };
  fill(0, 0, 0);
  return out;
};

/** Identity without a copy: shares the data and bumps its reference count (as the cpu backend does). */
const identity: KernelFn = ({ inputs, backend }) => {
  const x = inputs.x as Info;
  if (x.dtype === "string") return base!.identity({ inputs, backend });
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

/** The binary kernel's op codes: [op(big, small), op(small, big)] (see kernels.wat). */
const BINARY_OPS: Readonly<Record<string, readonly [number, number]>> = Object.freeze({
  Add: [0, 0],
  Sub: [1, 6],
  Multiply: [2, 2],
  RealDiv: [3, 7],
  Minimum: [4, 4],
  Maximum: [5, 5],
});

/**
 * Element-wise float32 Add / Sub / Multiply / RealDiv / Minimum / Maximum on the SIMD kernel when one
 * operand is the whole output and the other is the same shape, a trailing row of it (a bias or a
 * BatchNorm scale) or a scalar; split across threads. Other cases go to wasm's kernel (a per-element
 * loop, ~2.4 ns per element against ~0.7 here).
 */
function binaryKernel(name: string): KernelFn {
  const [opBig, opSmall] = BINARY_OPS[name]!;
  return (args) => {
    const { inputs, backend } = args;
    const { a, b } = inputs as { a: Info; b: Info };
    const simd = simdKernels(backend);
    if (!simd || a.dtype !== "float32" || b.dtype !== "float32") return base!.binary[name]!(args);
    const na = tf.util.sizeFromShape(a.shape);
    const nb = tf.util.sizeFromShape(b.shape);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = tf.util.sizeFromShape(outShape);
    const aBig = na === n;
    const [big, small] = aBig ? [a, b] : [b, a];
    const ns = aBig ? nb : na;
    if (tf.util.sizeFromShape(big.shape) !== n || n % 4 !== 0 || n === 0) return base!.binary[name]!(args);
    // the small operand must repeat with period ns along the big one: same shape, scalar, or a trailing row
    const lead = small.shape.findIndex((d) => d !== 1);
    const row = lead < 0 ? [] : small.shape.slice(lead);
    const isRow = ns === n || ns === 1 || (ns % 4 === 0 && row.length <= big.shape.length && row.every((d, i) => d === big.shape[big.shape.length - row.length + i]));
    if (!isRow) return base!.binary[name]!(args);
    const op = aBig ? opBig : opSmall;
    const out = backend.makeOutput(outShape, "float32");
    const run = (smallOff: number, c: number) => {
      const unit = c === n ? 4 : c; // same shape: any multiple of 4; a row: whole rows
      const bigOff = heapOffset(backend, big);
      const outOff = heapOffset(backend, out);
      simd.run(
        splitRange(n / unit, simd.threadsFor(n, MIN_ELEMENTS_PER_THREAD)).map(([u0, u1]) => {
          const m = (u1 - u0) * unit;
          return { fn: "binary", args: [op, bigOff + u0 * unit * 4, c === n ? smallOff + u0 * unit * 4 : smallOff, outOff + u0 * unit * 4, m, c === n ? m : c] };
        }),
      );
    };
    if (ns === 1) {
      // a scalar, splat into 4 floats of scratch
      const v = (backend.typedArrayFromHeap(small) as Float32Array)[0]!;
      withScratch(backend, 16, (ptr) => {
        new Float32Array((backend.typedArrayFromHeap(out) as Float32Array).buffer, ptr, 4).fill(v);
        run(ptr, 4);
      });
    } else {
      run(heapOffset(backend, small), ns);
    }
    return out;
  };
}

/**
 * The gradient through a ReLU output y and the bias before it (conv2dBiasAct's backward pass), in
 * one pass: [dy·(y > 0), its sum over all but the last axis] (float64 sums).
 */
const reluGradBias = ({ inputs, backend }: { inputs: Record<string, Info>; backend: BackendWasm }): Info[] => {
  const { dy, y } = inputs as { dy: Info; y: Info };
  if (dy.dtype !== "float32" || y.dtype !== "float32" || !tf.util.arraysEqual(dy.shape, y.shape) || y.shape.length === 0) {
    throw new Error(`${RELU_GRAD_BIAS}: dy and y must be float32 tensors of one shape, got ${dy.dtype}[${dy.shape}] and ${y.dtype}[${y.shape}]`);
  }
  const c = y.shape[y.shape.length - 1]!;
  const rows = c === 0 ? 0 : tf.util.sizeFromShape(y.shape) / c;
  const dz = backend.makeOutput(y.shape.slice(), "float32");
  const db = backend.makeOutput([c], "float32");
  const simd = simdKernels(backend);
  if (simd && c % 4 === 0) {
    const parts = splitRange(rows, simd.threadsFor(rows * c, MIN_ELEMENTS_PER_THREAD)); // rows split across threads, one float64 accumulator each
    const [yOff, dyOff, dzOff] = [heapOffset(backend, y), heapOffset(backend, dy), heapOffset(backend, dz)];
    withScratch(backend, parts.length * c * 8, (acc) => {
      simd.run(parts.map(([r0, r1], p) => ({ fn: "relu_grad_bias", args: [yOff + r0 * c * 4, dyOff + r0 * c * 4, dzOff + r0 * c * 4, r1 - r0, c, acc + p * c * 8] })));
      sumParts(backend, acc, parts.length, c, db);
    });
    return [dz, db];
  }
  const yv = backend.typedArrayFromHeap(y) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const out = backend.typedArrayFromHeap(dz) as Float32Array;
  const acc = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let k = 0; k < c; k++, o++) {
      const v = yv[o]! > 0 ? g[o]! : 0;
      out[o] = v;
      acc[k] = acc[k]! + v;
    }
  }
  (backend.typedArrayFromHeap(db) as Float32Array).set(acc);
  return [dz, db];
};

/** ReLU6's gradient, dy where 0 < x ≤ 6 else 0, in one pass (SIMD split across threads, or a loop). */
const relu6Grad: KernelFn = ({ inputs, backend }) => {
  const { dy, x } = inputs as { dy: Info; x: Info };
  if (dy.dtype !== "float32" || x.dtype !== "float32" || !tf.util.arraysEqual(dy.shape, x.shape)) {
    throw new Error(`${RELU6_GRAD}: dy and x must be float32 tensors of one shape, got ${dy.dtype}[${dy.shape}] and ${x.dtype}[${x.shape}]`);
  }
  const n = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput(x.shape.slice(), "float32");
  const simd = simdKernels(backend);
  if (simd && n % 4 === 0) {
    const [xOff, dyOff, dxOff] = [heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out)];
    const bits = new Int32Array(new Float32Array([0, 6]).buffer);
    simd.run(splitRange(n / 4, simd.threadsFor(n, MIN_ELEMENTS_PER_THREAD)).map(([u0, u1]) => ({ fn: "clip_grad", args: [xOff + u0 * 16, dyOff + u0 * 16, dxOff + u0 * 16, (u1 - u0) * 4, bits[0]!, bits[1]!] })));
    return out;
  }
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < n; i++) o[i] = xv[i]! > 0 && xv[i]! <= 6 ? g[i]! : 0;
  return out;
};

/** [Σ u, Σ u·v] over all but the last axis (v defaults to u), float64 sums (BatchNorm's moments and gradient). */
const colSums2 = ({ inputs, backend }: { inputs: Record<string, Info>; backend: BackendWasm }): Info[] => {
  const u = inputs.u as Info;
  const v = (inputs.v as Info | undefined) ?? u;
  if (u.dtype !== "float32" || v.dtype !== "float32" || !tf.util.arraysEqual(u.shape, v.shape) || u.shape.length === 0) {
    throw new Error(`${COL_SUMS2}: u and v must be float32 tensors of one shape, got ${u.dtype}[${u.shape}] and ${v.dtype}[${v.shape}]`);
  }
  const c = u.shape[u.shape.length - 1]!;
  const rows = c === 0 ? 0 : tf.util.sizeFromShape(u.shape) / c;
  const s1 = backend.makeOutput([c], "float32");
  const s2 = backend.makeOutput([c], "float32");
  const simd = simdKernels(backend);
  if (simd && c % 4 === 0) {
    const parts = splitRange(rows, simd.threadsFor(rows * c, MIN_ELEMENTS_PER_THREAD)); // one pair of accumulators each
    const [uOff, vOff] = [heapOffset(backend, u), heapOffset(backend, v)];
    withScratch(backend, parts.length * 2 * c * 8, (acc) => {
      simd.run(parts.map(([r0, r1], p) => ({ fn: "col_sum2", args: [uOff + r0 * c * 4, vOff + r0 * c * 4, r1 - r0, c, acc + p * 2 * c * 8] })));
      const o1 = backend.typedArrayFromHeap(s1) as Float32Array;
      const o2 = backend.typedArrayFromHeap(s2) as Float32Array;
      const accs = new Float64Array(o1.buffer, acc, parts.length * 2 * c);
      for (let k = 0; k < c; k++) {
        let a = 0;
        let b = 0;
        for (let p = 0; p < parts.length; p++) {
          a += accs[p * 2 * c + k]!;
          b += accs[p * 2 * c + c + k]!;
        }
        o1[k] = a;
        o2[k] = b;
      }
    });
    return [s1, s2];
  }
  const uv = backend.typedArrayFromHeap(u) as Float32Array;
  const vv = backend.typedArrayFromHeap(v) as Float32Array;
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let k = 0; k < c; k++, o++) {
      a[k] = a[k]! + uv[o]!;
      b[k] = b[k]! + uv[o]! * vv[o]!;
    }
  }
  (backend.typedArrayFromHeap(s1) as Float32Array).set(a);
  (backend.typedArrayFromHeap(s2) as Float32Array).set(b);
  return [s1, s2];
};

/** p·u + q·v + r per channel (the last axis; p, q, r of its length; v and q optional). */
const affine: KernelFn = ({ inputs, backend }) => {
  const { u, v, p, q, r } = inputs as { u: Info; v?: Info; p: Info; q?: Info; r: Info };
  const c = u.shape[u.shape.length - 1] ?? 0;
  const vecOk = (t: Info | undefined) => t !== undefined && t.dtype === "float32" && t.shape.length === 1 && t.shape[0] === c;
  if (u.dtype !== "float32" || !vecOk(p) || !vecOk(r) || (v !== undefined && (v.dtype !== "float32" || !tf.util.arraysEqual(u.shape, v.shape) || !vecOk(q)))) {
    throw new Error(`${AFFINE}: u (and v) float32 of one shape, p, r (and q) float32 vectors of its last dimension`);
  }
  const rows = c === 0 ? 0 : tf.util.sizeFromShape(u.shape) / c;
  const out = backend.makeOutput(u.shape.slice(), "float32");
  const simd = simdKernels(backend);
  if (simd && c % 4 === 0) {
    const [uOff, vOff, pOff, qOff, rOff, oOff] = [u, v, p, q, r, out].map((t) => (t ? heapOffset(backend, t) : 0)) as number[];
    simd.run(
      splitRange(rows, simd.threadsFor(rows * c, MIN_ELEMENTS_PER_THREAD)).map(([r0, r1]) => ({
        fn: "affine",
        args: [uOff! + r0 * c * 4, v ? vOff! + r0 * c * 4 : 0, pOff!, qOff!, rOff!, oOff! + r0 * c * 4, r1 - r0, c],
      })),
    );
    return out;
  }
  const [uv, pv, rv, o] = [u, p, r, out].map((t) => backend.typedArrayFromHeap(t) as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const vv = v ? (backend.typedArrayFromHeap(v) as Float32Array) : undefined;
  const qv = q ? (backend.typedArrayFromHeap(q) as Float32Array) : undefined;
  for (let i = 0, k = 0; i < uv.length; i++, k = k + 1 === c ? 0 : k + 1) o[i] = pv[k]! * uv[i]! + rv[k]! + (vv ? qv![k]! * vv[i]! : 0);
  return out;
};

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
  RELU_GRAD_BIAS,
  RELU6_GRAD,
  COL_SUMS2,
  AFFINE,
  ...Object.keys(BINARY_OPS),
]);

let registered = false;

/**
 * Registers matchlab's wasm training kernels (idempotent). Call after importing
 * `@tensorflow/tfjs-backend-wasm`; {@link initBackend} does this for you.
 */
export function registerWasmTrainingKernels(): readonly string[] {
  if (registered) return WASM_TRAINING_KERNELS;
  base = {
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
  };
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
    [RELU_GRAD_BIAS]: reluGradBias as unknown as KernelFn,
    [RELU6_GRAD]: relu6Grad,
    [COL_SUMS2]: colSums2 as unknown as KernelFn,
    [AFFINE]: affine,
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
