import { describe, expect, it } from "vitest";
import { confusionSummary, perClassReport, recallByBand, recallFrequencyPoints } from "../../src/metrics/per_class";

// 3 classes; true: 0×4, 1×3, 2×2; predictions hand-picked
const yTrue = [0, 0, 0, 0, 1, 1, 1, 2, 2];
const yPred = [0, 0, 0, 1, 1, 0, 0, 2, 0];
const names = ["head", "mid", "tail"];
const trainCounts = [40, 12, 3];

describe("perClassReport", () => {
  it("matches hand-computed per-class precision/recall/F1 next to training counts", () => {
    const rows = perClassReport(yTrue, yPred, { names, trainCounts });
    expect(rows.map((r) => r.name)).toEqual(["head", "mid", "tail"]);
    const [h, m, t] = rows;
    // class 0: TP 3, predicted 0 at rows 0, 1, 2, 5, 6, 8 → P = 3/6, R = 3/4
    expect(h!.precision).toBeCloseTo(3 / 6, 12);
    expect(h!.recall).toBeCloseTo(3 / 4, 12);
    expect(h!.f1).toBeCloseTo((2 * 0.5 * 0.75) / 1.25, 12);
    // class 1: TP 1, predicted twice → P = 1/2, R = 1/3
    expect(m!.precision).toBeCloseTo(1 / 2, 12);
    expect(m!.recall).toBeCloseTo(1 / 3, 12);
    // class 2: TP 1, predicted once → P = 1, R = 1/2
    expect(t!.precision).toBe(1);
    expect(t!.recall).toBe(0.5);
    expect(rows.map((r) => r.support)).toEqual([4, 3, 2]);
    expect(rows.map((r) => r.trainCount)).toEqual([40, 12, 3]);
    expect(h!.trainShare).toBeCloseTo(40 / 55, 12);
  });

  it("sorts by training count, drops classes without evaluation samples unless asked", () => {
    const rows = perClassReport([1, 1], [1, 0], { trainCounts: [2, 9, 5] });
    expect(rows.map((r) => r.class)).toEqual([1]);
    const all = perClassReport([1, 1], [1, 0], { trainCounts: [2, 9, 5], includeUnseen: true });
    expect(all.map((r) => r.class)).toEqual([1, 2, 0]);
  });

  it("rejects mismatched names and counts", () => {
    expect(() => perClassReport(yTrue, yPred, { names: ["a"] })).toThrow(/names has 1/);
    expect(() => perClassReport(yTrue, yPred, { trainCounts: [1, 2] })).toThrow(/trainCounts has 2/);
  });
});

describe("recall against frequency", () => {
  const rows = perClassReport(yTrue, yPred, { names, trainCounts });

  it("gives scatter points and bands by rank", () => {
    const p = recallFrequencyPoints(rows);
    expect(p.x).toEqual([40, 12, 3]);
    expect(p.y.map((v) => Number(v.toFixed(6)))).toEqual([0.75, 0.333333, 0.5]);
    expect(p.groups).toEqual(["head", "middle", "tail"]);
    expect(p.text[0]).toBe("head: 40 train, 4 eval");
    // Pearson of log1p(x) with y, by hand
    const lx = [40, 12, 3].map(Math.log1p);
    const y = [0.75, 1 / 3, 0.5];
    const mx = lx.reduce((a, b) => a + b) / 3;
    const my = y.reduce((a, b) => a + b) / 3;
    const cov = lx.reduce((a, v, i) => a + (v - mx) * (y[i]! - my), 0);
    const r = cov / Math.sqrt(lx.reduce((a, v) => a + (v - mx) ** 2, 0) * y.reduce((a, v) => a + (v - my) ** 2, 0));
    expect(p.correlation).toBeCloseTo(r, 12);
  });

  it("averages recall per band", () => {
    const b = recallByBand(rows, 2);
    // 3 classes in 2 bands: rank 0,1 → head (i·2/3 < 1 for i = 0, 1), rank 2 → tail
    expect(b.map((x) => x.band)).toEqual(["head", "tail"]);
    expect(b[0]!.classes).toBe(2);
    expect(b[0]!.meanRecall).toBeCloseTo((0.75 + 1 / 3) / 2, 12);
    expect(b[0]!.minCount).toBe(12);
    expect(b[0]!.maxCount).toBe(40);
    expect(b[1]!.meanRecall).toBe(0.5);
    expect(b[1]!.support).toBe(2);
    expect(() => recallByBand(rows, 0)).toThrow(/bands/);
  });
});

describe("confusionSummary", () => {
  it("lists the most-confused pairs with their share of the true class", () => {
    const s = confusionSummary(yTrue, yPred, { names, top: 5 });
    // off-diagonal: mid→head 2, head→mid 1, tail→head 1
    expect(s).toEqual([
      { actual: "mid", predicted: "head", count: 2, shareOfActual: 2 / 3 },
      { actual: "head", predicted: "mid", count: 1, shareOfActual: 1 / 4 },
      { actual: "tail", predicted: "head", count: 1, shareOfActual: 1 / 2 },
    ]);
    expect(confusionSummary(yTrue, yPred, { minCount: 2 })).toEqual([{ actual: "1", predicted: "0", count: 2, shareOfActual: 2 / 3 }]);
  });
});
