import { describe, expect, it } from "vitest";
import type { KnnResult } from "../../src/retrieval/knn";
import { knnSearch } from "../../src/retrieval/knn";
import {
  applyMin2,
  combineMatches,
  exactKeyMatches,
  iterativeBlend,
  knnWithinFolds,
  neighbourhoodBlend,
  normalizeTitle,
  thresholdMatches,
} from "../../src/retrieval/match_rules";
import { bestThreshold } from "../../src/retrieval/thresholds";
import { l2NormalizeRows } from "../../src/retrieval/vectors";
import { clustered } from "./fixtures";

/** A hand-made neighbour list: rows of [index, distance] pairs. */
function lists(rows: [number, number][][], k: number): KnnResult {
  const n = rows.length;
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Number.POSITIVE_INFINITY);
  rows.forEach((r, i) => {
    r.forEach(([j, d], t) => {
      indices[i * k + t] = j;
      distances[i * k + t] = d;
    });
  });
  return { n, k, metric: "cosine", indices, distances, engine: "test" };
}

const nb = lists(
  [
    [[0, 0], [1, 0.2], [2, 0.5]],
    [[1, 0], [0, 0.2], [3, 0.7]],
    [[2, 0], [3, 0.6], [0, 0.5]],
    [[3, 0], [2, 0.6], [1, 0.7]],
  ],
  3,
);

describe("match rules", () => {
  it("threshold keeps neighbours within distance; min-2 adds the nearest other", () => {
    const a = thresholdMatches(nb, { maxDistance: 0.3, min2: false });
    expect(a.map((s) => Array.from(s))).toEqual([[0, 1], [0, 1], [2], [3]]);
    const b = thresholdMatches(nb, { maxDistance: 0.3 });
    expect(b.map((s) => Array.from(s))).toEqual([[0, 1], [0, 1], [2, 3], [2, 3]]);
    expect(thresholdMatches(nb, { maxDistance: 1, maxMatches: 1 }).map((s) => s.length)).toEqual([2, 2, 2, 2]);
    expect(() => thresholdMatches(nb, { maxDistance: Number.NaN })).toThrow(/finite/);
  });

  it("applyMin2 matches thresholdMatches' min-2", () => {
    const a = applyMin2(thresholdMatches(nb, { maxDistance: 0.3, min2: false }), nb);
    expect(a).toEqual(thresholdMatches(nb, { maxDistance: 0.3 }));
  });

  it("union and intersection work posting by posting and keep self", () => {
    const x = [Int32Array.of(0, 1), Int32Array.of(1), Int32Array.of(2)];
    const y = [Int32Array.of(0, 2), Int32Array.of(1, 2), Int32Array.of(1, 2)];
    expect(combineMatches([x, y], "union").map((s) => Array.from(s))).toEqual([[0, 1, 2], [1, 2], [1, 2]]);
    expect(combineMatches([x, y], "intersection").map((s) => Array.from(s))).toEqual([[0], [1], [2]]);
    expect(() => combineMatches([x, y.slice(1)])).toThrow(/branch 1 has 2 postings/);
    expect(() => combineMatches([x], "xor" as never)).toThrow(/expected union\|intersection/);
  });

  it("exact-key matches group equal keys, ignore empty and huge groups", () => {
    const m = exactKeyMatches(["a", "b", "a", "", "c", "c", "c"], { maxGroup: 2 });
    expect(m.map((s) => Array.from(s))).toEqual([[0, 2], [1], [0, 2], [3], [4], [5], [6]]);
    expect(normalizeTitle("  Red APPLE, fresh!! ")).toBe("red apple fresh");
  });

  it("neighbourhood blending equals a naive weighted sum and improves F1 on noisy clusters", async () => {
    const { data, dim, labels } = clustered(4, 30, 4, 16, 1.2);
    const r = await knnSearch(data, dim, { k: 6, engine: "js", label: null });
    const blended = neighbourhoodBlend(data, dim, r, { topK: 3 });
    // naive: row 0
    const x = l2NormalizeRows(data, dim);
    const acc = new Float64Array(dim);
    for (let t = 0; t < 3; t++) {
      const j = r.indices[t]!;
      const w = 1 - r.distances[t]!;
      for (let c = 0; c < dim; c++) acc[c]! += w * x[j * dim + c]!;
    }
    const norm = Math.hypot(...acc);
    for (let c = 0; c < dim; c++) expect(blended[c]).toBeCloseTo(acc[c]! / norm, 5);

    // compare each at its own best threshold (blending shrinks distances)
    const before = bestThreshold(r, labels).f1;
    const { neighbours } = await iterativeBlend(data, dim, { stages: 2, topK: 3, knn: { k: 6, engine: "js" } });
    const after = bestThreshold(neighbours, labels).f1;
    expect(after).toBeGreaterThan(before);
  });

  it("iterativeBlend with folds searches within folds only", async () => {
    const { data, dim } = clustered(8, 12, 3, 8);
    const folds = Int32Array.from({ length: 36 }, (_, i) => i % 2);
    const { neighbours, embeddings } = await iterativeBlend(data, dim, { stages: 1, folds, knn: { k: 4, engine: "js" } });
    expect(embeddings.length).toBe(data.length);
    for (let i = 0; i < 36; i++) for (let t = 0; t < 4; t++) expect(folds[neighbours.indices[i * 4 + t]!]).toBe(folds[i]);
  });

  it("knnWithinFolds never crosses folds and returns global indices", async () => {
    const { data, dim } = clustered(5, 10, 4, 8);
    const folds = Int32Array.from({ length: 40 }, (_, i) => i % 3);
    const r = await knnWithinFolds(data, dim, folds, { k: 5, engine: "js", label: null });
    for (let i = 0; i < 40; i++) {
      expect(r.indices[i * 5]).toBe(i);
      for (let t = 0; t < 5; t++) expect(folds[r.indices[i * 5 + t]!]).toBe(folds[i]);
    }
  });
});
