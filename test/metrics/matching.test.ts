import { describe, expect, it } from "vitest";
import { f1ByGroupSize, f1BySizeBand, groupSizes, mapAtR, matchF1, matchScores, precisionAt1 } from "../../src/metrics/matching";
import { Rng } from "../../src/rng";

/** Naive reference: sets and filters, no shared code with the implementation. */
function naiveScores(pred: number[][], labels: number[]) {
  const f1: number[] = [];
  const p: number[] = [];
  const r: number[] = [];
  labels.forEach((l, i) => {
    const P = new Set([i, ...pred[i]!]);
    const T = new Set(labels.map((x, j) => (x === l ? j : -1)).filter((j) => j >= 0));
    const inter = [...P].filter((j) => T.has(j)).length;
    f1.push((2 * inter) / (P.size + T.size));
    p.push(inter / P.size);
    r.push(inter / T.size);
  });
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  return { f1: mean(f1), precision: mean(p), recall: mean(r), perF1: f1 };
}

function naiveMapAtR(ranked: number[][], labels: number[]) {
  const aps: number[] = [];
  labels.forEach((l, i) => {
    const R = labels.filter((x) => x === l).length - 1;
    if (R === 0) return;
    const list = ranked[i]!.filter((j) => j !== i && j >= 0).slice(0, R);
    let s = 0;
    for (let k = 0; k < list.length; k++) {
      if (labels[list[k]!] !== l) continue;
      const relUpTo = list.slice(0, k + 1).filter((j) => labels[j] === l).length;
      s += relUpTo / (k + 1);
    }
    aps.push(s / R);
  });
  return aps.length ? aps.reduce((a, b) => a + b, 0) / aps.length : 0;
}

function naiveP1(ranked: number[][], labels: number[]) {
  let q = 0;
  let hit = 0;
  labels.forEach((l, i) => {
    if (labels.filter((x) => x === l).length < 2) return;
    q++;
    const first = ranked[i]!.find((j) => j !== i && j >= 0);
    if (first !== undefined && labels[first] === l) hit++;
  });
  return q ? hit / q : 0;
}

function randomCase(seed: number) {
  const rng = new Rng(seed);
  const n = 4 + rng.int(40);
  const labels = Array.from({ length: n }, () => rng.int(Math.max(2, n >> 1)));
  const pred = labels.map((_, i) => {
    const m = rng.int(6);
    const s: number[] = [];
    for (let t = 0; t < m; t++) s.push(rng.bool(0.5) ? labels.indexOf(labels[i]!, rng.int(n)) : rng.int(n));
    return s.map((j) => (j < 0 ? i : j));
  });
  const k = 1 + rng.int(8);
  const ranked = labels.map((_, i) => {
    const perm = Array.from(rng.permutation(n));
    const row = perm.slice(0, k);
    if (rng.bool(0.3)) row[row.length - 1] = -1;
    if (rng.bool(0.5)) row.unshift(i);
    return row.slice(0, k);
  });
  return { labels, pred, ranked, k };
}

describe("matching metrics", () => {
  it("hand-computed case: self counts, duplicates count once", () => {
    // groups: {0,1} and {2}
    const s = matchScores([[1], [], [2, 2]], [5, 5, 7]);
    expect(Array.from(s.perPosting.f1)).toEqual([1, 2 / 3, 1]);
    expect(s.f1).toBeCloseTo((1 + 2 / 3 + 1) / 3, 12);
    expect(Array.from(s.perPosting.recall)).toEqual([1, 0.5, 1]);
    const noSelf = matchScores([[1], [], [0]], [5, 5, 7], { addSelf: false });
    expect(Array.from(noSelf.perPosting.precision)).toEqual([1, 0, 0]);
    expect(() => matchScores([[3], [], []], [1, 1, 2])).toThrow(/lists index 3/);
  });

  it("equals the naive set reference on random cases", () => {
    for (let seed = 0; seed < 30; seed++) {
      const { labels, pred } = randomCase(seed);
      const s = matchScores(pred, labels);
      const ref = naiveScores(pred, labels);
      expect(s.f1).toBeCloseTo(ref.f1, 12);
      expect(s.precision).toBeCloseTo(ref.precision, 12);
      expect(s.recall).toBeCloseTo(ref.recall, 12);
      expect(matchF1(pred, labels)).toBeCloseTo(ref.f1, 12);
      // F1 by group size: weighted mean of the rows gives back the mean F1
      const rows = f1ByGroupSize(s, labels);
      const sizes = groupSizes(labels);
      // bands that double (1, 2, 3–4, 5–8, …): each the mean over the postings whose size is in it
      const bands = f1BySizeBand(s, labels);
      expect(bands.reduce((a, b) => a + b.count, 0)).toBe(labels.length);
      for (const b of bands) {
        expect(b.to === 1 || b.to === 2 || b.from === b.to / 2 + 1).toBe(true);
        const members = labels.map((_, i) => i).filter((i) => sizes[i]! >= b.from && sizes[i]! <= b.to);
        expect(b.count).toBe(members.length);
        expect(b.groups).toBeCloseTo(new Set(members.map((i) => labels[i])).size, 9);
        expect(b.f1).toBeCloseTo(members.reduce((a, i) => a + ref.perF1[i]!, 0) / members.length, 12);
      }
      for (const r of rows) {
        const members = labels.map((_, i) => i).filter((i) => sizes[i] === r.size);
        expect(r.count).toBe(members.length);
        expect(r.f1).toBeCloseTo(members.reduce((a, i) => a + ref.perF1[i]!, 0) / members.length, 12);
      }
    }
  });

  it("precision@1 and MAP@R equal naive references", () => {
    for (let seed = 100; seed < 130; seed++) {
      const { labels, ranked, k } = randomCase(seed);
      const indices = new Int32Array(labels.length * k).fill(-1);
      ranked.forEach((row, i) => {
        for (let t = 0; t < row.length; t++) indices[i * k + t] = row[t]!;
      });
      const padded = ranked.map((_, i) => Array.from(indices.subarray(i * k, (i + 1) * k)));
      expect(precisionAt1({ indices, k }, labels)).toBeCloseTo(naiveP1(padded, labels), 12);
      expect(mapAtR({ indices, k }, labels)).toBeCloseTo(naiveMapAtR(padded, labels), 12);
    }
  });

  it("MAP@R hand case", () => {
    // query 0, group {0,1,2}: R = 2; ranking [0(self), 3, 1] → ranks: 3 (miss), 1 (hit at 2) → (1/2)/2
    const labels = [1, 1, 1, 2];
    const k = 3;
    const indices = new Int32Array([0, 3, 1, 1, 0, 2, 2, 0, 1, 3, 0, 1]);
    expect(mapAtR({ indices, k }, labels)).toBeCloseTo((0.25 + 1 + 1) / 3, 12);
    expect(precisionAt1({ indices, k }, labels)).toBeCloseTo(2 / 3, 12);
  });
});
