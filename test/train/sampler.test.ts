import { describe, expect, it } from "vitest";
import { balancedBatchSource, classBalancedSampler } from "../../src/train/sampler";
import type { Batch } from "../../src/train/learner";

// a long tail: class 0 has 64 items, class 1 16, class 2 4, class 3 1
const labels = [...Array(64).fill(0), ...Array(16).fill(1), ...Array(4).fill(2), 3];

function classFreq(items: ArrayLike<number>): number[] {
  const f = [0, 0, 0, 0];
  for (let i = 0; i < items.length; i++) f[labels[items[i]!]!]! += 1 / items.length;
  return f;
}

describe("classBalancedSampler", () => {
  it("gives class probabilities ∝ n^α by hand", () => {
    expect(Array.from(classBalancedSampler(labels, { alpha: 0 }).classProbs)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const nat = classBalancedSampler(labels, { alpha: 1 }).classProbs;
    [64 / 85, 16 / 85, 4 / 85, 1 / 85].forEach((p, i) => {
      expect(nat[i]).toBeCloseTo(p, 12);
    });
    // α = 0.5: √n = 8, 4, 2, 1 → /15
    const sq = classBalancedSampler(labels, { alpha: 0.5 }).classProbs;
    [8 / 15, 4 / 15, 2 / 15, 1 / 15].forEach((p, i) => {
      expect(sq[i]).toBeCloseTo(p, 12);
    });
    // an item of class 2 under α = 0: 1/4 · 1/4
    expect(classBalancedSampler(labels, { alpha: 0 }).itemProbability(80)).toBeCloseTo(1 / 16, 12);
  });

  it("draws classes with the target distribution (within 0.015 over 40k draws)", () => {
    for (const alpha of [0, 0.5, 1]) {
      const s = classBalancedSampler(labels, { alpha, seed: 3 });
      const f = classFreq(s.take(40000));
      s.classProbs.forEach((p, c) => {
        expect(Math.abs(f[c]! - p)).toBeLessThan(0.015);
      });
    }
  });

  it("draws items uniformly within a class", () => {
    const s = classBalancedSampler(labels, { alpha: 0, seed: 5 });
    const hits = new Map<number, number>();
    for (const i of s.take(40000)) if (labels[i] === 2) hits.set(i, (hits.get(i) ?? 0) + 1);
    expect([...hits.keys()].sort((a, b) => a - b)).toEqual([80, 81, 82, 83]);
    const total = [...hits.values()].reduce((a, b) => a + b, 0);
    for (const v of hits.values()) expect(Math.abs(v / total - 0.25)).toBeLessThan(0.03);
  });

  it("is deterministic under a seed and differs across seeds", () => {
    const a = classBalancedSampler(labels, { alpha: 0.3, seed: 11 }).take(200);
    const b = classBalancedSampler(labels, { alpha: 0.3, seed: 11 }).take(200);
    const c = classBalancedSampler(labels, { alpha: 0.3, seed: 12 }).take(200);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("resumes exactly from a saved state", () => {
    const s = classBalancedSampler(labels, { seed: 9 });
    const first = s.take(50);
    const st = JSON.parse(JSON.stringify(s.state()));
    const rest = s.take(50);
    const t = classBalancedSampler(labels, { seed: 9 });
    t.loadState(st);
    expect(Array.from(t.take(50))).toEqual(Array.from(rest));
    expect(t.state().drawn).toBe(100);
    expect(first.length).toBe(50);
    expect(() => t.loadState({} as never)).toThrow(/expected \{rng/);
  });

  it("epoch(e) is a pure function of (seed, e)", () => {
    const s = classBalancedSampler(labels, { seed: 2, numSamples: 30 });
    const e1 = s.epoch(1);
    s.take(77); // the stream does not affect epochs
    expect(Array.from(s.epoch(1))).toEqual(Array.from(e1));
    expect(Array.from(s.epoch(2))).not.toEqual(Array.from(e1));
    expect(e1.length).toBe(30);
  });

  it("rejects bad options", () => {
    expect(() => classBalancedSampler(labels, { alpha: -1 })).toThrow(/alpha/);
    expect(() => classBalancedSampler(labels, { numSamples: 0 })).toThrow(/numSamples/);
    expect(() => classBalancedSampler([])).toThrow(/no labels/);
    expect(() => classBalancedSampler(labels).itemProbability(999)).toThrow(/item 999/);
  });

  it("balancedBatchSource maps Learner positions to the epoch's draws", async () => {
    const seen: number[][] = [];
    const src = {
      size: labels.length,
      makeBatch(rows: Int32Array): Batch {
        seen.push(Array.from(rows));
        return { inputs: [], labels: null as never, indices: rows };
      },
    };
    const s = classBalancedSampler(labels, { seed: 4, numSamples: 20 });
    const wrapped = balancedBatchSource(src, s);
    expect(wrapped.size).toBe(20);
    await wrapped.makeBatch(Int32Array.from([0, 5, 19]), 3);
    const e3 = s.epoch(3);
    expect(seen[0]).toEqual([e3[0], e3[5], e3[19]]);
  });
});
