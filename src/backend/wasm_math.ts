/**
 * matchlab's other wasm kernels: matrix products, reductions over leading axes, element-wise arithmetic,
 * the fused ops' kernels, segment sums, and data-sharing Identity/Cast (see wasm_kernels.ts for the
 * overview).
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { ADAM_STEP, AFFINE, COL_SUMS2, RELU_GRAD_BIAS, RELU6_GRAD } from "./fused_ops";
import { heapOffset, simdKernels, splitRange, withScratch } from "./simd_kernels";
import { base, type Info, type KernelFn, MIN_ELEMENTS_PER_THREAD, MIN_MACS_PER_THREAD, leadingAxes, scoped, sumParts, transpose } from "./wasm_base";

export const unsortedSegmentSum: KernelFn = ({ inputs, backend, attrs = {} }) => {
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

/** Floats of k per block of gemm_nt (A's block of rows then stays in L1/L2 while B's rows pass over it). */
export const GEMM_NT_KC = 256;

/**
 * A float32 matrix product (rank 2, or rank 3 with batch 1) on the SIMD GEMM kernels (kernels.wat), or
 * undefined where it does not fit (Aᵀ·Bᵀ, other dtypes, batches):
 * - A·B and Aᵀ·B (a dense layer's forward pass and weight gradient): A (or Aᵀ) packed into 4-row
 *   panels, B into an 8-column strip at a time, then `gemm`'s 4×8 register tiles, an optional bias
 *   and ReLU on the way out;
 * - A·Bᵀ (its input gradient): `gemm_nt`, dot products along k of A's and B's rows in 4×2 tiles, k in
 *   blocks of {@link GEMM_NT_KC} (no bias or ReLU: undefined with them).
 * Work is split across threads by output columns (rows when there are too few columns).
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
  if (transposeB && (bias || relu)) return undefined;
  const outShape = a.shape.length === 3 ? [1, m, n] : [m, n];
  const out = backend.makeOutput(outShape, "float32");
  const [aOff, bOff, cOff] = [heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out)];
  const threads = simd.threadsFor(m * n * k, MIN_MACS_PER_THREAD);
  if (transposeB) {
    // split over B's rows (pairs) or, with few of them, over A's rows (fours)
    const byCols = Math.ceil(n / 2) >= threads;
    const parts = byCols ? splitRange(Math.ceil(n / 2), threads) : splitRange(Math.ceil(m / 4), threads);
    simd.run(
      parts.map(([u0, u1]) =>
        byCols
          ? { fn: "gemm_nt", args: [aOff, k * 4, bOff + u0 * 2 * k * 4, k * 4, cOff + u0 * 8, n * 4, m, Math.min(u1 * 2, n) - u0 * 2, k, GEMM_NT_KC] }
          : { fn: "gemm_nt", args: [aOff + u0 * 4 * k * 4, k * 4, bOff, k * 4, cOff + u0 * 4 * n * 4, n * 4, Math.min(u1 * 4, m) - u0 * 4, n, k, GEMM_NT_KC] },
      ),
    );
    return out;
  }
  const biasOff = bias ? heapOffset(backend, bias) : 0;
  // A packed into 4-row panels (Aᵀ too: read in place, its rows' stride would thrash the cache), and a
  // strip of B per thread when more than one row tile reads it
  const mp = (m + 3) & ~3;
  const byCols = Math.ceil(n / 8) >= threads;
  const parts = byCols ? splitRange(Math.ceil(n / 8), threads) : splitRange(mp / 4, threads);
  const strip = mp > 4 ? k * 32 : 0;
  withScratch(backend, mp * k * 4 + parts.length * strip, (packed) => {
    simd.call("pack_a4", aOff, transposeA ? 4 : k * 4, transposeA ? m * 4 : 4, m, k, packed);
    const [abs, pack0] = [k * 16, packed + mp * k * 4];
    const pack = (p: number) => (strip ? pack0 + p * strip : 0);
    const r = relu ? 1 : 0;
    simd.run(
      parts.map(([u0, u1], p) =>
        byCols
          ? { fn: "gemm", args: [packed, abs, 16, bOff + u0 * 32, n * 4, cOff + u0 * 32, n * 4, m, Math.min(u1 * 8, n) - u0 * 8, k, bias ? biasOff + u0 * 32 : 0, r, pack(p)] }
          : { fn: "gemm", args: [packed + u0 * abs, abs, 16, bOff, n * 4, cOff + u0 * 16 * n, n * 4, Math.min(u1 * 4, m) - u0 * 4, n, k, biasOff, r, pack(p)] },
      ),
    );
  });
  return out;
}

export const batchMatMul: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { a, b } = inputs as { a: Info; b: Info };
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const viaSimd = matMulSimd(backend, a, b, transposeA, transposeB);
  if (viaSimd) return viaSimd;
  if ((!transposeA && !transposeB) || a.dtype !== "float32" || b.dtype !== "float32") return base.batchMatMul({ inputs, backend, attrs });
  return scoped(backend, (keep) => {
    const aa = transposeA ? keep(transposeLast2(backend, a)) : a;
    const bb = transposeB ? keep(transposeLast2(backend, b)) : b;
    return base.batchMatMul({ inputs: { a: aa, b: bb }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
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
export const fusedMatMul: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { a, b, bias, preluActivationWeights } = inputs as { a: Info; b: Info; bias?: Info; preluActivationWeights?: Info };
  const act = (attrs.activation as string | undefined) ?? "linear";
  const n = attrs.transposeB === true ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const biasFits = !bias || (bias.shape.length === 1 && bias.shape[0] === n && bias.dtype === "float32");
  if (!preluActivationWeights && (act === "linear" || act === "relu") && biasFits) {
    const y = matMulSimd(backend, a, b, attrs.transposeA === true, attrs.transposeB === true, bias, act === "relu");
    if (y) return y;
  }
  if (attrs.transposeA !== true && attrs.transposeB !== true) return base.fusedMatMul(args);
  // tfjs-backend-wasm 4.22's _FusedMatMul gets transposed operands wrong (off by ~0.2 relative against
  // cpu): transpose them first
  return scoped(backend, (keep) => {
    const aa = attrs.transposeA === true ? keep(transposeLast2(backend, a)) : a;
    const bb = attrs.transposeB === true ? keep(transposeLast2(backend, b)) : b;
    return base.fusedMatMul({ ...args, inputs: { ...inputs, a: aa, b: bb }, attrs: { ...attrs, transposeA: false, transposeB: false } });
  });
};

/**
 * Sum over leading axes (e.g. a bias gradient, [N,H,W,C] → [C]) into float64 column sums: the SIMD
 * kernel split across threads (C a multiple of 4) or a row-accumulating loop; other reductions go to
 * wasm's kernel, which transposes the reduced axes to the end first.
 */
export const sum: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as Info;
  const fit = leadingAxes(x, attrs.axis);
  if (!fit) return base.sum(args);
  const { rows, inner, count } = fit;
  const outShape = attrs.keepDims === true ? x.shape.map((d, i) => (i < count ? 1 : d)) : x.shape.slice(count);
  const out = backend.makeOutput(outShape, "float32");
  const simd = simdKernels(backend);
  if (simd && inner % 4 === 0) {
    // rows split across threads, one float64 accumulator each
    const parts = splitRange(rows, simd.threadsFor(rows * inner, MIN_ELEMENTS_PER_THREAD));
    const xOff = heapOffset(backend, x);
    withScratch(backend, parts.length * inner * 8, (acc) => {
      simd.run(parts.map(([r0, r1], p) => ({ fn: "col_sum2", args: [xOff + r0 * inner * 4, 0, r1 - r0, inner, acc + p * inner * 8] })));
      const o = backend.typedArrayFromHeap(out) as Float32Array;
      sumParts(new Float64Array(o.buffer, acc, parts.length * inner), parts.length, o);
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

/** Mean over leading axes (BatchNorm moments over N,H,W): {@link sum}, then a division; other cases go to wasm. */
export const mean: KernelFn = (args) => {
  const fit = leadingAxes(args.inputs.x as Info, args.attrs?.axis);
  if (!fit) return base.mean(args);
  const summed = sum(args);
  const o = args.backend.typedArrayFromHeap(summed) as Float32Array;
  for (let k = 0; k < o.length; k++) o[k] = o[k]! / fit.rows;
  return summed;
};

/** Cast to the tensor's own dtype shares the data (ReLU's gradient casts a float32 step mask to float32). */
export const cast: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as Info;
  if (attrs.dtype !== x.dtype || x.dtype === "string") return base.cast(args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

/**
 * Tile as block copies: each dimension's first repetition is written once, then doubled with
 * `copyWithin` (wasm's kernel computes an index per element; BatchNorm's gradient tiles [1,1,1,C]
 * up to a whole activation).
 */
export const tile: KernelFn = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as Info;
  if (x.dtype === "string") return base.tile(args);
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
export const identity: KernelFn = ({ inputs, backend }) => {
  const x = inputs.x as Info;
  if (x.dtype === "string") return base.identity({ inputs, backend });
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

/** The binary kernel's op codes: [op(big, small), op(small, big)] (see kernels.wat). */
export const BINARY_OPS: Readonly<Record<string, readonly [number, number]>> = Object.freeze({
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
export function binaryKernel(name: string): KernelFn {
  const [opBig, opSmall] = BINARY_OPS[name]!;
  return (args) => {
    const { inputs, backend } = args;
    const { a, b } = inputs as { a: Info; b: Info };
    const simd = simdKernels(backend);
    if (!simd || a.dtype !== "float32" || b.dtype !== "float32") return base.binary[name]!(args);
    const na = tf.util.sizeFromShape(a.shape);
    const nb = tf.util.sizeFromShape(b.shape);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = tf.util.sizeFromShape(outShape);
    const aBig = na === n;
    const [big, small] = aBig ? [a, b] : [b, a];
    const ns = aBig ? nb : na;
    if (tf.util.sizeFromShape(big.shape) !== n || n % 4 !== 0 || n === 0) return base.binary[name]!(args);
    // the small operand must repeat with period ns along the big one: same shape, scalar, or a trailing row
    const lead = small.shape.findIndex((d) => d !== 1);
    const row = lead < 0 ? [] : small.shape.slice(lead);
    const isRow = ns === n || ns === 1 || (ns % 4 === 0 && row.length <= big.shape.length && row.every((d, i) => d === big.shape[big.shape.length - row.length + i]));
    if (!isRow) return base.binary[name]!(args);
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
export const reluGradBias = ({ inputs, backend }: { inputs: Record<string, Info>; backend: BackendWasm }): Info[] => {
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
      const o = backend.typedArrayFromHeap(db) as Float32Array;
      sumParts(new Float64Array(o.buffer, acc, parts.length * c), parts.length, o);
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
export const relu6Grad: KernelFn = ({ inputs, backend }) => {
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
export const colSums2 = ({ inputs, backend }: { inputs: Record<string, Info>; backend: BackendWasm }): Info[] => {
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
      const both = new Float32Array(2 * c); // [Σ u, Σ u·v]
      sumParts(new Float64Array((backend.typedArrayFromHeap(s1) as Float32Array).buffer, acc, parts.length * 2 * c), parts.length, both);
      (backend.typedArrayFromHeap(s1) as Float32Array).set(both.subarray(0, c));
      (backend.typedArrayFromHeap(s2) as Float32Array).set(both.subarray(c));
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
export const affine: KernelFn = ({ inputs, backend }) => {
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

/**
 * One Adam / AdamW update in one pass (see fused_ops' adamStep): [w, m, v] from w, g, m, v and the
 * scalars in attrs, on the SIMD kernel split across threads, or a loop of the same float32 operations.
 */
export const adamStepKernel = ({ inputs, backend, attrs = {} }: { inputs: Record<string, Info>; backend: BackendWasm; attrs?: Record<string, unknown> }): Info[] => {
  const { w, g, m, v } = inputs as { w: Info; g: Info; m: Info; v: Info };
  const n = tf.util.sizeFromShape(w.shape);
  for (const t of [g, m, v]) {
    if (t.dtype !== "float32" || w.dtype !== "float32" || tf.util.sizeFromShape(t.shape) !== n) throw new Error(`${ADAM_STEP}: w, g, m, v must be float32 tensors of one size, got ${w.dtype}[${w.shape}] and ${t.dtype}[${t.shape}]`);
  }
  const a = attrs as Record<string, number>;
  // the scalars as float32 (as tfjs' scalar operands are), in the kernel's order
  const f = new Float32Array([a.beta1!, 1 - a.beta1!, a.beta2!, 1 - a.beta2!, a.bc1!, a.bc2!, a.epsilon!, a.lr!, a.l2 ?? 0, a.decay ?? 0]);
  const outs = [w, m, v].map((t) => backend.makeOutput(t.shape.slice(), "float32"));
  const simd = simdKernels(backend);
  if (simd) {
    const bits = Array.from(new Int32Array(f.buffer));
    const [wOff, gOff, mOff, vOff, woOff, moOff, voOff] = [w, g, m, v, ...outs].map((t) => heapOffset(backend, t)) as number[];
    simd.run(
      splitRange(Math.ceil(n / 4), simd.threadsFor(n, MIN_ELEMENTS_PER_THREAD)).map(([u0, u1]) => {
        const o = u0 * 16;
        return { fn: "adam", args: [wOff! + o, gOff! + o, mOff! + o, vOff! + o, woOff! + o, moOff! + o, voOff! + o, Math.min(u1 * 4, n) - u0 * 4, ...bits] };
      }),
    );
    return outs;
  }
  const [wv, gv, mv, vv, wo, mo, vo] = [w, g, m, v, ...outs].map((t) => backend.typedArrayFromHeap(t) as Float32Array) as Float32Array[];
  const [b1, nb1, b2, nb2, bc1, bc2, eps, lr, l2, dec] = f as unknown as number[];
  const r = Math.fround;
  for (let i = 0; i < n; i++) {
    const x = wv![i]!;
    const gi = l2! > 0 ? r(gv![i]! + r(x * l2!)) : gv![i]!;
    const mi = r(r(mv![i]! * b1!) + r(gi * nb1!));
    const vi = r(r(vv![i]! * b2!) + r(r(gi * gi) * nb2!));
    let u = r(r(mi / bc1!) / r(r(Math.sqrt(r(vi / bc2!))) + eps!));
    if (dec! > 0) u = r(u + r(x * dec!));
    mo![i] = mi;
    vo![i] = vi;
    wo![i] = r(x - r(u * lr!));
  }
  return outs;
};

/** e^x of float32 (4 floats or more) on the SIMD kernel, split across threads; otherwise wasm's kernel. */
export const exp: KernelFn = (args) => {
  const { inputs, backend } = args;
  const x = inputs.x as Info;
  const n = tf.util.sizeFromShape(x.shape);
  const simd = simdKernels(backend);
  if (!simd || x.dtype !== "float32" || n < 4) return base.exp(args);
  const out = backend.makeOutput(x.shape.slice(), "float32");
  const [xOff, oOff] = [heapOffset(backend, x), heapOffset(backend, out)];
  // parts of whole f32x4s; the last one takes the remainder (its last vector overlaps)
  const parts = splitRange(Math.floor(n / 4), simd.threadsFor(n, MIN_ELEMENTS_PER_THREAD));
  simd.run(parts.map(([u0, u1], p) => ({ fn: "exp", args: [xOff + u0 * 16, oOff + u0 * 16, p === parts.length - 1 ? n - u0 * 4 : (u1 - u0) * 4] })));
  return out;
};
