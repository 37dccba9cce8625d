import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { adamStep } from "../../src/backend/fused_ops";
import { Rng } from "../../src/rng";
import { AdamW } from "../../src/train/optimizer";

// Shared by the wasm kernel test files (default, plain-SIMD, SIMD-off and threaded builds): each wasm
// kernel is compared with the cpu backend's reference implementation on the same inputs, to 1e-4
// relative (max |wasm − cpu| / max |cpu|).
export const TOL = 1e-4;

export type Pad = "same" | "valid" | number[][];

export function randn(shape: number[], seed: number): { data: Float32Array; shape: number[] } {
  const r = new Rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = r.normal();
  return { data, shape };
}

/** Runs `f` on wasm and on cpu (tensors built inside `f`), returns both results and checks leaks. */
export async function onBoth(f: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
  const out: Float32Array[] = [];
  for (const b of ["wasm", "cpu"]) {
    await tf.setBackend(b);
    const before = tf.memory().numTensors;
    const t = tf.tidy(f);
    out.push((await t.data()) as Float32Array);
    t.dispose();
    expect(tf.memory().numTensors, `tensor leak on ${b}`).toBe(before);
  }
  await tf.setBackend("wasm");
  return [out[0]!, out[1]!];
}

export function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return m / (s || 1);
}

export async function expectKernelMatches(f: () => tf.Tensor): Promise<void> {
  const [a, b] = await onBoth(f);
  expect(relErr(a, b)).toBeLessThan(TOL);
}

export const t4 = (x: { data: Float32Array; shape: number[] }) => tf.tensor4d(x.data, x.shape as [number, number, number, number]);

/**
 * Naive depthwise gradients straight from the definition y[b,i,j,c·m+q] = Σ x[b, i·s + a·d − top,
 * j·s + e·d − left, c]·W[a,e,c,q]. The cpu backend ignores dilations in its backprop kernels (tfjs'
 * gradients assert dilation 1), so dilated cases are checked against these loops instead.
 */
function naiveDepthwiseGrads(x: { data: Float32Array; shape: number[] }, w: { data: Float32Array; shape: number[] }, dy: { data: Float32Array; shape: number[] }, s: number, d: number, pad: Pad) {
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [fh, fw, , m] = w.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as never, w.shape as never, [s, s], [d, d], pad as "same", undefined, true);
  const [, ho, wo] = info.outShape;
  const dx = new Float64Array(x.data.length);
  const dW = new Float64Array(w.data.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let a = 0; a < fh; a++)
          for (let e = 0; e < fw; e++) {
            const y = i * s + a * d - info.padInfo.top;
            const xx = j * s + e * d - info.padInfo.left;
            if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
            for (let ch = 0; ch < c; ch++)
              for (let q = 0; q < m; q++) {
                const g = dy.data[((b * ho + i) * wo + j) * c * m + ch * m + q]!;
                const xi = ((b * h + y) * wd + xx) * c + ch;
                const wi = ((a * fw + e) * c + ch) * m + q;
                dW[wi]! += x.data[xi]! * g;
                dx[xi]! += w.data[wi]! * g;
              }
          }
  return { dx: Float32Array.from(dx), dW: Float32Array.from(dW) };
}

/** [H, W, inC, outC, filter, stride, pad, dilation] */
const CONV_CASES: Array<[number, number, number, number, number, number, Pad, number]> = [
  [7, 9, 3, 4, 3, 1, "same", 1],
  [7, 9, 3, 4, 3, 2, "same", 1],
  [8, 8, 2, 5, 3, 2, "valid", 1],
  [9, 7, 3, 2, 5, 3, "valid", 1],
  [6, 6, 2, 3, 3, 1, [[0, 0], [1, 2], [0, 1], [0, 0]], 1],
  [7, 7, 3, 3, 3, 2, [[0, 0], [2, 0], [1, 1], [0, 0]], 1],
  [7, 7, 3, 3, 1, 2, "valid", 1],
  [5, 6, 4, 3, 1, 1, "valid", 1],
  [7, 8, 2, 3, 5, 1, "same", 1],
  [6, 5, 2, 3, 3, 1, [[0, 0], [2, 0], [0, 2], [0, 0]], 1],
  [7, 7, 3, 3, 2, 2, "same", 1],
  [9, 9, 3, 3, 3, 1, "same", 2],
  [10, 9, 2, 2, 3, 1, "valid", 2],
  // channel counts the SIMD kernels take (Co % 8 == 0 and Ci ≥ 8 for the forward conv, Co % 4 == 0 for
  // the filter gradient): row tails, rows narrower than a 4-pixel tile, Ci not a multiple of 4
  [9, 10, 8, 8, 3, 1, "same", 1],
  [7, 7, 12, 16, 3, 2, "same", 1],
  [6, 5, 16, 8, 3, 1, [[0, 0], [1, 2], [0, 1], [0, 0]], 1],
  [8, 9, 8, 12, 1, 1, "valid", 1],
  [5, 3, 8, 16, 3, 1, "same", 1],
  [7, 9, 6, 8, 3, 2, "same", 1],
  [9, 9, 8, 8, 3, 1, "same", 2],
  [11, 10, 10, 8, 3, 1, "valid", 2],
  [8, 7, 8, 8, 3, 2, "same", 1],
  [9, 8, 16, 8, 2, 2, "valid", 1],
  // pointwise (1×1, stride 1): all pixels as one span
  [6, 7, 8, 16, 1, 1, "valid", 1],
  [5, 5, 12, 8, 1, 1, "same", 1],
  [3, 3, 6, 4, 1, 1, "valid", 1],
];

/** The conv kernels (forward, fused forward, both gradients, depthwise gradients), MaxPoolGrad and the element-wise kernels against cpu. */
export function describeWasmKernels(label: string): void {
describe(`wasm kernels match cpu (${label})`, () => {
  for (const [h, w, ci, co, f, s, pad, d] of CONV_CASES) {
    const tag = `${h}x${w} ${ci}->${co} k${f} s${s} ${JSON.stringify(pad)} d${d}`;
    const x = randn([2, h, w, ci], 1);
    const wt = randn([f, f, ci, co], 2);
    const dw1 = randn([f, f, ci, 1], 3);
    const dw2 = randn([f, f, ci, 2], 4);
    const outShape = (filter: { shape: number[] }, depthwise: boolean) =>
      tf.backend_util.computeConv2DInfo(x.shape as never, filter.shape as never, [s, s], [d, d], pad as "same", undefined, depthwise).outShape;

    it(`Conv2D and FusedConv2D (bias + relu) ${tag}`, async () => {
      const b = randn([co], 10);
      await expectKernelMatches(() => tf.conv2d(t4(x), t4(wt), s, pad as "same", "NHWC", d));
      await expectKernelMatches(
        () => tf.engine().runKernel("FusedConv2D", { x: t4(x), filter: t4(wt), bias: tf.tensor1d(b.data) }, { strides: [s, s], pad, dataFormat: "NHWC", dilations: [d, d], activation: "relu" }) as tf.Tensor,
      );
    });
    if (d === 1) {
      it(`Conv2DBackpropFilter ${tag}`, async () => {
        const dy = randn(outShape(wt, false), 5);
        await expectKernelMatches(() => tf.engine().runKernel("Conv2DBackpropFilter", { x: t4(x), dy: t4(dy) }, { strides: [s, s], pad, dataFormat: "NHWC", filterShape: wt.shape }) as tf.Tensor);
      });
      it(`Conv2DBackpropInput ${tag}`, async () => {
        const dy = randn(outShape(wt, false), 6);
        await expectKernelMatches(() => tf.engine().runKernel("Conv2DBackpropInput", { dy: t4(dy), filter: t4(wt) }, { strides: [s, s], pad, dataFormat: "NHWC", inputShape: x.shape }) as tf.Tensor);
      });
    }
    for (const filt of [dw1, dw2]) {
      const m = filt.shape[3];
      if (d > 1) {
        it(`Depthwise backprop filter + input ${tag} mult${m} (vs naive loops)`, async () => {
          const dy = randn(outShape(filt, true), 9);
          const ref = naiveDepthwiseGrads(x, filt, dy, s, d, pad);
          const before = tf.memory().numTensors;
          const [gW, gX] = tf.tidy(() => [
            tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x: t4(x), dy: t4(dy) }, { strides: [s, s], dilations: [d, d], pad, filterShape: filt.shape }) as tf.Tensor,
            tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy: t4(dy), filter: t4(filt) }, { strides: [s, s], dilations: [d, d], pad, inputShape: x.shape }) as tf.Tensor,
          ]);
          expect(relErr((await gW!.data()) as Float32Array, ref.dW)).toBeLessThan(TOL);
          expect(relErr((await gX!.data()) as Float32Array, ref.dx)).toBeLessThan(TOL);
          tf.dispose([gW!, gX!]);
          expect(tf.memory().numTensors).toBe(before);
        });
        continue;
      }
      it(`DepthwiseConv2dNativeBackpropFilter ${tag} mult${m}`, async () => {
        const dy = randn(outShape(filt, true), 7);
        await expectKernelMatches(
          () => tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x: t4(x), dy: t4(dy) }, { strides: [s, s], dilations: [d, d], pad, filterShape: filt.shape }) as tf.Tensor,
        );
      });
      it(`DepthwiseConv2dNativeBackpropInput ${tag} mult${m}`, async () => {
        const dy = randn(outShape(filt, true), 8);
        await expectKernelMatches(
          () => tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy: t4(dy), filter: t4(filt) }, { strides: [s, s], dilations: [d, d], pad, inputShape: x.shape }) as tf.Tensor,
        );
      });
    }
  }

  it("Conv2DBackpropFilter in batch chunks (im2col block over its size limit)", async () => {
    // 3×3 over 128×128×64: 9.4M im2col floats per image, so the two images go in separate blocks.
    const x = randn([2, 128, 128, 64], 11);
    const dy = randn([2, 128, 128, 1], 12);
    await expectKernelMatches(() => tf.engine().runKernel("Conv2DBackpropFilter", { x: t4(x), dy: t4(dy) }, { strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 64, 1] }) as tf.Tensor);
  });

  it("conv2d gradients through tf.grad (fused conv + bias + relu) match cpu", async () => {
    const x = randn([3, 11, 10, 4], 11);
    const wt = randn([3, 3, 4, 6], 12);
    const bias = randn([6], 13);
    for (const [s, pad] of [
      [1, "same"],
      [2, "valid"],
    ] as Array<[number, Pad]>) {
      const loss = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D) => {
        const y = tf.fused.conv2d({ x: xx, filter: ww, bias: bb, strides: s, pad: pad as "same", activation: "relu" });
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
      };
      for (let k = 0; k < 3; k++) {
        await expectKernelMatches(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor1D))([t4(x), t4(wt), tf.tensor1d(bias.data)])[k]!);
      }
    }
  });

  it("MaxPoolGrad (same/valid, strides 1/2, odd sizes, ties after relu; 4k channels for SIMD)", async () => {
    for (const [shape, seed] of [
      [[2, 7, 9, 5], 31],
      [[3, 7, 9, 8], 32],
      [[2, 8, 6, 12], 33],
    ] as Array<[number[], number]>) {
      const x = randn(shape, seed);
      for (const [k, s, pad] of [
        [2, 2, "valid"],
        [3, 2, "same"],
        [3, 1, "same"],
        [2, 1, "valid"],
      ] as Array<[number, number, "same" | "valid"]>) {
        const loss = (xx: tf.Tensor) => {
          const y = tf.maxPool(tf.relu(xx) as tf.Tensor4D, k, s, pad);
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape)))); // a different dy per cell
        };
        await expectKernelMatches(() => tf.grad(loss)(t4(x)));
      }
    }
  });

  it("element-wise Add/Sub/Multiply/RealDiv/Minimum/Maximum: same shape, trailing rows, scalars either side, other broadcasts, int32", async () => {
    const big = randn([3, 5, 4, 8], 71);
    const pos = (t: { data: Float32Array; shape: number[] }) => ({ data: t.data.map((v) => Math.abs(v) + 0.5), shape: t.shape });
    const others = [randn([3, 5, 4, 8], 72), randn([8], 73), randn([1, 1, 1, 8], 74), randn([4, 8], 75), randn([], 76), randn([1], 77), randn([3, 1, 1, 8], 78), randn([5, 1, 1], 79)];
    const ops: Array<(a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = [tf.add, tf.sub, tf.mul, tf.div, tf.minimum, tf.maximum];
    for (const ox of others) {
      for (const op of ops) {
        const t = (x: { data: Float32Array; shape: number[] }) => tf.tensor(x.data, x.shape);
        const den = pos(ox);
        await expectKernelMatches(() => (op === tf.div ? op(t(big), t(den)) : op(t(big), t(ox))));
        await expectKernelMatches(() => (op === tf.div ? op(t(pos(big)), t(ox)) : op(t(ox), t(big))));
      }
    }
    // odd sizes (not a multiple of 4) and int32 take wasm's own kernels
    await expectKernelMatches(() => tf.mul(tf.tensor(randn([3, 5], 81).data, [3, 5]), tf.tensor(randn([5], 82).data, [5])));
    await expectKernelMatches(() => tf.add(tf.tensor1d([1, 2, 3, 4], "int32"), tf.tensor1d([5, 6, 7, 8], "int32")).toFloat());
  });
  it("fused Adam / AdamW step (MatchlabAdamStep) equals the composite on cpu over several steps, odd sizes, no leaks", async () => {
    for (const shape of [[1], [3], [7], [69], [13, 7]]) {
      for (const [l2, decay] of [
        [0, 0],
        [0.01, 0],
        [0, 0.05],
      ] as const) {
        const run = async (b: string) => {
          await tf.setBackend(b);
          const before = tf.memory().numTensors;
          let [w, m, v] = [tf.tensor(randn(shape, 121).data, shape), tf.zeros(shape), tf.zeros(shape)];
          for (let t = 1; t <= 5; t++) {
            const g = tf.tensor(randn(shape, 130 + t).data, shape);
            const next = adamStep(w, g, m, v, { beta1: 0.9, beta2: 0.999, bc1: 1 - 0.9 ** t, bc2: 1 - 0.999 ** t, epsilon: 1e-8, lr: 0.01, l2, decay });
            tf.dispose([w, m, v, g]);
            [w, m, v] = next;
          }
          const out = await Promise.all([w, m, v].map((x) => x.data() as Promise<Float32Array>));
          tf.dispose([w, m, v]);
          expect(tf.memory().numTensors, `tensor leak on ${b}`).toBe(before);
          return out;
        };
        const wasm = await run("wasm");
        const cpu = await run("cpu");
        await tf.setBackend("wasm");
        // the same float32 operations in the same order: equal to 1e-6 relative (in practice bit for bit)
        for (let i = 0; i < 3; i++) expect(relErr(wasm[i]!, cpu[i]!)).toBeLessThan(1e-6);
      }
    }
  });
  it("matchlab's AdamW (kind adam, fused on wasm) follows tf.train.adam over several steps", async () => {
    const shapes = [[5, 9], [9], [70, 3]];
    const vars = shapes.map((s, i) => tf.variable(tf.tensor(randn(s, 140 + i).data, s), true, `p${i}`));
    const ref = shapes.map((s, i) => tf.variable(tf.tensor(randn(s, 140 + i).data, s), true, `r${i}`));
    const before = tf.memory().numTensors;
    const ours = new AdamW(vars.map((v, i) => ({ name: `p${i}`, variable: v })), { kind: "adam", lr: 0.01, weightDecay: 0, epsilon: 1e-7 });
    const theirs = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
    for (let t = 0; t < 5; t++) {
      const grads = shapes.map((s, i) => tf.tensor(randn(s, 150 + 10 * t + i).data, s));
      ours.step(grads);
      theirs.applyGradients(ref.map((r, i) => ({ name: r.name, tensor: grads[i]! })));
      tf.dispose(grads);
    }
    for (let i = 0; i < shapes.length; i++) expect(relErr(vars[i]!.dataSync() as Float32Array, ref[i]!.dataSync() as Float32Array)).toBeLessThan(1e-5);
    ours.dispose();
    theirs.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...vars, ...ref]);
  });
  it("Exp (SIMD range reduction and polynomial) within 2e-7 relative of cpu per element; edges, odd sizes, softmax cross-entropy gradient", async () => {
    const r = new Rng(161);
    const xs = Array.from({ length: 69 * 5 }, () => (r.next() - 0.5) * 170);
    xs.splice(0, 8, 0, -0, 1e-30, -1e-30, 88.7, -87.3, 0.5 * Math.LN2, -0.5 * Math.LN2);
    for (const n of [1, 3, 4, 5, 7, 69, xs.length]) {
      const [w, c] = await onBoth(() => tf.exp(tf.tensor1d(xs.slice(0, n))));
      for (let i = 0; i < n; i++) expect(Math.abs(w[i]! - c[i]!), `exp(${xs[i]})`).toBeLessThanOrEqual(2e-7 * c[i]! + 1e-44);
    }
    const [w, c] = await onBoth(() => tf.exp(tf.tensor1d([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, -200, 200, 89.5, -104.5, 0])));
    expect(Array.from(w)).toEqual(Array.from(c));
    const logits = randn([7, 69], 162);
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 5, 68, 3, 3, 9, 40], "int32"), 69));
    await expectKernelMatches(() => tf.grad((z: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, z))(tf.tensor(logits.data, logits.shape)));
    labels.dispose();
  });
  it("GEMM kernels: every transpose combination over odd M, K, N (1, 3, 7, 69), k blocks of gemm_nt, fused bias and ReLU", async () => {
    const t = (shape: number[], seed: number) => tf.tensor(randn(shape, seed).data, shape);
    const dims = [1, 3, 7, 69];
    for (const m of dims) {
      for (const k of dims) {
        for (const n of dims) {
          for (const [ta, tb] of [
            [false, false],
            [true, false],
            [false, true],
            [true, true],
          ] as const) {
            const as = ta ? [k, m] : [m, k];
            const bs = tb ? [n, k] : [k, n];
            await expectKernelMatches(() => tf.matMul(t(as, m * 7 + k), t(bs, n * 5 + k), ta, tb));
          }
        }
      }
    }
    // k across gemm_nt's blocks of 256 (and not a multiple of 4); the dense head's shapes, scaled down
    await expectKernelMatches(() => tf.matMul(t([9, 517], 101), t([13, 517], 102), false, true));
    await expectKernelMatches(() => tf.matMul(t([5, 600], 103), t([600, 37], 104)));
    await expectKernelMatches(() => tf.matMul(t([64, 69], 105), t([64, 131], 106), true, false));
    for (const [ta, m, k, n] of [
      [false, 7, 69, 3],
      [true, 69, 7, 13],
      [true, 3, 1, 9],
    ] as const) {
      for (const activation of ["relu", "linear"] as const) {
        await expectKernelMatches(() => tf.fused.matMul({ a: t(ta ? [k, m] : [m, k], 107) as tf.Tensor2D, b: t([k, n], 108) as tf.Tensor2D, transposeA: ta, bias: t([n], 109), activation }));
      }
    }
  });
  it("matMul / fused matMul (bias, relu) on the SIMD kernels: A·B, A·Bᵀ, Aᵀ·B, odd M and N, batch-1 rank 3", async () => {
    const t = (shape: number[], seed: number) => tf.tensor(randn(shape, seed).data, shape);
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[13, 40], [40, 24], false, false],
      [[9, 20], [20, 37], false, false],
      [[6, 16], [40, 16], false, true],
      [[5, 12], [33, 12], false, true],
      [[11, 13], [11, 37], true, false],
      [[64, 9], [64, 8], true, false],
      [[1, 9, 20], [1, 20, 32], false, false],
      [[1, 20, 9], [1, 20, 35], true, false],
    ];
    for (const [as, bs, ta, tb] of cases) {
      await expectKernelMatches(() => tf.matMul(t(as, 91), t(bs, 92), ta, tb));
      if (!ta && as.length === 2) {
        const n = tb ? bs[0]! : bs[1]!;
        for (const activation of ["relu", "linear"] as const) {
          await expectKernelMatches(() => tf.fused.matMul({ a: t(as, 93) as tf.Tensor2D, b: t(bs, 94) as tf.Tensor2D, transposeB: tb, bias: t([n], 95), activation }));
        }
      }
    }
  });
});
}
