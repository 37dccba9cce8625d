import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { AdaCosHead, adaCos, ArcFaceHead, arcFace, classTextHead, cosFace, makeHead, SoftmaxHead, softmaxHead, subCenterArcFace } from "../../src/heads/index";
import { Rng } from "../../src/rng";

const TOL = 1e-4; // float32 vs float64 reference

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function randMatrix(r: Rng, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => r.normal()));
}

function norm(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  return v.map((x) => x / n);
}

/** Naive cos θ[i][c] with k sub-centres per class (columns c*k..c*k+k-1 of W [dim, C*k]). */
function naiveCos(x: number[][], W: number[][], classes: number, k: number): number[][] {
  const dim = W.length;
  const cols: number[][] = [];
  for (let j = 0; j < classes * k; j++) cols.push(norm(Array.from({ length: dim }, (_, d) => W[d]![j]!)));
  return x.map((row) => {
    const xn = norm(row);
    const out: number[] = [];
    for (let c = 0; c < classes; c++) {
      let best = -Infinity;
      for (let s = 0; s < k; s++) {
        const w = cols[c * k + s]!;
        best = Math.max(best, xn.reduce((a, v, d) => a + v * w[d]!, 0));
      }
      out.push(best);
    }
    return out;
  });
}

function naiveArc(cos: number, m: number, easy: boolean): number {
  const theta = Math.acos(cos);
  if (easy) return cos > 0 ? Math.cos(theta + m) : cos;
  return cos > Math.cos(Math.PI - m) ? Math.cos(theta + m) : cos - Math.sin(Math.PI - m) * m;
}

function setup(B = 6, dim = 5, C = 4) {
  const r = new Rng(7);
  const x = randMatrix(r, B, dim);
  const labels = Array.from({ length: B }, (_, i) => i % C);
  return { x, labels, B, dim, C };
}

function kernelOf(layer: tf.layers.Layer): number[][] {
  return layer.getWeights()[0]!.arraySync() as number[][];
}

function expectClose(a: number[][], b: number[][], tol = TOL) {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => {
    row.forEach((v, j) => {
      expect(Math.abs(v - b[i]![j]!)).toBeLessThan(tol * Math.max(1, Math.abs(b[i]![j]!)));
    });
  });
}

describe("margin heads vs naive loops", () => {
  for (const easy of [false, true]) {
    it(`ArcFace (easyMargin=${easy})`, () => {
      const { x, labels, C } = setup();
      const s = 30;
      const m = 0.5;
      const head = arcFace({ classes: C, s, m, easyMargin: easy, seed: 3 });
      const before = tf.memory().numTensors;
      const xt = tf.tensor2d(x);
      const yt = tf.tensor1d(labels, "int32");
      const gotT = head.apply([xt, yt]) as tf.Tensor;
      const infT = head.apply(xt) as tf.Tensor;
      const got = gotT.arraySync() as number[][];
      const inf = infT.arraySync() as number[][];
      tf.dispose([gotT, infT]);
      const cos = naiveCos(x, kernelOf(head), C, 1);
      const want = cos.map((row, i) => row.map((c, j) => s * (j === labels[i] ? naiveArc(c, m, easy) : c)));
      expectClose(got, want);
      expectClose(inf, cos.map((row) => row.map((c) => s * c)));
      tf.dispose([xt, yt]);
      expect(tf.memory().numTensors).toBe(before + 1); // + the kernel created on first apply
    });
  }

  it("ArcFace covers the θ+m > π branch", () => {
    // an embedding pointing away from its class centre: cos ≈ −1
    const head = arcFace({ classes: 2, s: 1, m: 0.5 });
    head.apply(tf.zeros([1, 2]));
    head.setWeights([tf.tensor2d([[1, 0], [0, 1]])]);
    const out = (head.apply([tf.tensor2d([[-1, 0.01]]), tf.tensor1d([0], "int32")]) as tf.Tensor).arraySync() as number[][];
    const c = -1 / Math.sqrt(1 + 1e-4);
    expect(out[0]![0]!).toBeCloseTo(naiveArc(c, 0.5, false), 4);
  });

  it("CosFace", () => {
    const { x, labels, C } = setup();
    const head = cosFace({ classes: C, s: 20, m: 0.3, seed: 1 });
    const got = (head.apply([tf.tensor2d(x), tf.tensor1d(labels, "int32")]) as tf.Tensor).arraySync() as number[][];
    const cos = naiveCos(x, kernelOf(head), C, 1);
    expectClose(got, cos.map((row, i) => row.map((c, j) => 20 * (c - (j === labels[i] ? 0.3 : 0)))));
  });

  it("sub-center ArcFace takes the max over k sub-centres", () => {
    const { x, labels, C } = setup();
    const head = subCenterArcFace({ classes: C, k: 3, s: 10, m: 0.2, seed: 2 });
    const got = (head.apply([tf.tensor2d(x), tf.tensor1d(labels, "int32")]) as tf.Tensor).arraySync() as number[][];
    const W = kernelOf(head);
    expect(W[0]!.length).toBe(C * 3);
    const cos = naiveCos(x, W, C, 3);
    expectClose(got, cos.map((row, i) => row.map((c, j) => 10 * (j === labels[i] ? naiveArc(c, 0.2, false) : c))));
  });

  it("AdaCos updates its scale by the paper's rule and saves it as a weight", () => {
    const { x, labels, C } = setup(8, 5, 4);
    const head = adaCos({ classes: C, seed: 4 });
    const xt = tf.tensor2d(x);
    const yt = tf.tensor1d(labels, "int32");
    head.apply(xt); // build
    const s0 = head.scale;
    expect(s0).toBeCloseTo(Math.SQRT2 * Math.log(C - 1), 5);
    const got = (head.apply([xt, yt], { training: true }) as tf.Tensor).arraySync() as number[][];
    const cos = naiveCos(x, kernelOf(head), C, 1);
    let bsum = 0;
    const th: number[] = [];
    cos.forEach((row, i) => {
      row.forEach((c, j) => {
        if (j === labels[i]) th.push(Math.acos(c));
        else bsum += Math.exp(s0 * c);
      });
    });
    th.sort((a, b) => a - b);
    const s1 = Math.log(bsum / x.length) / Math.cos(Math.min(Math.PI / 4, th[(th.length - 1) >> 1]!));
    expect(head.scale).toBeCloseTo(s1, 3);
    expectClose(got, cos.map((row) => row.map((c) => s1 * c)), 1e-3);
    expect(head.getWeights().length).toBe(2);
  });

  it("softmax head is x·W + b", () => {
    const { x, C } = setup();
    const head = softmaxHead({ classes: C, seed: 5 });
    const got = (head.apply(tf.tensor2d(x)) as tf.Tensor).arraySync() as number[][];
    const [W, b] = head.getWeights().map((w) => w.arraySync()) as [number[][], number[]];
    const want = x.map((row) => Array.from({ length: C }, (_, c) => row.reduce((a, v, d) => a + v * W[d]![c]!, b[c]!)));
    expectClose(got, want);
  });

  it("class-text head scores against fixed class embeddings", () => {
    const { x, labels } = setup(6, 5, 3);
    const E = [
      [1, 0, 0, 0, 0],
      [0, 1, 1, 0, 0],
      [0, 0, 0, 1, -1],
    ];
    const head = classTextHead({ classEmbeddings: E, s: 10, m: 0.1, project: false });
    const got = (head.apply([tf.tensor2d(x), tf.tensor1d(labels.map((l) => l % 3), "int32")]) as tf.Tensor).arraySync() as number[][];
    const want = x.map((row, i) => E.map((e, c) => 10 * (norm(row).reduce((a, v, d) => a + v * norm(e)[d]!, 0) - (c === labels[i]! % 3 ? 0.1 : 0))));
    expectClose(got, want);
    expect(head.trainableWeights.length).toBe(0);
    expect(() => classTextHead({ classEmbeddings: [[1, 2], [1]] })).toThrow(/row 1/);
  });
});

describe("head registry and serialisation", () => {
  it("rejects unknown names listing the valid ones", () => {
    expect(() => makeHead("arcfaec", { classes: 3 })).toThrow(/unknown head: arcfaec \(expected softmax\|arcface\|cosface\|adacos\|subcenter_arcface\)/);
  });

  it("k (a config key with default 3) gives sub-centres to subcenter_arcface only: arcface and cosface keep one centre per class", () => {
    const centres = (name: string) => (makeHead(name, { classes: 5, k: 3, seed: 1 }) as unknown as { k: number }).k;
    expect(centres("arcface")).toBe(1);
    expect(centres("cosface")).toBe(1);
    expect(centres("subcenter_arcface")).toBe(3);
  });

  it("heads round-trip through a saved LayersModel", async () => {
    for (const [name, cls] of [
      ["arcface", ArcFaceHead],
      ["adacos", AdaCosHead],
      ["softmax", SoftmaxHead],
    ] as const) {
      const inp = tf.input({ shape: [4] });
      const out = makeHead(name, { classes: 3, seed: 1 }).apply(inp) as tf.SymbolicTensor;
      const model = tf.model({ inputs: inp, outputs: out });
      let saved: tf.io.ModelArtifacts | undefined;
      await model.save(
        tf.io.withSaveHandler(async (a) => {
          saved = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
        }),
      );
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
      expect(loaded.layers[1]).toBeInstanceOf(cls);
      const x = tf.randomNormal([2, 4], 0, 1, "float32", 3);
      const a = (model.predict(x) as tf.Tensor).arraySync();
      const b = (loaded.predict(x) as tf.Tensor).arraySync();
      expect(b).toEqual(a);
    }
  });

  it("same seed gives the same weights", () => {
    const a = arcFace({ classes: 5, seed: 9 });
    const b = arcFace({ classes: 5, seed: 9 });
    a.apply(tf.zeros([1, 3]));
    b.apply(tf.zeros([1, 3]));
    expect(a.getWeights()[0]!.arraySync()).toEqual(b.getWeights()[0]!.arraySync());
  });
});
