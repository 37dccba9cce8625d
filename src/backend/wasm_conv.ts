/**
 * matchlab's wasm convolution kernels (forward, fused forward, both gradients, depthwise gradients) and
 * MaxPoolGrad: on the SIMD kernels where they load and the shapes fit, otherwise composites of wasm's
 * own kernels and loops over the heap (see wasm_kernels.ts for the overview).
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { heapOffset, type SimdKernels, simdKernels, splitRange, withScratch } from "./simd_kernels";
import { base, checkChannelsLast, convInfo, type Info, type KernelFn, MIN_ELEMENTS_PER_THREAD, MIN_MACS_PER_THREAD, cropSpatial, reshape, scoped, sumParts, transpose, zeroDilate } from "./wasm_base";

/** Zero-pads the two spatial dims of an NHWC tensor (row copies; wasm's PadV2 is a per-element loop). */
function padSpatial(backend: BackendWasm, x: Info, top: number, bottom: number, left: number, right: number): Info {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const hp = h + top + bottom;
  const wp = w + left + right;
  const out = backend.makeOutput([n, hp, wp, c], "float32");
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  // rows copied within the heap (x and out both live there): no view objects per row for the GC
  const heap = new Float32Array((backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer);
  const x0 = heapOffset(backend, x) >> 2;
  const o0 = heapOffset(backend, out) >> 2;
  const row = w * c;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const src = x0 + (b * h + y) * row;
      heap.copyWithin(o0 + ((b * hp + y + top) * wp + left) * c, src, src + row);
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
export function convSimd(backend: BackendWasm, simd: SimdKernels, x: Info, filter: Info, flipped: boolean, bias: Info | undefined, info: tf.backend_util.Conv2DInfo, relu: boolean): Info {
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
export function simdConvFits(x: Info, filter: Info, info: tf.backend_util.Conv2DInfo): boolean {
  const co = info.outChannels;
  return x.dtype === "float32" && filter.dtype === "float32" && (co % 8 === 0 || co >= 32) && info.inChannels >= 8 && info.outHeight > 0 && info.outWidth > 0 && info.inHeight > 0 && info.inWidth > 0;
}

export const conv2D: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { x, filter } = inputs as { x: Info; filter: Info };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as Record<string, unknown>;
  const simd = simdKernels(backend);
  if (!simd || (dataFormat !== undefined && dataFormat !== "NHWC")) return base.conv2d(args);
  const info = convInfo(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
  return simdConvFits(x, filter, info) ? convSimd(backend, simd, x, filter, false, undefined, info, false) : base.conv2d(args);
};

export const fusedConv2D: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { x, filter, bias, preluActivationWeights } = inputs as { x: Info; filter: Info; bias?: Info; preluActivationWeights?: Info };
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = attrs as Record<string, unknown>;
  const simd = simdKernels(backend);
  const act = activation ?? "linear";
  if (!simd || preluActivationWeights || (act !== "linear" && act !== "relu") || (dataFormat !== undefined && dataFormat !== "NHWC")) return base.fusedConv2d(args);
  const info = convInfo(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
  const biasFits = !bias || (bias.shape.length === 1 && bias.shape[0] === info.outChannels && bias.dtype === "float32");
  if (!biasFits || !simdConvFits(x, filter, info)) return base.fusedConv2d(args);
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
  const cropped = cropSpatial(backend, d, Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right), keep);
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
  const k = depthwise ? base.depthwise : conv2D;
  return (x, pad) => k({ inputs: { x, filter }, backend, attrs: { strides: [1, 1], pad, dilations: [info.dilationHeight, info.dilationWidth], dataFormat: "NHWC" } });
}

export const conv2DBackpropInput: KernelFn = ({ inputs, backend, attrs = {} }) => {
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
  const rev = keep(base.reverse({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
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
export const POINTWISE_BLOCK = 128;

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

export const conv2DBackpropFilter: KernelFn = ({ inputs, backend, attrs = {} }) => {
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
      const g = keep(base.batchMatMul({ inputs: { a: cols, b: dy3 }, backend, attrs: { transposeA: false, transposeB: false } }));
      return reshape(backend, g, [fh, fw, ci, co]);
    }
    const acc = new Float32Array(k * co);
    for (let b0 = 0; b0 < n; b0 += nb) {
      const bn = Math.min(nb, n - b0);
      const cols = backend.makeOutput([1, k, bn * rowsPer], "float32");
      const chunk: Info[] = [cols];
      try {
        im2colT(backend.typedArrayFromHeap(xt) as Float32Array, backend.typedArrayFromHeap(cols) as Float32Array, info, b0, b0 + bn);
        const dyc = base.slice({ inputs: { x: dy3 }, backend, attrs: { begin: [0, b0 * rowsPer, 0], size: [1, bn * rowsPer, co] } });
        chunk.push(dyc);
        const g = base.batchMatMul({ inputs: { a: cols, b: dyc }, backend, attrs: { transposeA: false, transposeB: false } });
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

export const depthwiseBackpropInput: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as Record<string, unknown>;
  const info = convInfo(inputShape as number[], filter.shape, strides, dilations, pad, dimRoundingMode, true);
  if (filter.shape[3] !== 1) return depthwiseBackpropInputLoop(backend, dy, filter, info);
  return scoped(backend, (keep) => {
    const rev = keep(base.reverse({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }));
    return backpropInputByConv(backend, dy, info, keep, baseConv(backend, rev, info, true));
  });
};

export const depthwiseBackpropFilter: KernelFn = ({ inputs, backend, attrs = {} }) => {
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
      const o = backend.typedArrayFromHeap(out) as Float32Array;
      sumParts(new Float32Array(o.buffer, acc, parts.length * size), parts.length, o);
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

/**
 * MaxPoolGrad as a loop: each output routes its gradient to the first maximum of its window
 * (the same tie rule as the cpu backend). wasm's own kernel is a slow generic loop.
 */
export const maxPoolGrad: KernelFn = ({ inputs, backend, attrs = {} }) => {
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
