import { describe, expect, it } from "vitest";
import {
  accuracy,
  argmaxRows,
  CLASSIFY_METRICS,
  CLASSIFY_METRICS_COLUMNS,
  classificationMetrics,
  confusionMatrix,
  mostConfused,
  precisionRecallF1,
  topKAccuracy,
} from "../../src/metrics/classification";
import { Rng } from "../../src/rng";
import { pythonHas, runPython } from "./python_ref";

describe("classification metrics: hand-computed cases", () => {
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 1, 1, 1, 0, 0];

  it("accuracy", () => {
    expect(accuracy(yTrue, yPred)).toBeCloseTo(3 / 6, 12);
    expect(accuracy([], [])).toBe(0);
    expect(() => accuracy([0], [0, 1])).toThrow(/1 samples but yPred has 2/);
  });

  it("confusion matrix counts true rows × predicted columns", () => {
    const cm = confusionMatrix(yTrue, yPred);
    expect(cm.numClasses).toBe(3);
    expect(Array.from(cm.counts)).toEqual([1, 1, 0, 0, 2, 0, 2, 0, 0]);
    expect(() => confusionMatrix([0, 5], [0, 1], 3)).toThrow(/class 5 at index 1/);
  });

  it("precision/recall/F1 with zero division = 0", () => {
    const r = precisionRecallF1(yTrue, yPred);
    // class 0: tp 1, predicted 3, support 2 → p 1/3, r 1/2, f1 0.4
    // class 1: tp 2, predicted 3, support 2 → p 2/3, r 1, f1 0.8
    // class 2: tp 0, predicted 0, support 2 → p 0 (0/0), r 0, f1 0
    expect(Array.from(r.precision)).toEqual([1 / 3, 2 / 3, 0]);
    expect(Array.from(r.recall)).toEqual([0.5, 1, 0]);
    expect(r.f1[0]).toBeCloseTo(0.4, 12);
    expect(r.f1[1]).toBeCloseTo(0.8, 12);
    expect(r.f1[2]).toBe(0);
    expect(r.macro.f1).toBeCloseTo(0.4, 12);
    expect(r.macro.precision).toBeCloseTo(1 / 3, 12);
    expect(r.micro.f1).toBeCloseTo(0.5, 12);
    expect(r.weighted.recall).toBeCloseTo(0.5, 12);
  });

  it("labels: present skips classes absent from both, all keeps them", () => {
    const present = precisionRecallF1([0, 2], [0, 2], { numClasses: 4 });
    expect(Array.from(present.labels)).toEqual([0, 2]);
    expect(present.macro.f1).toBe(1);
    const all = precisionRecallF1([0, 2], [0, 2], { numClasses: 4, labels: "all" });
    expect(all.macro.f1).toBe(0.5);
  });

  it("top-k accuracy breaks ties toward the higher class index", () => {
    const scores = new Float32Array([0.1, 0.5, 0.4, /**/ 0.9, 0.05, 0.05, /**/ 0.2, 0.2, 0.6]);
    expect(topKAccuracy([2, 0, 0], scores, 3, 1)).toBeCloseTo(1 / 3, 12);
    // row 2: scores 0.2 (class 0) ties 0.2 (class 1) — class 1 ranks above class 0
    expect(topKAccuracy([2, 0, 0], scores, 3, 2)).toBeCloseTo(2 / 3, 12);
    expect(topKAccuracy([2, 0, 1], scores, 3, 2)).toBe(1);
    expect(() => topKAccuracy([0], scores, 3, 1)).toThrow(/expected n × numClasses/);
  });

  it("argmaxRows takes the first maximum", () => {
    expect(Array.from(argmaxRows([0.1, 0.9, 0.5, 0.5], 2))).toEqual([1, 0]);
  });

  it("mostConfused orders off-diagonal cells by count and names them", () => {
    const cm = confusionMatrix(yTrue, yPred);
    const top = mostConfused(cm, { names: ["a", "b", "c"] });
    expect(top[0]).toEqual({ actual: 2, predicted: 0, count: 2, actualName: "c", predictedName: "a" });
    expect(top.map((p) => [p.actual, p.predicted])).toEqual([
      [2, 0],
      [0, 1],
    ]);
    expect(mostConfused(cm, { minCount: 2 })).toHaveLength(1);
  });
});

const sk = pythonHas("sklearn");

describe.skipIf(!sk.ok)(`classification metrics vs scikit-learn${sk.ok ? "" : ` (skipped: ${sk.why})`}`, () => {
  it("matches sklearn on random cases", () => {
    const rng = new Rng(7);
    const cases = [];
    for (let c = 0; c < 12; c++) {
      const n = 5 + rng.int(60);
      const k = 3 + rng.int(5);
      const yTrue = Array.from({ length: n }, () => rng.int(k));
      // predictions: mostly right, sometimes a random class (some classes never predicted)
      const yPred = yTrue.map((t) => (rng.bool(0.6) ? t : rng.int(k - 1)));
      const scores = Array.from({ length: n * k }, () => Math.round(rng.next() * 8) / 8);
      cases.push({ yTrue, yPred, k, scores, topk: 1 + rng.int(k - 1) });
    }
    const ref = runPython<any[]>(
      `import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, confusion_matrix, top_k_accuracy_score
out = []
for c in inp:
    yt, yp, k = c["yTrue"], c["yPred"], c["k"]
    r = {"acc": accuracy_score(yt, yp), "cm": confusion_matrix(yt, yp, labels=list(range(k))).ravel().tolist()}
    for avg in ["macro", "micro", "weighted"]:
        p, rc, f, _ = precision_recall_fscore_support(yt, yp, average=avg, zero_division=0)
        r[avg] = [p, rc, f]
    p, rc, f, s = precision_recall_fscore_support(yt, yp, labels=list(range(k)), average=None, zero_division=0)
    r["per"] = [p.tolist(), rc.tolist(), f.tolist(), s.tolist()]
    sc = np.array(c["scores"]).reshape(len(yt), k)
    r["topk"] = top_k_accuracy_score(yt, sc, k=c["topk"], labels=list(range(k)))
    out.append(r)
print(json.dumps(out))`,
      cases,
    );
    cases.forEach((c, i) => {
      const r = ref[i];
      expect(accuracy(c.yTrue, c.yPred)).toBeCloseTo(r.acc, 10);
      expect(Array.from(confusionMatrix(c.yTrue, c.yPred, c.k).counts)).toEqual(r.cm);
      const m = precisionRecallF1(c.yTrue, c.yPred, { numClasses: c.k });
      for (const avg of ["macro", "micro", "weighted"] as const) {
        expect(m[avg].precision).toBeCloseTo(r[avg][0], 10);
        expect(m[avg].recall).toBeCloseTo(r[avg][1], 10);
        expect(m[avg].f1).toBeCloseTo(r[avg][2], 10);
      }
      for (let j = 0; j < c.k; j++) {
        expect(m.precision[j]).toBeCloseTo(r.per[0][j], 10);
        expect(m.recall[j]).toBeCloseTo(r.per[1][j], 10);
        expect(m.f1[j]).toBeCloseTo(r.per[2][j], 10);
        expect(m.support[j]).toBe(r.per[3][j]);
      }
      expect(topKAccuracy(c.yTrue, new Float32Array(c.scores), c.k, c.topk)).toBeCloseTo(r.topk, 10);
    });
  });
});

describe("classificationMetrics (one split's metrics.csv values)", () => {
  it("matches a hand-computed case", () => {
    // 4 samples, 3 classes; argmax: 0, 2, 2, 1; labels 0, 1, 2, 1
    const scores = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.1, 0.7, 0.1, 0.5, 0.4];
    const m = classificationMetrics([0, 1, 2, 1], scores, 3, 0.25);
    expect(Object.keys(m)).toEqual([...CLASSIFY_METRICS]);
    expect(m.loss).toBe(0.25);
    expect(m.accuracy).toBe(0.75);
    expect(m.top5).toBe(1); // top-min(5, 3) = top-3 covers every class
    // per class P: 1, 1, 1/2; R: 1, 1/2, 1; F1: 1, 2/3, 2/3
    expect(m.macro_precision).toBeCloseTo((1 + 1 + 0.5) / 3, 12);
    expect(m.macro_recall).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
    expect(m.macro_f1).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3, 12);
    expect(m.micro_precision).toBeCloseTo(0.75, 12);
    expect(m.micro_recall).toBeCloseTo(0.75, 12);
    expect(m.micro_f1).toBeCloseTo(0.75, 12);
  });

  it("CLASSIFY_METRICS_COLUMNS is epoch, then every metric for train and for val", () => {
    expect(CLASSIFY_METRICS_COLUMNS).toEqual(["epoch", ...CLASSIFY_METRICS.map((m) => `train_${m}`), ...CLASSIFY_METRICS.map((m) => `val_${m}`)]);
    expect(CLASSIFY_METRICS_COLUMNS).toContain("train_top5");
    expect(CLASSIFY_METRICS_COLUMNS).toContain("val_micro_recall");
    expect(CLASSIFY_METRICS_COLUMNS.length).toBe(1 + 2 * 9);
  });
});
