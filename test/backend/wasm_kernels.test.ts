import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backend/index";
import { simdKernels, splitRange } from "../../src/backend/simd_kernels";
import { describeWasmKernels, expectKernelMatches, randn } from "./conv_suite";

beforeAll(async () => {
  const info = await initBackend({ backend: "wasm", log: () => {} });
  expect(info.backend).toBe("wasm");
});

describe("matchlab's SIMD kernels", () => {
  it("load on the wasm heap, in the relaxed-SIMD (multiply-add) build on this V8, one thread", () => {
    const k = simdKernels(tf.backend() as never);
    expect(k).toBeDefined();
    expect(k!.relaxed).toBe(true);
    expect(k!.threads).toBe(1);
  });

  it("splitRange covers [0, n) in near-equal contiguous parts", () => {
    expect(splitRange(5, 2)).toEqual([
      [0, 2],
      [2, 5],
    ]);
    expect(splitRange(1, 4)).toEqual([[0, 1]]);
    expect(splitRange(0, 3)).toEqual([]);
    for (const [n, p] of [
      [32, 3],
      [7, 7],
      [9, 4],
    ]) {
      const parts = splitRange(n!, p!);
      expect(parts.flat()[0]).toBe(0);
      expect(parts.at(-1)![1]).toBe(n);
      for (let i = 1; i < parts.length; i++) expect(parts[i]![0]).toBe(parts[i - 1]![1]);
      const sizes = parts.map(([a, b]) => b - a);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});

describeWasmKernels("SIMD kernels, default build");

describe("other wasm training kernels match cpu", () => {
  it("UnsortedSegmentSum (gather / embedding gradient), out-of-range ids dropped", async () => {
    const x = randn([6, 3, 4], 21);
    await expectKernelMatches(() => tf.unsortedSegmentSum(tf.tensor(x.data, x.shape), tf.tensor1d([2, 0, 2, 4, 1, 2], "int32"), 5));
    await expectKernelMatches(() => tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, tf.tensor2d([[1, 3], [3, 9]], [2, 2], "int32")), tf.range(0, 16).reshape([2, 2, 4]))))(tf.tensor(randn([10, 4], 22).data, [10, 4])));
  });

  it("Sum over leading axes (bias gradients) and over other axes", async () => {
    const x = randn([3, 4, 5, 6], 41);
    for (const [axis, keep] of [
      [[0, 1, 2], false],
      [[0], true],
      [[1, 2], false],
      [[1, 2], true],
      [[1], false],
      [[0, 2], false],
      [[3], false],
      [[0, 1, 2, 3], false],
    ] as Array<[number[], boolean]>) {
      await expectKernelMatches(() => tf.sum(tf.tensor(x.data, x.shape), axis, keep));
    }
  });

  it("Mean over leading and other axes; Tile over every rank and dtype", async () => {
    const x = randn([3, 4, 5, 6], 45);
    for (const axis of [[0, 1, 2], [0], [2, 3], [1], [1, 2], [0, 2]]) await expectKernelMatches(() => tf.mean(tf.tensor(x.data, x.shape), axis));
    const y = randn([2, 1, 3], 46);
    for (const reps of [[1, 1, 1], [3, 4, 2], [1, 5, 1], [2, 1, 1]]) await expectKernelMatches(() => tf.tile(tf.tensor(y.data, y.shape), reps));
    await expectKernelMatches(() => tf.tile(tf.tensor(randn([1, 1, 1, 7], 47).data, [1, 1, 1, 7]), [2, 3, 4, 1]));
    await expectKernelMatches(() => tf.tile(tf.tensor1d([1, 2, 3], "int32"), [3]).toFloat());
    await expectKernelMatches(() => tf.tile(tf.tensor2d([[1, 0]], [1, 2], "bool"), [2, 2]).toFloat());
    await expectKernelMatches(() => tf.tile(tf.scalar(2.5).reshape([]), []).reshape([1]));
  });

  it("Cast to the same dtype shares data; other casts convert", async () => {
    const x = randn([2, 3, 4], 49);
    await expectKernelMatches(() => tf.cast(tf.tensor(x.data, x.shape), "float32"));
    await expectKernelMatches(() => tf.cast(tf.cast(tf.tensor(x.data, x.shape), "int32"), "int32").toFloat());
    // the shared result stays valid after its source is disposed
    const a = tf.tensor([1.5, -2], [2], "float32");
    const b = tf.engine().runKernel("Cast", { x: a }, { dtype: "float32" }) as tf.Tensor;
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1.5, -2]);
    b.dispose();
  });

  it("Transpose (which the composite kernels build on) over ranks 1–5 and dtypes", async () => {
    const x = randn([2, 3, 1, 4, 5], 48);
    for (const perm of [[4, 3, 2, 1, 0], [0, 1, 2, 3, 4], [1, 0, 2, 3, 4], [0, 1, 2, 4, 3], [3, 4, 0, 1, 2], [2, 0, 4, 1, 3]]) {
      await expectKernelMatches(() => tf.transpose(tf.tensor(x.data, x.shape), perm));
    }
    const m = randn([37, 53], 49);
    await expectKernelMatches(() => tf.transpose(tf.tensor(m.data, m.shape)));
    await expectKernelMatches(() => tf.transpose(tf.tensor4d(x.data.slice(0, 120), [2, 3, 4, 5]), [3, 1, 2, 0]));
    await expectKernelMatches(() => tf.transpose(tf.tensor4d(x.data.slice(0, 120), [2, 3, 4, 5]), [1, 2, 0, 3]));
    await expectKernelMatches(() => tf.transpose(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], "int32")).toFloat());
    await expectKernelMatches(() => tf.transpose(tf.tensor2d([1, 0, 0, 1, 1, 0], [3, 2], "bool")).toFloat());
    await expectKernelMatches(() => tf.transpose(tf.tensor1d([1, 2, 3])));
  });

  it("matMul with transposed operands (dense-layer gradients)", async () => {
    const a = randn([7, 5], 51);
    const b = randn([7, 3], 52);
    const c = randn([2, 7, 5], 53);
    const d = randn([2, 7, 4], 54);
    await expectKernelMatches(() => tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape), true, false));
    await expectKernelMatches(() => tf.matMul(tf.tensor(c.data, c.shape), tf.tensor(d.data, d.shape), true, false));
    const e = randn([5, 7], 55);
    await expectKernelMatches(() => tf.matMul(tf.tensor(b.data, b.shape), tf.tensor(e.data, e.shape), true, true));
    const f = randn([3, 5], 56);
    await expectKernelMatches(() => tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(f.data, f.shape), false, true));
    const g = randn([2, 4, 5], 57);
    await expectKernelMatches(() => tf.matMul(tf.tensor(c.data, c.shape), tf.tensor(g.data, g.shape), false, true));
  });

  it("embedding + GeM + l2-normalised margin head (acos/cos/clip/pow/mean) gradients match cpu", async () => {
    const E = randn([12, 8], 61);
    const W = randn([8, 5], 62);
    const loss = (e: tf.Tensor, w: tf.Tensor, p: tf.Tensor) => {
      const ids = tf.tensor2d([[1, 4, 4, 7], [0, 11, 3, 3], [5, 5, 5, 2]], [3, 4], "int32");
      const emb = tf.gather(e, ids).reshape([3, 2, 2, 8]);
      const gem = tf.pow(tf.mean(tf.pow(tf.maximum(emb, 1e-6), p), [1, 2]), tf.div(1, p));
      const f = tf.div(gem, tf.norm(gem, 2, 1, true));
      const wn = tf.div(w, tf.norm(w, 2, 0, true));
      const cos = tf.clipByValue(tf.matMul(f, wn), -1 + 1e-6, 1 - 1e-6);
      const onehot = tf.oneHot(tf.tensor1d([0, 3, 1], "int32"), 5);
      const logits = tf.mul(tf.cos(tf.add(tf.acos(cos), tf.mul(onehot, 0.3))), 16);
      return tf.losses.softmaxCrossEntropy(onehot, logits);
    };
    for (let k = 0; k < 3; k++) {
      await expectKernelMatches(() => tf.grads(loss)([tf.tensor(E.data, E.shape), tf.tensor(W.data, W.shape), tf.scalar(3)])[k]!);
    }
  });
});
