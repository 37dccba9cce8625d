import { describe, expect, it } from "vitest";
import type { Listing } from "../../src/data/dataset";
import { listingGroupSizes, phashDuplicates, sizeBucket } from "../../src/data/stats";
import { foldSummary, validGroupSizes } from "../../src/folds/summary";
import { foldsFromAssignment } from "../../src/folds/types";

const L = (id: string, g: string, ph: string): Listing => ({ postingId: id, image: `${id}.png`, imagePath: `/x/${id}.png`, imagePhash: ph, title: id, labelGroup: g, extra: {} });

describe("dataset and fold summaries", () => {
  const ls = [L("a", "g1", "h1"), L("b", "g1", "h1"), L("c", "g2", "h1"), L("d", "g2", "h2"), L("e", "g3", ""), L("f", "g3", "")];

  it("counts group sizes and buckets them", () => {
    expect([...listingGroupSizes(ls)]).toEqual([["g1", 2], ["g2", 2], ["g3", 2]]);
    expect([1, 4, 5, 9].map((s) => sizeBucket(s, 5))).toEqual(["1", "4", "5+", "5+"]);
  });

  it("finds identical phashes and how many groups they span, ignoring empty ones", () => {
    expect(phashDuplicates(ls)).toEqual([{ phash: "h1", rows: [0, 1, 2], labelGroups: 2 }]);
  });

  it("summarises folds against a naive count", () => {
    const groups = ls.map((l) => l.labelGroup);
    const folds = foldsFromAssignment(Int32Array.from([0, 1, 0, 0, 1, 1]), 2);
    expect(foldSummary(folds, groups)).toEqual([
      { fold: 0, train: 3, valid: 3, validGroups: 2, leakedGroups: 1, aloneInValid: 1 },
      { fold: 1, train: 3, valid: 3, validGroups: 2, leakedGroups: 1, aloneInValid: 1 },
    ]);
    expect(Array.from(validGroupSizes(folds[0]!, groups))).toEqual([1, 2, 2]);
  });
});
