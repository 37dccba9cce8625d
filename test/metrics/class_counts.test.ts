import { describe, expect, it } from "vitest";
import { countClasses, effectiveNumber, imbalanceSummary } from "../../src/metrics/class_counts";

describe("countClasses", () => {
  it("counts largest first, ties in first-seen order", () => {
    const t = countClasses(["b", "a", "c", "a", "b", "a", "d"]);
    expect(t.classes).toEqual(["a", "b", "c", "d"]);
    expect(t.counts).toEqual([3, 2, 1, 1]);
    expect(countClasses(Int32Array.from([2, 0, 2]))).toEqual({ classes: [2, 0], counts: [2, 1] });
    expect(countClasses([])).toEqual({ classes: [], counts: [] });
  });

  it("rejects missing labels, naming the index", () => {
    expect(() => countClasses(["a", undefined as unknown as string])).toThrow(/index 1/);
    expect(() => countClasses([1, Number.NaN])).toThrow(/index 1/);
  });
});

describe("effectiveNumber", () => {
  it("matches (1 − β^n)/(1 − β) by hand", () => {
    expect(effectiveNumber(10, 0.9)).toBeCloseTo((1 - 0.9 ** 10) / 0.1, 12);
    expect(effectiveNumber(1, 0.999)).toBeCloseTo(1, 12);
    expect(effectiveNumber(5, 0)).toBe(1);
    expect(effectiveNumber(0, 0.9)).toBe(0);
    // tends to n as β → 1
    expect(effectiveNumber(20, 1 - 1e-9)).toBeCloseTo(20, 4);
  });

  it("rejects β outside [0, 1) and negative n", () => {
    expect(() => effectiveNumber(3, 1)).toThrow(/beta/);
    expect(() => effectiveNumber(-1, 0.5)).toThrow(/n must/);
  });
});

describe("imbalanceSummary", () => {
  it("matches a hand-computed case", () => {
    // counts 1, 2, 3, 6 (a zero is ignored)
    const s = imbalanceSummary([3, 0, 1, 6, 2], { beta: 0.5 });
    expect(s.classes).toBe(4);
    expect(s.samples).toBe(12);
    expect(s.maxCount).toBe(6);
    expect(s.minCount).toBe(1);
    expect(s.medianCount).toBe(2.5);
    expect(s.imbalanceRatio).toBe(6);
    // Gini = Σ_i Σ_j |x_i − x_j| / (2 k² mean); pairs: |1-2|+|1-3|+|1-6|+|2-3|+|2-6|+|3-6| = 16, ×2 = 32; 32 / (2·16·3) = 1/3
    expect(s.gini).toBeCloseTo(1 / 3, 12);
    const p = [1, 2, 3, 6].map((x) => x / 12);
    const h = -p.reduce((a, q) => a + q * Math.log(q), 0);
    expect(s.normalizedEntropy).toBeCloseTo(h / Math.log(4), 12);
    expect(s.effectiveClasses).toBeCloseTo(Math.exp(h), 12);
    // largest first: 6 ≥ 12/2 → one class holds half
    expect(s.classesForHalf).toBe(1);
    expect(s.singletons).toBe(1);
    const e = (n: number) => (1 - 0.5 ** n) / 0.5;
    expect(s.effectiveSamples).toBeCloseTo(e(1) + e(2) + e(3) + e(6), 12);
    expect(s.effectiveImbalanceRatio).toBeCloseTo(e(6) / e(1), 12);
  });

  it("is 0-Gini, entropy 1 when balanced", () => {
    const s = imbalanceSummary([5, 5, 5, 5]);
    expect(s.gini).toBeCloseTo(0, 12);
    expect(s.normalizedEntropy).toBeCloseTo(1, 12);
    expect(s.imbalanceRatio).toBe(1);
    expect(s.classesForHalf).toBe(2);
    expect(s.medianCount).toBe(5);
  });

  it("Gini matches the naive pairwise definition on random counts", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let t = 0; t < 5; t++) {
      const xs = Array.from({ length: 3 + t * 4 }, () => 1 + Math.floor(rand() * 100));
      let pair = 0;
      for (const a of xs) for (const b of xs) pair += Math.abs(a - b);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(imbalanceSummary(xs).gini).toBeCloseTo(pair / (2 * xs.length ** 2 * mean), 10);
    }
  });

  it("rejects bad counts", () => {
    expect(() => imbalanceSummary([0, 0])).toThrow(/no class/);
    expect(() => imbalanceSummary([1, -2])).toThrow(/counts\[1\]/);
  });
});
