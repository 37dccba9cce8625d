import { describe, expect, it } from "vitest";
import type { Listing } from "../../src/data/dataset";
import { CLASSIFY_METRICS_COLUMNS, classificationMetrics, classifierText, classifyMetricsRow, encodeClassLabels, missingMetricsColumns } from "../../src/imbalance/index";

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
    expect(e.names).toEqual(["animal", "face"]);
    expect(Array.from(e.codes)).toEqual([1, 0, 1]);
    expect(Array.from(e.counts)).toEqual([1, 2]);
    const r = encodeClassLabels([...ls].reverse(), "subgroup");
    expect(r.names).toEqual(e.names);
    expect(encodeClassLabels(ls, "label_group").names).toEqual(["g1", "g2", "g3"]);
  });

  it("names an unknown column and empty values", () => {
    expect(() => encodeClassLabels([listing("1", "x")], "colour")).toThrow(/unknown label column: colour \(expected label_group\|posting_id\|title\|subgroup\|tags\)/);
    expect(() => encodeClassLabels([listing("1", "x"), listing("2", "")], "subgroup")).toThrow(/row 1 \(posting_id 2\)/);
  });
});

describe("classifierText", () => {
  it("appends '|'-joined tags only with tags", () => {
    const l = listing("7", "x", "cat|pet|whiskers");
    expect(classifierText(l, false)).toBe("title 7");
    expect(classifierText(l, true)).toBe("title 7 cat pet whiskers");
    expect(classifierText(listing("8", "x", ""), true)).toBe("title 8");
    const noTags = { ...l, extra: {} };
    expect(() => classifierText(noTags, true)).toThrow(/no tags column/);
  });
});

describe("classification metrics rows", () => {
  it("matches a hand-computed case", () => {
    // 4 samples, 3 classes; argmax: 0, 2, 2, 1; labels 0, 1, 2, 1
    const scores = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.1, 0.7, 0.1, 0.5, 0.4];
    const m = classificationMetrics([0, 1, 2, 1], scores, 3, 0.25);
    expect(m.loss).toBe(0.25);
    expect(m.accuracy).toBe(0.75);
    expect(m.top5).toBe(1); // top-min(5, 3) = top-3 covers every class
    // per class P: 1, 1, 1/2; R: 1, 1/2, 1; F1: 1, 2/3, 2/3
    expect(m.macro_precision).toBeCloseTo((1 + 1 + 0.5) / 3, 12);
    expect(m.macro_recall).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
    expect(m.macro_f1).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3, 12);
    expect(m.micro_f1).toBeCloseTo(0.75, 12);
  });

  it("flattens train and val into the metrics.csv columns", () => {
    const m = classificationMetrics([0, 1], [1, 0, 0, 1], 2, 0.5);
    const row = classifyMetricsRow(3, m, m);
    expect(Object.keys(row)).toEqual(CLASSIFY_METRICS_COLUMNS);
    expect(row.epoch).toBe(3);
    expect(row.val_accuracy).toBe(1);
    expect(CLASSIFY_METRICS_COLUMNS).toContain("train_top5");
    expect(CLASSIFY_METRICS_COLUMNS).toContain("val_micro_recall");
    expect(missingMetricsColumns(CLASSIFY_METRICS_COLUMNS)).toEqual([]);
    expect(missingMetricsColumns(["epoch", "train_loss"])).toContain("val_macro_f1");
  });
});
