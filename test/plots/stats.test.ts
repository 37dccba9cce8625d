import { describe, expect, it } from "vitest";
import { Rng } from "../../src/rng";
import { binCounts, binEdges, boxStats, normaliseCounts, quantileSorted } from "../../src/plots/stats";

function sample(n: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.next() * 10 - 3);
}

describe("binning", () => {
  it("counts match a naive loop, and every in-range value lands in one bin", () => {
    const v = sample(1000, 1);
    const edges = binEdges([v], { bins: 17 });
    expect(edges).toHaveLength(18);
    const naive = new Array(17).fill(0);
    for (const x of v) {
      for (let i = 0; i < 17; i++) {
        const last = i === 16;
        if (x >= edges[i]! && (x < edges[i + 1]! || (last && x <= edges[i + 1]!))) {
          naive[i]++;
          break;
        }
      }
    }
    const counts = binCounts(v, edges);
    expect(counts).toEqual(naive);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it("shares edges across series and honours range and explicit edges", () => {
    const e = binEdges([[0, 1], [5, 9]], { bins: 3 });
    expect(e).toEqual([0, 3, 6, 9]);
    expect(binEdges([[0, 100]], { bins: 2, range: [0, 10] })).toEqual([0, 5, 10]);
    expect(binCounts([0, 100, 10, 5], [0, 5, 10])).toEqual([1, 2]);
    expect(binEdges([[1]], { bins: [0, 1, 4] })).toEqual([0, 1, 4]);
    expect(binEdges([[2, 2, 2]], { bins: 2 })).toEqual([1.5, 2, 2.5]);
  });

  it("rules give sensible counts and bad input says what is wrong", () => {
    const v = sample(1000, 2);
    expect(binEdges([v], { bins: "sturges" })).toHaveLength(12); // ceil(log2 1000) + 1 = 11 bins
    expect(binEdges([v], { bins: "sqrt" })).toHaveLength(33);
    expect(binEdges([v], { bins: "auto" }).length).toBeGreaterThanOrEqual(12);
    expect(() => binEdges([v], { bins: "bogus" as never })).toThrow(/unknown bin rule: bogus \(expected sturges\|sqrt\|fd\|auto\)/);
    expect(() => binEdges([v], { bins: [1, 1] })).toThrow(/strictly ascending/);
    expect(() => binEdges([v], { bins: 0 })).toThrow(/positive integer/);
  });

  it("normalisations: probability sums to 1, density integrates to 1", () => {
    const edges = [0, 0.5, 2, 4];
    const c = [2, 6, 2];
    const p = normaliseCounts(c, edges, "probability");
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const d = normaliseCounts(c, edges, "density");
    expect(d.reduce((s, v, i) => s + v * (edges[i + 1]! - edges[i]!), 0)).toBeCloseTo(1, 12);
    expect(normaliseCounts(c, edges, "percent")).toEqual([20, 60, 20]);
    expect(() => normaliseCounts(c, edges, "x" as never)).toThrow(/unknown histnorm: x/);
  });
});

describe("boxStats", () => {
  it("matches numpy-style linear quantiles and Tukey whiskers", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    const s = boxStats([1, 2, 3, 4, 5, 6, 7, 8, 100]);
    expect(s.q1).toBe(3);
    expect(s.median).toBe(5);
    expect(s.q3).toBe(7);
    expect(s.upperFence).toBe(8);
    expect(s.lowerFence).toBe(1);
    expect(s.outliers).toEqual([100]);
    expect(s.mean).toBeCloseTo(136 / 9, 12);
  });

  it("rejects empty and non-finite input, naming where", () => {
    expect(() => boxStats([], "d")).toThrow(/d: no values/);
    expect(() => boxStats([1, Number.NaN], "d")).toThrow(/d: value at index 1 is NaN/);
  });
});
