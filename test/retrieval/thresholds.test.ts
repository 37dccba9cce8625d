import { describe, expect, it } from "vitest";
import { matchScores } from "../../src/metrics/matching";
import { knnSearch } from "../../src/retrieval/knn";
import { thresholdMatches } from "../../src/retrieval/match_rules";
import { bestThreshold, distanceSummary, distributionOverlap, linspace, pairDistanceFrame, pairDistances } from "../../src/retrieval/thresholds";
import { sparseDot, sparseKnn, tfidfVectors } from "../../src/retrieval/tfidf";
import { clustered } from "./fixtures";

describe("thresholds and pair distances", async () => {
  const { data, dim, labels } = clustered(6, 25, 4, 12, 0.8);
  const nb = await knnSearch(data, dim, { k: 8, engine: "js", label: null });

  it("bestThreshold is the arg-max of a brute-force sweep", () => {
    const th = linspace(0, 1, 21);
    const best = bestThreshold(nb, labels, { maxDistances: th });
    const f1s = th.map((t) => matchScores(thresholdMatches(nb, { maxDistance: t }), labels).f1);
    const m = Math.max(...f1s);
    expect(best.f1).toBeCloseTo(m, 12);
    expect(best.maxDistance).toBe(th[f1s.indexOf(m)]);
    expect(best.curve).toHaveLength(21);
    expect(bestThreshold(nb, labels).curve).toHaveLength(41);
    expect(best.curve.map((p) => p.maxDistance)).toEqual(th);
    // the old option name is refused, not silently ignored
    expect(() => bestThreshold(nb, labels, { thresholds: th } as never)).toThrow(/`thresholds` is now `maxDistances`/);
    expect(() => thresholdMatches(nb, { threshold: 0.4 } as never)).toThrow(/`threshold` is now `maxDistance`/);
  });

  it("pair distances split by group; overlap in [0, 1]", () => {
    const p = pairDistances(nb, labels);
    expect(p.matched.length + p.unmatched.length).toBe(25 * 4 * 7);
    for (let i = 0; i < p.matched.length; i++) expect(labels[p.matchedRows[i]!]).toBeDefined();
    const med = (a: Float32Array) => Float32Array.from(a).sort()[a.length >> 1]!;
    expect(med(p.matched)).toBeLessThan(med(p.unmatched));
    expect(distributionOverlap([0, 0.1, 0.2], [0.8, 0.9, 1])).toBe(0);
    expect(distributionOverlap([0.5, 0.5], [0.5, 0.5])).toBeCloseTo(1, 12);
    const o = distributionOverlap(p.matched, p.unmatched);
    expect(o).toBeGreaterThanOrEqual(0);
    expect(o).toBeLessThanOrEqual(1);
  });

  it("danfo frames per branch and fold", () => {
    const folds = Int32Array.from({ length: 100 }, (_, i) => i % 2);
    const df = pairDistanceFrame([{ name: "emb", neighbours: nb }], labels, { folds });
    expect(df.shape[0]).toBe(25 * 4 * 7);
    expect(df.columns).toEqual(["branch", "fold", "distance", "matched"]);
    const s = distanceSummary([{ name: "emb", neighbours: nb }], labels, { folds });
    expect(s.shape[0]).toBe(3);
    expect(s.column("fold").values).toEqual(["all", "0", "1"]);
    expect(s.columns).toContain("bestMaxDistance");
    expect(s.column("bestMaxDistance").values[0]).toBe(bestThreshold(nb, labels).maxDistance);
  });
});

describe("tf-idf titles", () => {
  const titles = ["red apple fresh", "fresh red apple", "green pear", "pear green ripe", "blue car toy", "apple"];
  it("idf, normalisation and sparse dot match a dense computation", () => {
    const { vectors, vocabulary, idf } = tfidfVectors(titles, { maxDfRatio: 1 });
    expect(vocabulary.size).toBe(9);
    const apple = vocabulary.get("apple")!;
    expect(idf[apple]).toBeCloseTo(Math.log(7 / 4) + 1, 6);
    const dense = (r: number) => {
      const v = new Float64Array(vectors.cols);
      for (let e = vectors.indptr[r]!; e < vectors.indptr[r + 1]!; e++) v[vectors.indices[e]!] = vectors.values[e]!;
      return v;
    };
    for (let a = 0; a < titles.length; a++) {
      const va = dense(a);
      expect(Math.hypot(...va)).toBeCloseTo(1, 5);
      for (let b = 0; b < titles.length; b++) {
        const vb = dense(b);
        expect(sparseDot(vectors, a, b)).toBeCloseTo(va.reduce((s, x, i) => s + x * vb[i]!, 0), 5);
      }
    }
    expect(sparseDot(vectors, 0, 1)).toBeCloseTo(1, 5);
  });

  it("sparse kNN ranks by cosine and pads rows with no shared terms", () => {
    const { vectors } = tfidfVectors(titles, { maxDfRatio: 1 });
    const nb = sparseKnn(vectors, { k: 4, label: null });
    expect(nb.indices[0]).toBe(0);
    expect(nb.indices[1]).toBe(1);
    expect(nb.distances[1]).toBeCloseTo(0, 5);
    expect(Array.from(nb.indices.subarray(4 * 4, 4 * 4 + 4))).toEqual([4, -1, -1, -1]);
    for (let r = 0; r < titles.length; r++) {
      for (let t = 1; t < 4; t++) {
        const j = nb.indices[r * 4 + t]!;
        if (j >= 0) expect(nb.distances[r * 4 + t]).toBeCloseTo(1 - sparseDot(vectors, r, j), 5);
      }
    }
  });
});
