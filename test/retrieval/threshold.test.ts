import { describe, expect, it } from "vitest";
import {
  THRESHOLD_KINDS,
  asDistance,
  asSimilarity,
  convertThreshold,
  distanceThreshold,
  formatThreshold,
  matchesDistance,
  matchesSimilarity,
  similarityThreshold,
  type Threshold,
  thresholdOf,
} from "../../src/retrieval/threshold";

describe("Threshold: which way a threshold runs", () => {
  it("has two frozen kinds", () => {
    expect(THRESHOLD_KINDS).toEqual(["distance", "similarity"]);
    expect(Object.isFrozen(THRESHOLD_KINDS)).toBe(true);
  });

  it("builds thresholds and rejects unknown kinds and non-finite values", () => {
    expect(distanceThreshold(0.35)).toEqual({ kind: "distance", value: 0.35 });
    expect(similarityThreshold(0.65)).toEqual({ kind: "similarity", value: 0.65 });
    expect(thresholdOf("similarity", 0.5)).toEqual({ kind: "similarity", value: 0.5 });
    expect(() => thresholdOf("cosine", 0.5)).toThrow(/unknown threshold kind: cosine \(expected distance\|similarity\)/);
    expect(() => distanceThreshold(Number.NaN)).toThrow(/distance threshold must be a finite number, got NaN/);
    expect(() => similarityThreshold(Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(() => asDistance({ kind: "dist", value: 1 } as unknown as Threshold)).toThrow(/unknown threshold kind: dist/);
  });

  it("converts with cosine distance = 1 − similarity, both ways", () => {
    expect(asDistance(distanceThreshold(0.35))).toBe(0.35);
    expect(asSimilarity(similarityThreshold(0.65))).toBe(0.65);
    expect(asDistance(similarityThreshold(0.65))).toBeCloseTo(0.35, 12);
    expect(asSimilarity(distanceThreshold(0.35))).toBeCloseTo(0.65, 12);
    const c = convertThreshold(distanceThreshold(0.25), "similarity");
    expect(c.kind).toBe("similarity");
    expect(c.value).toBeCloseTo(0.75, 12);
    expect(convertThreshold(similarityThreshold(0.75), "similarity")).toEqual(similarityThreshold(0.75));
    for (const v of [-0.2, 0, 0.3, 1, 1.7]) expect(asDistance(convertThreshold(distanceThreshold(v), "similarity"))).toBeCloseTo(v, 12);
  });

  it("matches a distance with ≤ and a similarity with ≥, whichever kind the threshold is", () => {
    const d = distanceThreshold(0.4);
    expect(matchesDistance(d, 0.4)).toBe(true); // same kind: exact, boundary included
    expect(matchesDistance(d, 0.41)).toBe(false);
    expect(matchesSimilarity(d, 0.7)).toBe(true);
    expect(matchesSimilarity(d, 0.5)).toBe(false);
    const s = similarityThreshold(0.6);
    expect(matchesSimilarity(s, 0.6)).toBe(true);
    expect(matchesSimilarity(s, 0.59)).toBe(false);
    expect(matchesDistance(s, 0.3)).toBe(true);
    expect(matchesDistance(s, 0.5)).toBe(false);
    // the two kinds agree away from the boundary (naive loop over a grid)
    for (let i = 0; i <= 100; i++) {
      const dist = i / 50;
      if (Math.abs(dist - 0.4) < 1e-9) continue;
      expect(matchesDistance(d, dist)).toBe(matchesSimilarity(d, 1 - dist));
      expect(matchesDistance(convertThreshold(d, "similarity"), dist)).toBe(dist <= 0.4);
    }
  });

  it("formats the rule with its direction", () => {
    expect(formatThreshold(distanceThreshold(0.35))).toBe("distance ≤ 0.35");
    expect(formatThreshold(similarityThreshold(0.65))).toBe("similarity ≥ 0.65");
    expect(formatThreshold(similarityThreshold(0.123456))).toBe("similarity ≥ 0.123");
    expect(formatThreshold(distanceThreshold(0.123456), 1)).toBe("distance ≤ 0.1");
    expect(formatThreshold(distanceThreshold(1))).toBe("distance ≤ 1");
  });
});
