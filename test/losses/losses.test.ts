import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { batchHardTripletLoss, classWeights, crossEntropyLoss, focalLoss, reduceLoss, weightedLossSum } from "../../src/losses/index";
import { Rng } from "../../src/rng";

const TOL = 1e-4; // float32 tensors vs float64 loops

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function fixture(B = 7, C = 4, seed = 1) {
  const r = new Rng(seed);
  const logits = Array.from({ length: B }, () => Array.from({ length: C }, () => 3 * r.normal()));
  const labels = Array.from({ length: B }, () => r.int(C));
  return { logits, labels, B, C };
}

function logSoftmax(row: number[]): number[] {
  const mx = Math.max(...row);
  const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
  return row.map((v) => v - lse);
}

function run(f: () => tf.Tensor): number[] {
  const before = tf.memory().numTensors;
  const t = f();
  const out = Array.from(t.dataSync());
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe("cross-entropy and focal vs naive loops", () => {
  it("cross-entropy with label smoothing and class weights", () => {
    const { logits, labels, C } = fixture();
    const w = [0.5, 1, 2, 1.5];
    for (const eps of [0, 0.1]) {
      const got = run(() => tf.tidy(() => crossEntropyLoss(tf.tensor2d(logits), tf.tensor1d(labels, "int32"), { labelSmoothing: eps, classWeights: w })));
      const want = logits.map((row, i) => {
        const lp = logSoftmax(row);
        let l = 0;
        for (let c = 0; c < C; c++) l -= ((c === labels[i] ? 1 - eps : 0) + eps / C) * lp[c]!;
        return l * w[labels[i]!]!;
      });
      got.forEach((v, i) => {
        expect(Math.abs(v - want[i]!)).toBeLessThan(TOL);
      });
    }
  });

  it("focal loss; γ=0 equals cross-entropy", () => {
    const { logits, labels } = fixture();
    const got = run(() => tf.tidy(() => focalLoss(tf.tensor2d(logits), tf.tensor1d(labels, "int32"), { gamma: 2 })));
    const want = logits.map((row, i) => {
      const lp = logSoftmax(row)[labels[i]!]!;
      return -((1 - Math.exp(lp)) ** 2) * lp;
    });
    got.forEach((v, i) => {
        expect(Math.abs(v - want[i]!)).toBeLessThan(TOL);
      });
    const f0 = run(() => tf.tidy(() => focalLoss(tf.tensor2d(logits), tf.tensor1d(labels, "int32"), { gamma: 0 })));
    const ce = run(() => tf.tidy(() => crossEntropyLoss(tf.tensor2d(logits), tf.tensor1d(labels, "int32"))));
    f0.forEach((v, i) => {
        expect(v).toBeCloseTo(ce[i]!, 5);
      });
  });

  it("rejects bad options", () => {
    expect(() => crossEntropyLoss(tf.zeros([1, 2]), tf.zeros([1]), { labelSmoothing: 1 })).toThrow(/labelSmoothing must be in \[0, 1\)/);
    expect(() => crossEntropyLoss(tf.zeros([1, 2]), tf.zeros([1]), { classWeights: [1] })).toThrow(/expected one per class \(2\)/);
  });
});

describe("batch-hard triplet vs a loop over triplets", () => {
  for (const distance of ["euclidean", "cosine"] as const) {
    it(distance, () => {
      const r = new Rng(3);
      const B = 8;
      const x = Array.from({ length: B }, () => Array.from({ length: 4 }, () => r.normal()));
      const y = [0, 0, 1, 1, 1, 2, 3, 3]; // anchor 5 has no positive
      const margin = 0.3;
      const got = run(() => tf.tidy(() => batchHardTripletLoss(tf.tensor2d(x), tf.tensor1d(y, "int32"), { margin, distance })));
      const n = x.map((v) => {
        const s = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
        return v.map((t) => t / s);
      });
      const dist = (a: number[], b: number[]) =>
        distance === "euclidean" ? Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]!) ** 2, 0)) : 1 - a.reduce((s, v, k) => s + v * b[k]!, 0);
      for (let a = 0; a < B; a++) {
        // the batch-hard loss equals the max over all (p, n) triplets of the hinge
        let worst = 0;
        let any = false;
        for (let p = 0; p < B; p++)
          for (let q = 0; q < B; q++) {
            if (p === a || y[p] !== y[a] || y[q] === y[a]) continue;
            any = true;
            worst = Math.max(worst, dist(n[a]!, n[p]!) - dist(n[a]!, n[q]!) + margin);
          }
        expect(Math.abs(got[a]! - (any ? worst : 0))).toBeLessThan(1e-4);
      }
      expect(got[5]).toBe(0);
    });
  }

  it("has finite gradients (no NaN from sqrt at 0)", () => {
    const x = tf.tensor2d([[1, 0], [1, 0], [0, 1], [0, 1]]);
    const y = tf.tensor1d([0, 0, 1, 1], "int32");
    const g = tf.grad((e: tf.Tensor) => batchHardTripletLoss(e, y).sum())(x);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
  });
});

describe("reducers and weighted sums", () => {
  it("reduces", () => {
    const l = [0, 2, 0, 4];
    const r = (mode: Parameters<typeof reduceLoss>[1], w?: number[]) =>
      run(() => tf.tidy(() => reduceLoss(tf.tensor1d(l), mode, w ? tf.tensor1d(w) : undefined)));
    expect(r("mean")[0]).toBeCloseTo(1.5);
    expect(r("sum")[0]).toBeCloseTo(6);
    expect(r("mean_nonzero")[0]).toBeCloseTo(3);
    expect(r("none")).toEqual(l);
    expect(r("mean", [1, 1, 0, 2])[0]).toBeCloseTo((2 + 8) / 4);
    expect(() => reduceLoss(tf.tensor1d(l), "avg" as never)).toThrow(/unknown reduction: avg \(expected mean\|sum\|none\|mean_nonzero\)/);
  });

  it("weighted sum", () => {
    const v = run(() => tf.tidy(() => weightedLossSum([{ weight: 0.5, loss: tf.scalar(2) }, { weight: 2, loss: tf.scalar(3) }])));
    expect(v[0]).toBeCloseTo(7);
  });
});

describe("classWeights", () => {
  const counts = [1, 4, 16, 0];
  it("matches the formulas, normalised to sum to the number of present classes", () => {
    const check = (w: Float64Array, raw: number[]) => {
      const s = raw.reduce((a, b) => a + b, 0);
      raw.forEach((v, c) => {
        expect(w[c]).toBeCloseTo((v * 3) / s, 10);
      });
      expect(w[3]).toBe(0);
    };
    check(classWeights(counts, "inverse"), [1, 1 / 4, 1 / 16]);
    check(classWeights(counts, "inverse_sqrt"), [1, 1 / 2, 1 / 4]);
    check(classWeights(counts, "power", { alpha: 0.25 }), [1, 4 ** -0.25, 16 ** -0.25]);
    const b = 0.9;
    check(classWeights(counts, "effective_number", { beta: b }), [1, 4, 16].map((n) => (1 - b) / (1 - b ** n)));
    check(classWeights(counts, "none"), [1, 1, 1]);
  });
  it("samples normalisation gives mean weight 1 per sample", () => {
    const w = classWeights(counts, "inverse", { normalize: "samples" });
    expect(counts.reduce((a, n, c) => a + n * w[c]!, 0) / 21).toBeCloseTo(1, 10);
  });
  it("rejects bad input", () => {
    expect(() => classWeights(counts, "inv" as never)).toThrow(/expected none\|inverse\|inverse_sqrt\|effective_number\|power/);
    expect(() => classWeights([1, -1], "inverse")).toThrow(/counts\[1\]/);
  });
});
