import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { bagIds, buildMatchModel, GeMPooling, GridCells, hashedNgrams, MaskedMeanPool, MaxAvgPooling, StepDropout, setDropoutStep, tokenIds, TransformerBlock } from "../../src/models/index";
import { Rng } from "../../src/rng";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const TOL = 1e-4;
const rand = (shape: number[], seed: number) => {
  const r = new Rng(seed);
  return tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.uniform(0, 1)), shape);
};

describe("pooling vs naive loops", () => {
  it("GeM's gradients (x and the learned p) equal the closed form in double precision, to 1e-4 relative", () => {
    const x = rand([2, 3, 3, 4], 7);
    const v = x.arraySync() as number[][][][];
    const gem = new GeMPooling({ p: 2.5 });
    tf.dispose(gem.apply(x) as tf.Tensor); // builds p
    const p = gem.trainableWeights[0]!.read() as tf.Variable;
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => (gem.apply(x) as tf.Tensor).sum() as tf.Scalar, [p]);
    const dx = tf.grad((xx: tf.Tensor) => (gem.apply(xx) as tf.Tensor).sum())(x);
    const gotDp = grads[p.name]!.dataSync()[0]!;
    const gotDx = dx.arraySync() as number[][][][];
    tf.dispose([value, dx, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const P = 2.5;
    let dp = 0;
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 4; c++) {
        let m = 0;
        let mlog = 0;
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            const t = Math.max(v[b]![i]![j]![c]!, 1e-6);
            m += t ** P / 9;
            mlog += (t ** P * Math.log(t)) / 9;
          }
        const y = m ** (1 / P);
        dp += y * (-Math.log(m) / P ** 2 + mlog / (P * m));
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            const t = v[b]![i]![j]![c]!;
            const want = t > 1e-6 ? (1 / 9) * t ** (P - 1) * m ** (1 / P - 1) : 0;
            expect(gotDx[b]![i]![j]![c]!).toBeCloseTo(want, 4);
          }
      }
    expect(Math.abs(gotDp - dp) / Math.abs(dp)).toBeLessThan(1e-4);
  });

  it("GeM = (mean x^p)^(1/p) with learnable p; max+avg concatenates", () => {
    const x = rand([2, 3, 3, 4], 1);
    const v = x.arraySync() as number[][][][];
    const gem = new GeMPooling({ p: 2.5 });
    const got = (gem.apply(x) as tf.Tensor).arraySync() as number[][];
    expect(gem.trainableWeights.length).toBe(1);
    const ma = (new MaxAvgPooling().apply(x) as tf.Tensor).arraySync() as number[][];
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 4; c++) {
        let s = 0;
        let mx = -Infinity;
        let mean = 0;
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            const t = v[b]![i]![j]![c]!;
            s += Math.max(t, 1e-6) ** 2.5;
            mx = Math.max(mx, t);
            mean += t / 9;
          }
        expect(Math.abs(got[b]![c]! - (s / 9) ** (1 / 2.5))).toBeLessThan(TOL);
        expect(ma[b]![c]).toBeCloseTo(mx, 5);
        expect(ma[b]![4 + c]).toBeCloseTo(mean, 5);
      }
  });
});

describe("transformer pieces vs naive loops", () => {
  it("TransformerBlock equals a loop implementation with key masking", () => {
    const B = 2;
    const T = 3;
    const d = 4;
    const heads = 2;
    const x = rand([B, T, d], 2);
    const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1]]);
    const blk = new TransformerBlock({ heads, ffMult: 2, seed: 4 });
    const got = (blk.apply([x, mask]) as tf.Tensor).arraySync() as number[][][];
    const W = Object.fromEntries(blk.weights.map((w) => [w.originalName.split("/").pop()!, w.read().arraySync()])) as Record<string, any>;
    const X = x.arraySync() as number[][][];
    const M = mask.arraySync() as number[][];
    const ln = (v: number[], g: number[], b: number[]) => {
      const mu = v.reduce((a, c) => a + c, 0) / v.length;
      const va = v.reduce((a, c) => a + (c - mu) ** 2, 0) / v.length;
      return v.map((c, i) => ((c - mu) / Math.sqrt(va + 1e-5)) * g[i]! + b[i]!);
    };
    const mv = (v: number[], w: number[][]) => w[0]!.map((_, j) => v.reduce((a, c, i) => a + c * w[i]![j]!, 0));
    const dh = d / heads;
    for (let b = 0; b < B; b++) {
      const xn = X[b]!.map((v) => ln(v, W.ln1_g, W.ln1_b));
      const q = xn.map((v) => mv(v, W.wq));
      const k = xn.map((v) => mv(v, W.wk));
      const vv = xn.map((v) => mv(v, W.wv));
      for (let t = 0; t < T; t++) {
        const att = new Array(d).fill(0);
        for (let h = 0; h < heads; h++) {
          const sc = Array.from({ length: T }, (_, u) => {
            let s = 0;
            for (let e = 0; e < dh; e++) s += q[t]![h * dh + e]! * k[u]![h * dh + e]!;
            return M[b]![u]! ? s / Math.sqrt(dh) : -Infinity;
          });
          const mx = Math.max(...sc);
          const ex = sc.map((s) => Math.exp(s - mx));
          const z = ex.reduce((a, c) => a + c, 0);
          for (let u = 0; u < T; u++) for (let e = 0; e < dh; e++) att[h * dh + e] += (ex[u]! / z) * vv[u]![h * dh + e]!;
        }
        const y = X[b]![t]!.map((c, i) => c + mv(att, W.wo)[i]! + W.bo[i]!);
        const yn = ln(y, W.ln2_g, W.ln2_b);
        const hdn = mv(yn, W.w1).map((c, i) => Math.max(0, c + W.b1[i]!));
        const out = y.map((c, i) => c + mv(hdn, W.w2)[i]! + W.b2[i]!);
        out.forEach((o, i) => {
          expect(Math.abs(got[b]![t]![i]! - o)).toBeLessThan(TOL);
        });
      }
    }
  });

  it("GridCells adds each cell's normalised box; masked mean ignores padding", () => {
    const fm = rand([1, 2, 3, 5], 3);
    const cells = (new GridCells().apply(fm) as tf.Tensor).arraySync() as number[][][];
    expect(cells[0]!.length).toBe(6);
    expect(cells[0]![4]!.slice(5)).toEqual([1 / 3, 1 / 2, 2 / 3, 1, 1 / 3, 1 / 2].map((v) => Math.fround(v)));
    const x = tf.tensor3d([[[1, 2], [3, 4], [100, 100]]]);
    const m = (new MaskedMeanPool().apply([x, tf.tensor2d([[1, 1, 0]])]) as tf.Tensor).arraySync();
    expect(m).toEqual([[2, 3]]);
  });
});

describe("text features", () => {
  it("hashed n-grams are deterministic, L2-normalised, and share buckets for shared words", () => {
    const a = hashedNgrams(["red apple", "red apple", "green pear", ""], { dim: 256 });
    const row = (i: number) => Array.from(a.subarray(i * 256, (i + 1) * 256));
    expect(row(0)).toEqual(row(1));
    expect(row(0).reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 5);
    expect(row(3).every((v) => v === 0)).toBe(true);
    const b = hashedNgrams(["red pear"], { dim: 256 });
    const dot = (u: number[], v: ArrayLike<number>) => u.reduce((s, x, i) => s + x * v[i]!, 0);
    expect(dot(row(0), b)).toBeGreaterThan(dot(row(2), hashedNgrams(["blue sky"], { dim: 256 })));
  });
  it("token ids start with [CLS], pad with 0 and stay in the vocabulary", () => {
    const t = tokenIds(["Hello, world!", "a b c d e f g h i j"], { vocab: 50, maxLen: 6 });
    expect(t[0]).toBe(1);
    expect(t[3]).toBe(0);
    expect(Array.from(t).every((v) => v >= 0 && v < 50)).toBe(true);
  });
});

describe("sub-word bags", () => {
  it("bag ids: every word, then the character 3–5-grams of <word>, hashed into 1..vocab-1, padded with 0", () => {
    const ids = bagIds(["Red apple", "red", ""], { vocab: 1000, maxLen: 40 });
    const row = (i: number) => Array.from(ids.subarray(i * 40, (i + 1) * 40));
    // "<red>" has 3 + 2 + 1 n-grams of length 3..5, "<apple>" 5 + 4 + 3: 2 words + 18 pieces.
    expect(row(0).filter((v) => v > 0)).toHaveLength(20);
    expect(row(0).slice(20).every((v) => v === 0)).toBe(true);
    expect(row(2).every((v) => v === 0)).toBe(true);
    expect(row(0)[0]).toBe(row(1)[0]); // "Red" and "red": one word id
    expect(row(1).slice(1, 7)).toEqual(row(0).slice(2, 8)); // red's n-grams come right after the words
    expect(Array.from(ids).every((v) => v >= 0 && v < 1000)).toBe(true);
    expect(Array.from(bagIds(["red apple"], { vocab: 1000, maxLen: 3 }))).toEqual(row(0).slice(0, 3)); // truncation keeps the words
    expect(() => bagIds(["x"], { vocab: 1 })).toThrow(/vocab must be an integer >= 2/);
  });
  it("the bag encoder is the mean of the pieces' vectors (padding ignored), against a loop", () => {
    const { model } = buildMatchModel({ image: { encoder: "none" }, text: { encoder: "bag", vocab: 50, maxLen: 6, width: 4 }, embeddingDim: 3, seed: 2 });
    const ids = [
      [3, 7, 7, 0, 0, 0],
      [49, 1, 2, 3, 4, 5],
      [0, 0, 0, 0, 0, 0],
    ];
    const table = model.getLayer("txt_embed").getWeights()[0]!.arraySync() as number[][];
    const pooled = tf.model({ inputs: model.inputs, outputs: model.getLayer("txt_pool").output as tf.SymbolicTensor });
    const x = tf.tensor2d(ids, [3, 6], "int32");
    const out = pooled.predict(x) as tf.Tensor;
    const got = out.arraySync() as number[][];
    out.dispose();
    ids.forEach((r, i) => {
      const used = r.filter((v) => v > 0);
      for (let d = 0; d < 4; d++) {
        const want = used.length ? used.reduce((s, v) => s + table[v]![d]!, 0) / used.length : 0;
        expect(got[i]![d]!).toBeCloseTo(want, 6);
      }
    });
    const before = tf.memory().numTensors;
    tf.dispose(pooled.predict(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe("the matching model", () => {
  for (const kind of ["concat", "add", "residual", "transformer"] as const) {
    it(`builds with ${kind} fusion, deterministically under a seed`, () => {
      const opts = { image: { size: 16, widths: [4, 8] }, text: { encoder: kind === "transformer" ? ("transformer" as const) : ("ngram" as const), dim: 32, width: 8, heads: 2, maxLen: 5 }, fusion: { kind, width: 8, heads: 2 }, embeddingDim: 6, seed: 9 };
      const a = buildMatchModel(opts);
      const b = buildMatchModel(opts);
      expect(a.branches).toEqual(["image", "text", "fused"]);
      const img = rand([2, 16, 16, 3], 5);
      const txt = kind === "transformer" ? tf.tensor2d([[1, 4, 5, 0, 0], [1, 9, 0, 0, 0]], [2, 5], "int32") : rand([2, 32], 6);
      const before = tf.memory().numTensors;
      const outs = a.model.predict([img, txt]) as tf.Tensor[];
      expect(outs.map((o) => o.shape)).toEqual([[2, 6], [2, 6], [2, 6]]);
      const outsB = b.model.predict([img, txt]) as tf.Tensor[];
      expect(outsB[2]!.arraySync()).toEqual(outs[2]!.arraySync());
      tf.dispose([...outs, ...outsB]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("uses the MobileNetV2 builder as an image encoder", () => {
    const { model, branches } = buildMatchModel({ image: { encoder: "mobilenet_v2", size: 32, alpha: 0.35 }, text: { encoder: "none" }, embeddingDim: 8, seed: 2 });
    expect(branches).toEqual(["image"]);
    const out = model.predict(rand([1, 32, 32, 3], 8)) as tf.Tensor;
    expect(out.shape).toEqual([1, 8]);
    out.dispose();
  });

  it("rejects impossible combinations with a clear message", () => {
    expect(() => buildMatchModel({ fusion: { kind: "mix" as never } })).toThrow(/unknown fusion: mix \(expected concat\|add\|residual\|transformer\|none\)/);
    expect(() => buildMatchModel({ fusion: { kind: "transformer" } })).toThrow(/needs text.encoder: transformer/);
    expect(() => buildMatchModel({ image: { encoder: "none" }, fusion: { kind: "concat" } })).toThrow(/needs both an image and a text encoder/);
  });

  it("step-keyed dropout is deterministic per step and differs between steps", () => {
    const { model } = buildMatchModel({ image: { encoder: "none" }, text: { dim: 16 }, embeddingDim: 4, dropout: 0.5, seed: 1 });
    const x = rand([3, 16], 7);
    const run = (step: number) => {
      setDropoutStep(model, step);
      return (model.apply(x, { training: true }) as tf.Tensor).arraySync();
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
    expect(model.layers.some((l) => l instanceof StepDropout)).toBe(true);
  });
});
