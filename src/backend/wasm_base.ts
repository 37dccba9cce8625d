/**
 * What matchlab's wasm kernels share: the original tfjs-backend-wasm kernels they compose from (captured
 * before any override), scoped temporaries, layout helpers and convolution geometry.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

export type Info = tf.TensorInfo;

export type KernelFn = (args: { inputs: Record<string, Info>; backend: BackendWasm; attrs?: Record<string, unknown> }) => Info;

export type Pad = "same" | "valid" | number | number[][];

export const BACKEND = "wasm";

/** The original wasm kernels this module composes from (captured before any override). */
export interface Base {
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
  exp: KernelFn;
}

/** The original wasm kernels (filled in by registerWasmTrainingKernels before any override). */
export const base = {} as Base;

/** Least work per thread before a SIMD kernel is split: multiply-adds of a convolution, elements of a memory-bound pass. */
export const MIN_MACS_PER_THREAD = 1 << 22;

export const MIN_ELEMENTS_PER_THREAD = 1 << 18;

export function original(name: string): KernelFn {
  const k = tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`wasm kernel ${name} is not registered: is @tensorflow/tfjs-backend-wasm imported?`);
  return k.kernelFunc as unknown as KernelFn;
}

/** Runs `f` with a list that collects intermediates, disposing them afterwards (the result is kept). */
export function scoped(backend: BackendWasm, f: (keep: (t: Info) => Info) => Info): Info {
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

export function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return base.transpose({ inputs: { x }, backend, attrs: { perm } });
}

export function reshape(backend: BackendWasm, x: Info, shape: number[]): Info {
  return base.reshape({ inputs: { x }, backend, attrs: { shape } });
}

/** Crops `top`, `bottom`, `left`, `right` (≥ 0) rows and columns off the spatial dims of an NHWC tensor. */
export function cropSpatial(backend: BackendWasm, x: Info, top: number, bottom: number, left: number, right: number, keep: (t: Info) => Info): Info {
  if (top + bottom + left + right === 0) return x;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return keep(base.slice({ inputs: { x }, backend, attrs: { begin: [0, top, left, 0], size: [n, h - top - bottom, w - left - right, c] } }));
}

/** Inserts `s - 1` zeros after each row/column of an NHWC tensor: [N,H,W,C] → [N,H*sh,W*sw,C]. */
export function zeroDilate(backend: BackendWasm, dy: Info, sh: number, sw: number, keep: (t: Info) => Info): Info {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape as [number, number, number, number];
  const r = keep(reshape(backend, dy, [n, h, 1, w, 1, c]));
  const p = keep(
    base.pad({
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

export function convInfo(xShape: number[], filterShape: number[], strides: unknown, dilations: unknown, pad: unknown, dimRoundingMode: unknown, depthwise: boolean) {
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

export function checkChannelsLast(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC" && dataFormat !== "channelsLast") {
    throw new Error(`wasm ${kernel}: dataFormat ${String(dataFormat)} is not supported (expected NHWC)`);
  }
}

/** out[k] = Σ_p accs[p·c + k] with c = out.length: per-thread accumulators summed into one. */
export function sumParts(accs: Float32Array | Float64Array, parts: number, out: Float32Array): void {
  const c = out.length;
  for (let k = 0; k < c; k++) {
    let t = 0;
    for (let p = 0; p < parts; p++) t += accs[p * c + k]!;
    out[k] = t;
  }
}

/**
 * For a reduction of float32 x over `axis`: its rows and inner size when the axes are the leading
 * ones and the inner size is at least 4 (matchlab's column-sum kernels), else undefined.
 */
export function leadingAxes(x: Info, axis: unknown): { rows: number; inner: number; count: number } | undefined {
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== "float32") return undefined;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const inner = tf.util.sizeFromShape(x.shape.slice(axes.length));
  return inner < 4 ? undefined : { rows, inner, count: axes.length };
}
