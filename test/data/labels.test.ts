import { describe, expect, it } from "vitest";
import type { Listing } from "../../src/data/dataset";
import { encodeClassLabels, listingText } from "../../src/data/labels";

const listing = (id: string, subgroup: string, tags = "a|b"): Listing => ({
  postingId: id,
  image: `${id}.png`,
  imagePath: `/x/${id}.png`,
  imagePhash: "",
  title: `title ${id}`,
  labelGroup: `g${id}`,
  extra: { subgroup, tags },
});

describe("encodeClassLabels", () => {
  it("codes sorted names, independent of row order", () => {
    const ls = [listing("1", "face"), listing("2", "animal"), listing("3", "face")];
    const e = encodeClassLabels(ls, "subgroup");
    expect(e.column).toBe("subgroup");
    expect(e.names).toEqual(["animal", "face"]);
    expect(Array.from(e.codes)).toEqual([1, 0, 1]);
    expect(Array.from(e.counts)).toEqual([1, 2]);
    const r = encodeClassLabels([...ls].reverse(), "subgroup");
    expect(r.names).toEqual(e.names);
    expect(Array.from(r.codes)).toEqual([1, 0, 1]);
    expect(encodeClassLabels(ls, "label_group").names).toEqual(["g1", "g2", "g3"]);
  });

  it("names an unknown column, empty values and an empty list", () => {
    expect(() => encodeClassLabels([listing("1", "x")], "colour")).toThrow(/unknown label column: colour \(expected label_group\|posting_id\|title\|subgroup\|tags\)/);
    expect(() => encodeClassLabels([listing("1", "x"), listing("2", "")], "subgroup")).toThrow(/label column subgroup: 1 listing\(s\) have no value: row 1 \(posting_id 2\)/);
    expect(() => encodeClassLabels([], "subgroup")).toThrow(/no listings/);
  });
});

describe("listingText", () => {
  it("appends '|'-joined tags only with tags", () => {
    const l = listing("7", "x", "cat|pet|whiskers");
    expect(listingText(l, false)).toBe("title 7");
    expect(listingText(l, true)).toBe("title 7 cat pet whiskers");
    expect(listingText(listing("8", "x", ""), true)).toBe("title 8");
    const noTags = { ...l, extra: {} };
    expect(listingText(noTags, false)).toBe("title 7");
    expect(() => listingText(noTags, true)).toThrow(/listing 7 has no tags column/);
  });
});
