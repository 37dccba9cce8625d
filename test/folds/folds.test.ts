import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  assertNoLeakage,
  columnForSplit,
  groupKFold,
  kFold,
  leakageReport,
  loadFolds,
  makeFolds,
  saveFolds,
  stratifiedGroupKFold,
  stratifiedKFold,
  unseenLabelSplit,
} from "../../src/folds/index";
import { pairwiseSum } from "../../src/folds/numpy_compat";
import { Rng } from "../../src/rng";

function shopeeGroups(n: number, seed: number): string[] {
  const r = new Rng(seed);
  const out: string[] = [];
  let g = 0;
  while (out.length < n) {
    const size = 2 + r.int(r.bool(0.1) ? 20 : 3);
    for (let j = 0; j < size && out.length < n; j++) out.push(`g${g}`);
    g++;
  }
  return new Rng(seed + 1).shuffle(out);
}

function checkPartition(split: { folds: { train: Int32Array; valid: Int32Array }[]; assignment: Int32Array }, n: number) {
  const seen = new Int32Array(n);
  split.folds.forEach((f, i) => {
    expect(f.train.length + f.valid.length).toBe(n);
    for (const v of f.valid) {
      seen[v]!++;
      expect(split.assignment[v]).toBe(i);
    }
    const t = new Set(f.train);
    for (const v of f.valid) expect(t.has(v)).toBe(false);
  });
  expect(Array.from(seen).every((s) => s === 1)).toBe(true);
}

describe("fold splitters", () => {
  const groups = shopeeGroups(300, 3);
  const labels = groups.map((g) => Number(g.slice(1)) % 4);

  it("each scheme partitions the rows into k validation sets", () => {
    for (const s of [
      kFold(300, { k: 5 }),
      kFold(300, { k: 5, shuffle: true, seed: 1 }),
      stratifiedKFold(labels, { k: 5, shuffle: true, seed: 1 }),
      groupKFold(groups, { k: 5 }),
      groupKFold(groups, { k: 5, shuffle: true, seed: 2 }),
      stratifiedGroupKFold(labels, groups, { k: 4, shuffle: true, seed: 3 }),
      unseenLabelSplit(groups, { k: 5, seed: 4 }),
    ]) {
      checkPartition(s, 300);
      expect(s.folds).toHaveLength(s.k);
    }
  });

  it("is deterministic from the seed and changes with it", () => {
    const a = unseenLabelSplit(groups, { k: 5, seed: 9 });
    expect(Array.from(unseenLabelSplit(groups, { k: 5, seed: 9 }).assignment)).toEqual(Array.from(a.assignment));
    expect(Array.from(unseenLabelSplit(groups, { k: 5, seed: 10 }).assignment)).not.toEqual(Array.from(a.assignment));
    const b = kFold(50, { k: 5, shuffle: true, seed: 9 });
    expect(Array.from(kFold(50, { k: 5, shuffle: true, seed: 9 }).assignment)).toEqual(Array.from(b.assignment));
    expect(b.seed).toBe(9);
  });

  it("grouped schemes never leak a group; random k-fold does, and the check says where", () => {
    for (const s of [groupKFold(groups), stratifiedGroupKFold(labels, groups), unseenLabelSplit(groups, { seed: 1 })]) {
      expect(() => assertNoLeakage(s, groups)).not.toThrow();
      expect(leakageReport(s, groups).every((r) => r.leakedGroups === 0)).toBe(true);
    }
    const random = kFold(300, { shuffle: true, seed: 0 });
    const rep = leakageReport(random, groups);
    expect(rep.some((r) => r.leakedGroups > 0)).toBe(true);
    expect(() => assertNoLeakage(random, groups)).toThrow(/fold \d: \d+ of \d+ validation label_groups also in train \(\d+ rows\), e\.g\. g\d+/);
  });

  it("unseen-label folds have balanced sizes and groups spread at random", () => {
    const s = unseenLabelSplit(groups, { k: 5, seed: 0 });
    const sizes = s.folds.map((f) => f.valid.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(22);
  });

  it("rejects bad k and unknown schemes with what would be right", () => {
    expect(() => kFold(3, { k: 5 })).toThrow(/k=5 folds with only 3 rows/);
    expect(() => groupKFold(["a", "a", "b"], { k: 3 })).toThrow(/only 2 groups/);
    expect(() => kFold(10, { k: 1 })).toThrow(/k must be an integer >= 2/);
    expect(() => makeFolds("random" as never, { n: 10 })).toThrow(/unknown fold scheme: random \(expected kfold\|stratified\|group\|stratified-group\|unseen\)/);
    expect(() => makeFolds("group", { n: 10 })).toThrow(/needs groups/);
    expect(stratifiedKFold(["a", "a", "a", "b"], { k: 3 }).warnings[0]).toMatch(/only 1 members, fewer than k=3/);
  });

  it("saves posting_id,fold with a JSON sidecar, and loads them back", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-folds-"));
    const file = path.join(dir, "folds.csv");
    const ids = groups.map((_, i) => `id,${i}`); // a comma forces quoting
    const s = groupKFold(groups, { k: 4 });
    saveFolds(file, ids, s, { group: "label_group" });
    const text = readFileSync(file, "utf8");
    expect(text.split("\n")[0]).toBe("posting_id,fold");
    expect(text.split("\n")[1]).toBe(`"id,0",${s.assignment[0]}`);
    const meta = JSON.parse(readFileSync(`${file}.json`, "utf8"));
    expect(meta).toMatchObject({ scheme: "group", k: 4, seed: 0, shuffle: false, rows: 300, group: "label_group" });
    const back = loadFolds(file, [...ids].reverse());
    expect(back.split.assignment[0]).toBe(s.assignment[299]);
    expect(back.split.scheme).toBe("group");
    expect(() => loadFolds(file, ["nope"])).toThrow(/posting_id nope has no fold/);
  });

  it("reads numeric columns as numbers (pandas order) and others as strings", () => {
    expect(columnForSplit(["10", "9", "100"])).toEqual([10, 9, 100]);
    expect(columnForSplit(["10", "x"])).toEqual(["10", "x"]);
  });

  it("pairwise summation matches numpy's order (differs from a plain loop)", () => {
    const a = Float64Array.from({ length: 300 }, (_, i) => 1 / (i + 1) + 1e-3 * Math.sin(i));
    let plain = 0;
    for (const v of a) plain += v;
    expect(pairwiseSum(a)).toBeCloseTo(plain, 12);
  });
});
